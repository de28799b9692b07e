"""The participant's own checklist at /safety: one section per item, each saved on its own
(htmx swaps the section; without JavaScript the form posts and the page reloads)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.safety import bp, checklist, forms, service
from app.safety.status import status_of


@bp.app_template_global("safety_summary")
def safety_summary():
    """The logged-in person's checklist status, for their home page."""
    return status_of(current_user)


@bp.get("")
@login_required
def show_checklist():
    """Your checklist: what is done, what is missing, and whether you are cleared."""
    return _page()


def _page(item_id=None, form=None, status_code=200):
    status = status_of(current_user)
    section_forms = {
        s.item.id: forms.section_form(s.item, s.answer)
        for s in status.items
        if s.item.by_participant
    }
    if form is not None:
        section_forms[item_id] = form
    return render_template(
        "safety/checklist.html",
        status=status,
        forms=section_forms,
        rules=checklist.settings(),
        has_errors=form is not None,
    ), status_code


@bp.post("/items/<int:item_id>")
@login_required
def save_section(item_id: int):
    """Save one section; errors come back beside the fields with a 422."""
    item = service.item_or_404(item_id)
    if not item.by_participant:
        abort(404)
    form = forms.section_form(item, formdata=request.form)
    if form.validate():
        service.save_answer(current_user, item, form.answer())
        if not request.htmx:
            flash(f"Saved: {item.label}.", "success")
            return redirect(url_for("safety.show_checklist") + f"#item-{item.id}", 303)
        return _section(item, saved=True)
    if not request.htmx:
        return _page(item.id, form, status_code=422)
    return _section(item, form=form, status_code=422)


def _section(item, form=None, saved=False, status_code=200):
    status = status_of(current_user)
    state = next(s for s in status.items if s.item.id == item.id)
    return render_template(
        "safety/_saved.html",
        s=state,
        status=status,
        form=form or forms.section_form(item, state.answer),
        rules=checklist.settings(),
        saved=saved,
    ), status_code


@bp.post("/consent/withdraw")
@login_required
def withdraw_consent():
    """Withdraw consent to use your health information: your medical answers are deleted."""
    service.withdraw_consent(current_user)
    flash(
        "You have withdrawn your consent. We have deleted your medical answers, and you can't be "
        "cleared to take part unless you fill in the medical declaration again.",
        "info",
    )
    return redirect(url_for("safety.show_checklist"), 303)
