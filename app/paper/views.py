"""Paper sponsorship forms: participants print theirs; organisers type returned sheets in."""

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
from app.paper import forms, pledges, printing, printing_service, reference
from app.paper.wording import ENGLISH

bp = Blueprint("paper", __name__, url_prefix="/paper")


def _own_page():
    page = current_user.sponsor_page if current_user.role == "participant" else None
    if page is None:
        abort(404)
    return page


def _printed(page) -> list[str]:
    """The references asked for in ?first=&count=, if they have been printed (else [])."""
    series = printing_service.series_for(page)
    first = request.args.get("first", type=int)
    count = request.args.get("count", type=int)
    if first is None or count is None or first < 1 or count < 1:
        return []
    last = min(first + min(count, printing_service.MAX_SHEETS_AT_ONCE) - 1, series.sheets)
    return [reference.reference(series.code, n) for n in range(first, last + 1)]


@bp.route("/form", methods=["GET", "POST"])
@login_required
def print_form():
    """Choose how many sheets to print; with ?first=&count= the sheets themselves, to print."""
    page = _own_page()
    form = forms.PrintForm()
    if form.validate_on_submit():
        references = printing_service.print_sheets(page, form.sheets.data)
        first = int(references[0].rsplit("-", 1)[1])
        endpoint = "paper.download_form" if form.kind.data == "pdf" else "paper.print_form"
        return redirect(url_for(endpoint, first=first, count=len(references)), 303)
    references = _printed(page) if request.method == "GET" else []
    facts = printing_service.form_facts(page, references) if references else None
    status = 422 if form.errors else 200
    return render_template(
        "paper/print.html",
        form=form,
        facts=facts,
        wording=ENGLISH,
        lines_per_sheet=printing.LINES_PER_SHEET,
        qr_svg=Markup(sharing.qr_svg(page).decode()) if facts else "",
    ), status


@bp.get("/form.pdf")
@login_required
def download_form():
    """The printed sheets as a PDF (sheets not yet printed go back to the choice)."""
    page = _own_page()
    references = _printed(page)
    if not references:
        return redirect(url_for("paper.print_form"), 303)
    pdf = printing.form_pdf(printing_service.form_facts(page, references))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = f"sponsorship-form-{references[0]}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.app_context_processor
def _promises():
    """`paper_promises(page)` for /me: the page's pledges on paper sheets."""
    return {"paper_promises": pledges.promises_of}


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
