"""The safety board for organisers and instructors: everyone against every item, signed off in
place; each participant's record and history; the day's roster; check-in; reminders."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.roles import roles_required
from app.auth.sessions import recent_password_required
from app.models import Role
from app.numbers import page_number
from app.safety import bp, forms, on_the_day, roster, service
from app.safety.status import participants, status_of, statuses

STAFF = (Role.ORGANISER, Role.INSTRUCTOR)
FILTERS = {
    "": ("Everyone", lambda s: True),
    "not-cleared": ("Not cleared", lambda s: not s.cleared),
    "guardian": ("Missing guardian consent", lambda s: s.needs_guardian),
    "medical": ("Medical to review", lambda s: s.medical_to_review),
}
# Instructors see no medical details, so they get no filter that would hint at them.
INSTRUCTOR_FILTERS = ("", "not-cleared")
# Each row carries a sign-off form per item: about 6 kB. A page of 100 keeps an event of
# typical size on one page (so the browser's find still finds anyone) and a big one quick.
PER_PAGE = 100


def _is_instructor() -> bool:
    return current_user.role == Role.INSTRUCTOR


def _news_allowed() -> bool:
    from app.news.service import may_post

    return bool(may_post(current_user))


def _board_context(view: dict) -> dict:
    """The board as `view` asks for it (filter, name search, page number), as template context."""
    allowed = INSTRUCTOR_FILTERS if _is_instructor() else tuple(FILTERS)
    show = view.get("show", "") if view.get("show", "") in allowed else ""
    name = " ".join(view.get("q", "").split())[:100]
    everyone = statuses(participants())
    matching = [
        s
        for s in everyone
        if FILTERS[show][1](s) and (not name or name.casefold() in s.user.name.casefold())
    ]
    pages = max(1, -(-len(matching) // PER_PAGE))
    page = min(page_number(view.get("page")), pages)
    return {
        "people": matching[(page - 1) * PER_PAGE : page * PER_PAGE],
        "matching": len(matching),
        "first": (page - 1) * PER_PAGE + 1,
        "total": len(everyone),
        "view": {"show": show, "q": name, "page": page},
        # What the pager's links keep: the filter and the search, when there are any.
        "kept": {key: value for key, value in (("show", show), ("q", name)) if value},
        "pages": pages,
        "filters": {key: FILTERS[key][0] for key in allowed},
        "columns": _columns(everyone),
        "to_remind": 0 if _is_instructor() else len(service.to_remind(everyone)),
        "day_closed": on_the_day.refusal(),
        "news_allowed": _news_allowed(),
    }


def _view(values) -> dict:
    """The board's filter, search and page from a query string or a sign-off form."""
    return {key: values.get(key, "") for key in ("show", "q", "page")}


def _columns(everyone) -> list:
    items = everyone[0].items if everyone else []
    return [s.item for s in items if s.item.on_the_day or not _is_instructor()]


@bp.get("/board")
@roles_required(*STAFF)
def show_board():
    """Everyone taking part against every item (instructors: the on-the-day items only)."""
    return render_template("safety/board.html", **_board_context(_view(request.args)))


@bp.post("/people/<int:user_id>/items/<int:item_id>/sign-off")
@roles_required(*STAFF)
def sign_off(user_id: int, item_id: int):
    """Sign an item off for someone, with an optional note."""
    return _act(user_id, item_id, service.sign_off, "signed off")


@bp.post("/people/<int:user_id>/items/<int:item_id>/revoke")
@roles_required(*STAFF)
def revoke(user_id: int, item_id: int):
    """Revoke someone's sign-off, with an optional note."""
    return _act(user_id, item_id, service.revoke, "revoked")


def _act(user_id: int, item_id: int, action, done: str):
    person, item = service.person_or_404(user_id), service.item_or_404(item_id)
    form = forms.NoteForm()
    if not form.validate():
        return _row(person, {item.id: form.note.errors[0]}, 422)
    try:
        action(current_user, person, item, form.note.data or "")
    except service.SafetyError as exc:
        return _row(person, {item.id: exc.message}, exc.status)
    return _row(person, message=f"{item.label} {done} for {person.name}.")


def _row(person, errors=None, status_code=200, message=""):
    if request.htmx:
        state = status_of(person)
        return render_template(
            "safety/_board_row.html",
            s=state,
            columns=_columns([state]),
            errors=errors or {},
            message=message,
            view=_view(request.form),
            day_closed=on_the_day.refusal(),
        ), status_code
    if status_code >= 400:
        flash(next(iter((errors or {"": "That didn't work."}).values())), "error")
        context = _board_context(_view(request.form))
        return render_template("safety/board.html", **context), status_code
    flash(message, "success")
    # Back to the same filter, search and page, at the person's row.
    view = {key: value for key, value in _view(request.form).items() if value}
    return redirect(url_for("safety.show_board", **view) + f"#person-{person.id}", 303)


@bp.post("/people/<int:user_id>/check-in")
@roles_required(Role.ORGANISER)
def check_in(user_id: int):
    """Record that someone has arrived on the day (or undo it), by whom and when."""
    person = service.person_or_404(user_id)
    undo = request.form.get("undo") == "1"
    try:
        service.check_in(current_user, person, undo=undo)
    except service.SafetyError as exc:
        if request.form.get("back") == "roster":
            flash(exc.message, "error")
            return render_template("safety/roster.html", rows=roster.rows()), exc.status
        return _row(person, {"check-in": exc.message}, exc.status)
    message = f"{person.name} is {'no longer' if undo else 'now'} checked in."
    if request.form.get("back") == "roster":
        flash(message, "success")
        return redirect(url_for("safety.show_roster") + f"#person-{person.id}", 303)
    return _row(person, message=message)


@bp.post("/people/<int:user_id>/done-it")
@roles_required(Role.ORGANISER)
def check_out_completed(user_id: int):
    """Check someone out as having done it ("Done it!" on their page and the news feed)."""
    person = service.person_or_404(user_id)
    undo = request.form.get("undo") == "1"
    try:
        service.check_out_completed(current_user, person, undo=undo)
    except service.SafetyError as exc:
        return _row(person, {"check-in": exc.message}, exc.status)
    return _row(
        person, message=f"{person.name} {'is no longer marked' if undo else 'has'} done it."
    )


@bp.get("/people/<int:user_id>")
@roles_required(Role.ORGANISER)
@recent_password_required()
def show_person(user_id: int):
    """One participant's record: their answers, sign-offs and the full history."""
    person = service.person_or_404(user_id)
    return render_template(
        "safety/person.html", s=status_of(person), history=service.history(person)
    )


@bp.get("/roster")
@roles_required(Role.ORGANISER)
@recent_password_required()
def show_roster():
    """The day's roster, for printing: contacts, medical flags, guardian, cleared, check-in."""
    return render_template("safety/roster.html", rows=roster.rows())


@bp.get("/roster.csv")
@roles_required(Role.ORGANISER)
@recent_password_required()
def download_roster():
    """The day's roster as a CSV file (it holds health data: keep it safe, delete it after)."""
    return roster.csv_response(roster.rows())


@bp.post("/reminders")
@roles_required(Role.ORGANISER)
def send_reminders():
    """Email everyone with missing items, in one go, through the outbox."""
    count = service.send_reminders()
    flash(
        f"Queued {count} reminder email{'' if count == 1 else 's'}."
        if count
        else "Nobody has anything missing: no reminders sent.",
        "success",
    )
    return redirect(url_for("safety.show_board"), 303)
