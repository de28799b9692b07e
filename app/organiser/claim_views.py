"""Gift Aid claims: every claim with its files, what was over-claimed since, and a new claim
for a period (previewed first). Organisers only, like everything under /organiser."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.sessions import recent_password_required
from app.models import ClaimStatus
from app.money import format_pence
from app.organiser import gift_aid_claims
from app.organiser.claim_forms import DiscardForm, PeriodForm, SubmittedForm
from app.organiser.export_views import MIMETYPES, attachment
from app.organiser.gift_aid_claims import ClaimClosed, ClaimNotPossible, Period
from app.organiser.gift_aid_export import FORMATS, ROWS_PER_FILE, zipped

bp = Blueprint("claims", __name__, url_prefix="/gift-aid/claims")


def _claims_page(form: PeriodForm, status: int = 200, problem: str | None = None):
    """The claims page, previewing the form's period (or the suggested one)."""
    if form.first_day.data and form.last_day.data and not form.errors:
        period = Period(form.first_day.data, form.last_day.data)
    else:
        period = gift_aid_claims.suggested_period()
    page_problem = problem or (None if form.errors else period.problem())
    return render_template(
        "organiser/claims.html",
        form=form,
        period=period,
        problem=page_problem,
        preview=gift_aid_claims.preview(period),
        claims=gift_aid_claims.claims(),
        rows_per_file=ROWS_PER_FILE,
    ), status


@bp.get("")
def list_claims():
    """Every claim, what was over-claimed since, and what a claim for a period would hold."""
    form = PeriodForm(request.args, meta={"csrf": False})
    if request.args:
        form.validate()
    else:
        suggested = gift_aid_claims.suggested_period()
        form.first_day.data, form.last_day.data = suggested.start, suggested.end
    return _claims_page(form, 422 if form.errors else 200)


@bp.post("")
def start_claim():
    """Freeze the period's claimable donations into a new claim."""
    form = PeriodForm()
    if not form.validate_on_submit():
        return _claims_page(form, 422)
    try:
        claim, _ = gift_aid_claims.start(
            Period(form.first_day.data, form.last_day.data), current_user
        )
    except ClaimNotPossible as refusal:
        return _claims_page(form, 422, str(refusal))
    flash(
        f"Claim #{claim.id} started: {claim.line_count} donations, "
        f"{format_pence(claim.gift_aid_pence)} Gift Aid. Download its file and submit it to HMRC.",
        "success",
    )
    return redirect(url_for("organiser.claims.show_claim", claim_id=claim.id), 303)


def _claim_page(claim_id: int, status: int = 200, problem: str | None = None, **forms):
    claim = gift_aid_claims.claim_or_none(claim_id)
    if claim is None:
        abort(404)
    forms.setdefault("submitted_form", SubmittedForm())
    forms.setdefault("discard_form", DiscardForm())
    return render_template(
        "organiser/claim.html",
        claim=claim,
        files=-(-len(claim.lines) // ROWS_PER_FILE),
        changed=gift_aid_claims.changed_since_started(claim),
        problem=problem,
        **forms,
    ), status


@bp.get("/<int:claim_id>")
def show_claim(claim_id: int):
    """One claim: its figures, its files, what it repays, and what can be done with it."""
    return _claim_page(claim_id)


@bp.get("/<int:claim_id>/claim.<fmt>")
@recent_password_required()
def download_claim(claim_id: int, fmt: str):
    """The claim's schedule as it was started: one file, or a zip of one per 1,000 lines."""
    claim = gift_aid_claims.claim_or_none(claim_id)
    if fmt not in FORMATS or claim is None or claim.status == ClaimStatus.DISCARDED:
        abort(404)
    files = gift_aid_claims.files(claim, fmt)
    if len(files) == 1:
        name, data = files[0]
        return attachment(data, MIMETYPES[fmt], name)
    return attachment(zipped(files), MIMETYPES["zip"], f"gift-aid-claim-{claim.id}-{fmt}.zip")


@bp.post("/<int:claim_id>/submitted")
def mark_submitted(claim_id: int):
    """Record the day the claim went to HMRC: its donations are then claimed."""
    form = SubmittedForm()
    if not form.validate_on_submit():
        return _claim_page(claim_id, 422, submitted_form=form)
    try:
        gift_aid_claims.mark_submitted(
            claim_id, form.on.data, form.reference.data or "", current_user
        )
    except ClaimClosed as refusal:
        return _claim_page(claim_id, 422, str(refusal))
    except ClaimNotPossible as refusal:
        form.on.errors = [str(refusal)]
        return _claim_page(claim_id, 422, submitted_form=form)
    flash(f"Claim #{claim_id} is marked submitted on {form.on.data:%d/%m/%Y}.", "success")
    return redirect(url_for("organiser.claims.show_claim", claim_id=claim_id), 303)


@bp.post("/<int:claim_id>/discard")
def discard_claim(claim_id: int):
    """Give up a claim not yet submitted: its donations go back to waiting for a claim."""
    form = DiscardForm()
    if not form.validate_on_submit():
        return _claim_page(claim_id, 422, discard_form=form)
    try:
        gift_aid_claims.discard(claim_id, current_user, form.reason.data or "")
    except ClaimNotPossible as refusal:
        return _claim_page(claim_id, 422, str(refusal))
    flash(f"Claim #{claim_id} is discarded: its donations can go in the next claim.", "success")
    return redirect(url_for("organiser.claims.list_claims"), 303)
