"""Donating: the form, the hand-off to Stripe Checkout, the thanks, and the way back."""

from flask import Blueprint, abort, redirect, render_template, request
from htmx_flask import make_response as htmx_response

from app import payments, share
from app.donations import service
from app.donations.gift_aid import declaration_text, sponsorship_version, sponsorship_wording
from app.events.service import event_progress, get_event, page_progress
from app.extensions import limiter
from app.models import DonationStatus
from app.numbers import whole_number
from app.teams.service import public_team_or_404, team_progress

bp = Blueprint("donations", __name__, url_prefix="/donate")


@bp.route("", methods=["GET", "POST"], endpoint="donate_to_event")
@bp.route("/<slug>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def donate(slug: str | None = None):
    """Show the donation form; on a valid POST, record it as pending and go to Stripe."""
    event = service.event_or_404()
    page = service.public_page_or_404(slug)
    # A gift to a team itself: /donate?team=<slug> (a member's page is /donate/<slug>).
    team = public_team_or_404(request.args.get("team")) if page is None else None
    form = service.new_form(event, request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _form_page(form, event, page, team=team)
    if not event.donations_open:
        return _form_page(form, event, page, closed=True, team=team), 409
    if not form.validate():
        return _form_page(form, event, page, team=team), 422
    if form.gift_aid_unseen():
        # Cleaning changed what HMRC will read: the donor sees it before paying, and sends
        # the form again to go on (or changes their details).
        return _form_page(form, event, page, check_gift_aid=True, team=team)
    donation = service.record_pending(form, page, event, team=team)
    service.remember_in_browser(donation)
    try:
        url = service.checkout_url(donation)
    except payments.PaymentsUnavailable:
        return _form_page(form, event, page, unavailable=True, team=team), 503
    except service.CheckoutExpired:
        form.attempt_key.data = service.new_attempt_key()
        return _form_page(form, event, page, timed_out=True, team=team), 409
    except service.CheckoutInProgress:
        return _form_page(form, event, page, in_progress=True, team=team), 409
    if request.htmx:
        return htmx_response("", redirect=url)
    return redirect(url, code=303)


@bp.post("/check")
@bp.post("/<slug>/check")
def check_field(slug: str | None = None):
    """htmx: the error (or none) for the field just changed, the card-fee note, and how HMRC
    will read the Gift Aid details."""
    event = service.event_or_404()
    form = service.new_form(event, request.form)
    form.validate()
    field = request.headers.get("X-Changed-Field", "")  # set by static/js/plunge.js
    errors = getattr(form, field).errors if field in form else []
    fee = service.fee_for(event, form.amount_pence)
    body = render_template(
        "donations/_field_check.html",
        errors=errors,
        fee=fee,
        event=event,
        preview=form.gift_aid_preview(),
    )
    if field not in form:
        return htmx_response(body, reswap="none")
    return htmx_response(body, retarget=f"#{field}-error", reswap="innerHTML")


@bp.get("/thanks")
def thank_donor():
    """After Checkout: ask Stripe what happened (never the browser), then thank the donor."""
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    try:
        donation = service.confirm_with_stripe(session_id)
    except payments.PaymentsUnavailable:
        return render_template("donations/thanks.html", donation=None), 503
    if donation is None:
        abort(404)
    progress = page_progress(donation.sponsor_page_id) if donation.sponsor_page_id else None
    if donation.team_id is not None:
        progress = team_progress(donation.team_id)
    return render_template(
        "donations/thanks.html",
        donation=donation,
        progress=progress or event_progress(),
        paid=donation.status == DonationStatus.PAID,
        mine=service.made_in_this_browser(donation),
        shared=share.for_thanks(donation.sponsor_page, get_event()),
        link_preview=share.event_preview(get_event(), event_progress(), noindex=True),
    )


@bp.get("/resume/<token>")
def resume_donation(token: str):
    """Back from Checkout without paying: the form again, as the donor left it (while the
    donation is unpaid and the link is fresh; never the donor's details after that)."""
    try:
        donation = service.donation_from_token(token)
    except service.ResumeLinkExpired:
        return render_template("donations/resume_closed.html", reason="expired"), 410
    if donation is None:
        return render_template("donations/resume_closed.html", reason="broken"), 404
    refused = service.resume_refused(donation)
    if refused:
        return render_template("donations/resume_closed.html", reason=refused)
    event = service.event_or_404()
    service.abandon(donation)
    form = service.new_form(event, **service.prefill_from(donation))
    page = donation.sponsor_page
    return _form_page(form, event, page, resumed=True, team=donation.team)


def _form_page(form, event, page, team=None, **flags):
    amount = form.amount_pence or _preset_pence(form)
    return render_template(
        "donations/donate.html",
        form=form,
        event=event,
        page=page,
        team=team,
        fee=service.fee_for(event, amount),
        preview=form.gift_aid_preview(),
        declaration=declaration_text(amount, event.charity_name),
        sponsorship_confirmation=sponsorship_wording(
            sponsorship_version(event.charity_pays_event_costs)
        ),
        link_preview=share.donate_preview(event, page),
        **flags,
    )


def _preset_pence(form) -> int | None:
    return whole_number(form.amount_preset.data)
