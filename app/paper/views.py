"""Paper sponsorship forms: participants print theirs, team captains (and organisers) their
team's; organisers type returned sheets in."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from app.money import format_pence
from app.pages import sharing
from app.paper import forms, pledges, printing, printing_service
from app.paper.wording import ENGLISH, TEAM_ENGLISH
from app.teams import service as teams

bp = Blueprint("paper", __name__, url_prefix="/paper")


def _own_page():
    page = current_user.sponsor_page if current_user.role == "participant" else None
    if page is None:
        abort(404)
    return page


def _own_team(slug: str):
    """The team at /t/<slug> if the current user runs it: its captain, or an organiser (who
    runs a team without a captain). Others: 404 for a team they cannot see, else 403, as
    for the team's other management pages."""
    team = teams.viewable_team(slug)  # a merged team's address leads to the team it joined
    if not teams.may_manage(current_user, team):
        abort(403)
    return team


def _printed(owner) -> list[str]:
    """The references asked for in ?first=&count=, if they have been printed (else [])."""
    series = printing_service.series_for(owner)
    first = request.args.get("first", type=int)
    count = request.args.get("count", type=int)
    if first is None or count is None or first < 1 or count < 1:
        return []
    last = min(first + min(count, printing_service.MAX_SHEETS_AT_ONCE) - 1, series.sheets)
    return printing_service.references(series, first, last)


def _print_page(owner, endpoints: tuple[str, str], team=None, **values):
    """Choose how many sheets; with ?first=&count= the sheets themselves, to print. The same
    page for a participant's form and a team's (`endpoints`: the HTML and PDF routes)."""
    html_endpoint, pdf_endpoint = endpoints
    form = forms.PrintForm()
    if form.validate_on_submit():
        references = printing_service.print_sheets(owner, form.sheets.data)
        first = _number(references[0])
        endpoint = pdf_endpoint if form.kind.data == "pdf" else html_endpoint
        return redirect(url_for(endpoint, first=first, count=len(references), **values), 303)
    references = _printed(owner) if request.method == "GET" else []
    facts = printing_service.form_facts(owner, references) if references else None
    status = 422 if form.errors else 200
    qr_svg = ""
    if facts:
        qr_svg = Markup(sharing.qr_svg_of(facts.page_url).decode())
    return render_template(
        "paper/print.html",
        form=form,
        facts=facts,
        team=team,
        wording=TEAM_ENGLISH if team is not None else ENGLISH,
        lines_per_sheet=printing.LINES_PER_SHEET,
        qr_svg=qr_svg,
        form_action=url_for(html_endpoint, **values),
        pdf_url=url_for(pdf_endpoint, first=_number(references[0]), count=len(references), **values)
        if facts
        else "",
    ), status


def _number(printed: str) -> int:
    """The sheet number at the end of a reference (`P-7K3Q-2`: 2)."""
    return int(printed.rsplit("-", 1)[1])


def _pdf(owner, back: str, team=None):
    """The printed sheets as a PDF (sheets not yet printed go back to the choice)."""
    references = _printed(owner)
    if not references:
        return redirect(back, 303)
    wording = TEAM_ENGLISH if team is not None else ENGLISH
    pdf = printing.form_pdf(printing_service.form_facts(owner, references), wording)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = f"sponsorship-form-{references[0]}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.route("/form", methods=["GET", "POST"])
@login_required
def print_form():
    """A participant's own form: how many sheets, then the sheets to print."""
    return _print_page(_own_page(), ("paper.print_form", "paper.download_form"))


@bp.get("/form.pdf")
@login_required
def download_form():
    """A participant's printed sheets as a PDF."""
    return _pdf(_own_page(), url_for("paper.print_form"))


@bp.route("/teams/<slug>/form", methods=["GET", "POST"])
@login_required
def print_team_form(slug: str):
    """A team's form (references `T-...`), printed by its captain or an organiser: the team's
    name and QR code instead of a participant's; its money goes to the team."""
    team = _own_team(slug)
    endpoints = ("paper.print_team_form", "paper.download_team_form")
    return _print_page(team, endpoints, team=team, slug=team.slug)


@bp.get("/teams/<slug>/form.pdf")
@login_required
def download_team_form(slug: str):
    """A team's printed sheets as a PDF."""
    team = _own_team(slug)
    return _pdf(team, url_for("paper.print_team_form", slug=team.slug), team=team)


@bp.app_context_processor
def _promises():
    """For /me: `paper_promises(page)`, the page's pledges on paper sheets;
    `captained_team(page)`, the team its participant captains (to print its form); and
    `paper_team_promises(team)`, the pledges on that team's sheets."""
    return {
        "paper_promises": pledges.promises_of,
        "paper_team_promises": pledges.promises_of_team,
        "captained_team": teams.captained_by,
    }


@bp.post("/pledges/<int:line_id>/paid")
@login_required
def mark_pledge_paid(line_id: int):
    """The participant hands in the rest of a pledge; an organiser confirms it."""
    line, reported = pledges.report_paid(current_user, line_id)
    if line is None:
        abort(404)
    if reported:
        amount = format_pence(line.pledge_donation.amount_pence)
        flash(f"Thanks! An organiser will confirm the {amount} once they have it.", "success")
    else:
        flash("That pledge is already handed in.", "info")
    return redirect(url_for("me.home") + "#paper", 303)
