"""Choosing how a Gift Aid claim lists paper sponsorship: a line per sponsor, or HMRC's
sponsored-event method (a "Yes" line per participant, their address asked for here)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth.roles import require_organiser
from app.extensions import db
from app.models import GiftAidClaim
from app.models.paper import PaperSeries
from app.paper import claim as paper_claim
from app.paper import forms
from app.paper.views import bp


def _claim(claim_id: int) -> GiftAidClaim:
    require_organiser()
    claim = db.session.get(GiftAidClaim, claim_id)
    if claim is None:
        abort(404)
    return claim


def _page(claim: GiftAidClaim, status: int = 200, failed: dict | None = None, problem=None):
    participants = paper_claim.participants_in(claim)
    address_forms = {
        p.series.id: forms.ParticipantAddressForm.for_series(p.series) for p in participants
    }
    address_forms.update(failed or {})
    return render_template(
        "paper/claim_method.html",
        claim=claim,
        participants=participants,
        address_forms=address_forms,
        sponsored=paper_claim.sponsored_method(claim),
        problem=problem,
    ), status


@bp.get("/claims/<int:claim_id>/method")
@login_required
def show_claim_method(claim_id: int):
    """How the claim lists paper sponsorship, and the participants' addresses."""
    return _page(_claim(claim_id))


@bp.post("/claims/<int:claim_id>/method")
@login_required
def choose_claim_method(claim_id: int):
    """Use (or stop using) the sponsored-event method for this claim."""
    claim = _claim(claim_id)
    form = forms.ClaimMethodForm()
    if not form.validate_on_submit():
        return _page(claim, 422, problem="Choose how to list paper sponsorship.")
    problem = paper_claim.choose(claim, form.method.data == "sponsored", current_user)
    if problem:
        return _page(claim, 409, problem=problem)
    flash("The claim's files now list paper sponsorship that way.", "success")
    return redirect(url_for("organiser.claims.show_claim", claim_id=claim.id), 303)


@bp.post("/claims/<int:claim_id>/participants/<int:series_id>/address")
@login_required
def save_participant_address(claim_id: int, series_id: int):
    """A participant's own name and home address, for their sponsored-event line."""
    claim = _claim(claim_id)
    series = db.session.get(PaperSeries, series_id)
    if series is None or series.id not in {p.series.id for p in paper_claim.participants_in(claim)}:
        abort(404)
    form = forms.ParticipantAddressForm(prefix=f"address-{series.id}")
    if not form.validate_on_submit():
        return _page(claim, 422, failed={series.id: form})
    paper_claim.save_address(series, form.gift_aid_details())
    flash(f"{series.sponsor_page.participant.name}'s address is kept for the claim.", "success")
    return redirect(url_for("paper.show_claim_method", claim_id=claim.id), 303)
