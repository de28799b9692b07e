"""Offline money and refunds: record cash or cheques, confirm or reject a participant's cash,
refund a donation, correct Gift Aid details."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.donations import offline
from app.donations.gift_aid import claim_problems
from app.money import format_pence
from app.organiser import forms, service
from app.organiser.gift_aid_fix import correct_gift_aid
from app.organiser.refunds import RefundNotPossible, refund, refundable_pence
from app.organiser.rendering import dashboard_page, donation_or_404, donation_page, forms_for

bp = Blueprint("money", __name__)


@bp.route("/offline/new", methods=["GET", "POST"])
def record_offline():
    """Record cash or a cheque in hand, for the event or a participant: it counts at once."""
    form = forms.OfflineDonationForm(recipients=service.page_choices())
    if form.validate_on_submit():
        donation = offline.record_offline(
            current_user,
            form.amount_pence,
            service.recipient_page(form.recipient.data),
            method=form.method.data,
            received_at=form.received_at(),
            donor_name=form.donor_name.data or "",
            donor_email=form.donor_email.data or "",
            anonymous=form.anonymous.data,
            keep_in_touch=bool(form.keep_in_touch.data),
            note=form.note.data or "",
            gift_aid=form.gift_aid_details() if form.gift_aid.data else None,
        )
        flash(
            f"Recorded {format_pence(donation.amount_pence)}. It counts now.{_as_sent(form)}",
            "success",
        )
        return redirect(url_for("organiser.money.record_offline"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/offline.html", form=form), status


@bp.post("/donations/<int:donation_id>/confirm")
def confirm_cash(donation_id: int):
    """Count a participant's reported cash."""
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        donation, changed = offline.confirm_cash(donation_id, current_user)
        if donation is None:
            abort(404)
        flash(_cash_message(donation, changed, "is counted"), "success" if changed else "info")
    return _after_cash(donation_id)


@bp.post("/donations/<int:donation_id>/reject")
def reject_cash(donation_id: int):
    """Don't count a participant's reported cash, saying why."""
    form = forms.RejectForm(prefix=f"reject-{donation_id}")
    if not form.validate_on_submit():
        if request.htmx or request.form.get("next") == "dashboard":
            return _cash_waiting(failed={f"reject-{donation_id}": form}), 422
        return donation_page(donation_id, 422, reject_form=form)
    donation, changed = offline.reject_cash(donation_id, current_user, form.reason.data)
    if donation is None:
        abort(404)
    flash(_cash_message(donation, changed, "is not counted"), "success" if changed else "info")
    return _after_cash(donation_id)


def _cash_message(donation, changed: bool, outcome: str) -> str:
    amount = format_pence(donation.amount_pence)
    if changed:
        return f"The {amount} reported cash {outcome}. The participant has been told."
    return "Another organiser has already dealt with that cash."


def _after_cash(donation_id: int):
    if request.htmx:
        # The totals poll would catch up within seconds; this makes them catch up now.
        return _cash_waiting(), {"HX-Trigger": "totals-changed"}
    if request.form.get("next") == "dashboard":
        return redirect(url_for("organiser.dashboard") + "#cash-waiting", 303)
    return redirect(url_for("organiser.show_donation", donation_id=donation_id), 303)


def _cash_waiting(failed=None):
    """The cash-waiting list: the fragment for htmx, else the dashboard around it."""
    reject_form = forms_for(lambda key: forms.RejectForm(formdata=None, prefix=key), failed)
    if request.htmx:
        return render_template(
            "organiser/_cash_waiting.html", waiting=service.waiting_cash(), reject_form=reject_form
        )
    return dashboard_page(reject_form=reject_form)


@bp.post("/donations/<int:donation_id>/refund")
def refund_donation(donation_id: int):
    """Refund all or part of a donation (through Stripe for card payments)."""
    donation = donation_or_404(donation_id)
    form = forms.RefundForm(refundable_pence=refundable_pence(donation))
    if form.validate_on_submit():
        try:
            message = refund(
                donation_id,
                current_user,
                form.amount_pence,
                form.refund_key.data,
                form.reason.data or "",
            )
        except RefundNotPossible as exc:
            form.amount.errors.append(str(exc))
        else:
            flash(message, "success")
            return redirect(url_for("organiser.show_donation", donation_id=donation_id), 303)
    return donation_page(donation_id, 422, refund_form=form)


@bp.post("/donations/<int:donation_id>/review")
def decide_held_donation(donation_id: int):
    """Count a donation held for review as what Stripe took, saying why."""
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        return donation_page(donation_id, 422, review_form=form)
    if not service.count_held(donation_id, current_user, form.note.data):
        flash("That donation is not held for review (another organiser may have decided).", "info")
    else:
        flash("Counted as Stripe took it. The totals are updated.", "success")
    return redirect(url_for("organiser.show_donation", donation_id=donation_id), 303)


@bp.post("/donations/<int:donation_id>/gift-aid")
def correct_donation_gift_aid(donation_id: int):
    """Correct a donor's Gift Aid name or address, saying where the correction came from."""
    donation_or_404(donation_id)
    form = forms.GiftAidCorrectionForm()
    if form.validate_on_submit():
        donation = correct_gift_aid(donation_id, form.gift_aid_details(), form.reason.data)
        if donation is None:
            abort(404)  # not a Gift Aid donation: there is nothing to correct
        problems = claim_problems(donation)
        if problems:
            flash("Saved. The Gift Aid still can't be claimed: " + "; ".join(problems), "info")
        else:
            flash(
                f"The Gift Aid details are corrected: its Gift Aid can be claimed.{_as_sent(form)}",
                "success",
            )
        return redirect(url_for("organiser.show_donation", donation_id=donation_id), 303)
    return donation_page(donation_id, 422, gift_aid_form=form)


def _as_sent(form) -> str:
    """A word on how HMRC will read the Gift Aid name, when cleaning changed its letters."""
    cleaned = form.cleaned
    if cleaned is None or not cleaned.changed:
        return ""
    return (
        f" HMRC will read the Gift Aid details as: {cleaned.name_as_sent}, {cleaned.as_sent.house}."
    )
