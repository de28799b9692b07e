"""Organisers type returned sheets in: find a sheet by its reference, fill the grid (checked
row by row with htmx), keep a draft, save it once."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.roles import require_organiser
from app.models.paper import SheetStatus
from app.paper import entry, forms, sheets
from app.paper.views import bp


@bp.route("/enter", methods=["GET", "POST"])
@login_required
def find_sheet():
    """Type or scan the reference printed on a returned sheet."""
    require_organiser()
    form = forms.FindSheetForm()
    if form.validate_on_submit():
        try:
            found = sheets.find(form.reference.data)
        except sheets.SheetNotFound as exc:
            form.reference.errors.append(str(exc))
        else:
            return redirect(url_for("paper.enter_sheet", reference=found.reference), 303)
    status = 422 if form.errors else 200
    return render_template("paper/enter.html", form=form, recent=sheets.recent()), status


def _found(reference: str) -> sheets.Found:
    require_organiser()
    try:
        found = sheets.find(reference)
    except sheets.SheetNotFound:
        abort(404)
    if found.reference != reference:
        abort(404)  # the canonical address only, so a sheet has one URL
    return found


@bp.route("/sheets/<reference>", methods=["GET", "POST"])
@login_required
def enter_sheet(reference: str):
    """The grid for one sheet: check it, add rows, paste rows, keep a draft, or save it."""
    found = _found(reference)
    sheet = sheets.sheet_of(found)
    if sheet is not None and sheet.status == SheetStatus.SAVED:
        status = 409 if request.method == "POST" else 200
        return render_template("paper/saved.html", found=found, sheet=sheet), status
    form = forms.SheetForm(formdata=None) if request.method == "GET" else forms.SheetForm()
    grid = entry.grid_for(form, request, sheets.draft_of(sheet))
    if request.method == "GET":
        return render_template("paper/sheet.html", found=found, form=form, grid=grid)
    action = request.form.get("action", "check")
    if action == "draft" and not form.errors:
        if sheets.save_draft(found, entry.draft_of_grid(form, grid), current_user) is None:
            flash("Another organiser saved this sheet meanwhile: here it is.", "info")
        else:
            flash("Draft kept. You or another organiser can finish it later.", "success")
        return redirect(url_for("paper.enter_sheet", reference=found.reference), 303)
    if action == "save" and entry.ready_to_save(form, grid):
        saved, by_me = sheets.save(found, grid, form.handed_in_pence, form.day(), current_user)
        flash(sheets.saved_message(found, saved, by_me), "success" if by_me else "info")
        return redirect(url_for("paper.enter_sheet", reference=found.reference), 303)
    status = 422 if form.errors or grid.problems or grid.message else 200
    return render_template("paper/sheet.html", found=found, form=form, grid=grid), status


@bp.post("/sheets/<reference>/rows/<int:number>")
@login_required
def check_row(reference: str, number: int):
    """One row checked as it is typed (htmx): its errors and the sheet's running total."""
    found = _found(reference)
    if not request.htmx:
        return redirect(url_for("paper.enter_sheet", reference=found.reference), 303)
    form = forms.SheetForm()
    form.validate()
    grid = entry.grid_for(form, request, None)
    row = next((r for r in grid.rows if r.number == number), None)
    return render_template("paper/_row_checked.html", found=found, form=form, grid=grid, row=row)


@bp.context_processor
def _grid_words():
    """The grid's columns and their headings, for every paper template."""
    return {
        "columns": entry.COLUMNS,
        "labels": entry.LABELS,
        "rows_at_a_time": entry.ROWS_AT_A_TIME,
    }
