"""The organiser dashboard at /organiser: live totals, donations, participants, history.

Every route here and in the child blueprints (money, moderation, exports, Gift Aid claims,
settings) is for organisers only: a visitor is sent to log in, anyone else gets 403."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from app import audit
from app.auth.roles import require_organiser
from app.numbers import cursor, page_number
from app.organiser import service
from app.organiser.after_event_views import bp as after_event_bp
from app.organiser.claim_views import bp as claims_bp
from app.organiser.export_views import bp as exports_bp
from app.organiser.gift_aid_views import bp as gift_aid_bp
from app.organiser.moderation_views import bp as moderation_bp
from app.organiser.money_views import bp as money_bp
from app.organiser.rendering import dashboard_page, donation_page
from app.organiser.settings_views import bp as settings_bp
from app.privacy.views import bp as privacy_bp
from app.progress import polled_response
from app.teams.service import team_names_by_page

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
for child in (
    money_bp,
    moderation_bp,
    exports_bp,
    claims_bp,
    gift_aid_bp,
    settings_bp,
    after_event_bp,
    privacy_bp,
):
    bp.register_blueprint(child)

HISTORY_PER_PAGE = 50


@bp.before_request
@login_required
def _organisers_only():
    """Log in first; then only organisers may pass (runs for the child blueprints too)."""
    require_organiser()


@bp.get("")
def dashboard():
    """Live totals, cash waiting for confirmation, and the latest changes."""
    return dashboard_page()


@bp.get("/totals")
def show_totals():
    """The totals alone, polled by htmx; 304 while nothing has changed."""
    figures = service.dashboard_totals()
    if figures is None:
        abort(404)
    return polled_response(figures.etag, "organiser/_totals.html", figures=figures)


@bp.get("/donations")
def list_donations():
    """Every donation, newest first: search, filters and pages (htmx swaps the table)."""
    filters = service.DonationFilters.from_args(request.args)
    found = service.find_donations(
        filters,
        older_than=cursor(request.args.get("older_than")),
        newer_than=cursor(request.args.get("newer_than")),
    )
    context = {"filters": filters, "found": found, "status_label": service.status_label}
    if request.htmx and request.headers.get("HX-Target") == "donations-table":
        return render_template("organiser/_donations_table.html", **context)
    return render_template(
        "organiser/donations.html",
        page_choices=service.page_choices(),
        status_choices=service.STATUS_CHOICES,
        gift_aid_choices=service.GIFT_AID_CHOICES,
        source_choices=service.SOURCE_CHOICES,
        **context,
    )


@bp.get("/donations/<int:donation_id>")
def show_donation(donation_id: int):
    """One donation: every detail, its history, and what can be done with it."""
    return donation_page(donation_id)


@bp.get("/participants")
def list_participants():
    """Every participant: their page, what it raised against its target, their safety."""
    number = page_number(request.args.get("page"))
    rows, more = service.participants(number)
    return render_template(
        "organiser/participants.html",
        rows=rows,
        page_number=number,
        more=more,
        team_names=team_names_by_page(),
    )


@bp.get("/history")
def show_history():
    """The audit history, newest first, a page at a time."""
    before = cursor(request.args.get("before"))
    entries = audit.entries(before_id=before, limit=HISTORY_PER_PAGE + 1)
    more = len(entries) > HISTORY_PER_PAGE
    entries = entries[:HISTORY_PER_PAGE]
    return render_template(
        "organiser/history.html",
        entries=entries,
        describe=audit.describe,
        older_than=entries[-1].id if more and entries else None,
        paged=before is not None,
    )
