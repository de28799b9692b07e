"""Gift Aid needs attention: declarations that cannot be claimed yet, what is missing, and
the email that asks the donor for it."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.organiser import forms
from app.organiser.gift_aid_fix import ask_donor, ask_email, decide_flag, needing_attention
from app.organiser.rendering import donation_or_404, forms_for
from app.organiser.service import dashboard_totals

bp = Blueprint("gift_aid", __name__, url_prefix="/gift-aid")


def _attention_page(status: int = 200, failed: dict | None = None):
    figures = dashboard_totals()
    if figures is None:
        abort(404)
    found = needing_attention()
    return render_template(
        "organiser/gift_aid_attention.html",
        figures=figures,
        found=found,
        emails={item.donation.id: _ready_email(item.donation) for item in found},
        ask_form=forms.AskDonorForm(formdata=None),
        flag_form=forms_for(lambda key: forms.FlagDecisionForm(formdata=None, prefix=key), failed),
    ), status


def _ready_email(donation) -> dict:
    email = ask_email(donation)
    body = render_template(f"mail/{email['template']}.txt", **email["context"])
    return {"to": email["to"], "subject": email["subject"], "body": body}


@bp.get("/attention")
def needs_attention():
    """Every Gift Aid declaration that cannot be claimed, with what would let it be."""
    return _attention_page()


def _back(donation_id: int):
    return redirect(url_for("organiser.gift_aid.needs_attention") + f"#donation-{donation_id}", 303)


@bp.post("/attention/<int:donation_id>/ask")
def ask(donation_id: int):
    """Email the donor the ready-made request, with their link to complete the details."""
    donation = donation_or_404(donation_id)
    if not forms.AskDonorForm().validate_on_submit():
        abort(400)
    if ask_donor(donation.id, current_user) is None:
        flash("Nothing was sent: there is no email address, or nothing is missing now.", "info")
    else:
        flash(f"Emailed {donation.donor_email}. Their link works for 60 days.", "success")
    return _back(donation_id)


@bp.post("/attention/<int:donation_id>/claim")
def claim_flagged(donation_id: int):
    """Let a flagged gift's Gift Aid be claimed, saying how the organiser knows it may be."""
    donation_or_404(donation_id)
    form = forms.FlagDecisionForm(prefix=f"flag-{donation_id}")
    if not form.validate_on_submit():
        return _attention_page(422, failed={f"flag-{donation_id}": form})
    if decide_flag(donation_id, current_user, form.reason.data) is None:
        flash("That gift is not flagged (another organiser may have decided).", "info")
    else:
        flash("Decided: its Gift Aid now counts and will be claimed.", "success")
    return _back(donation_id)
