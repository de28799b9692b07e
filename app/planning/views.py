"""Decisions: the planning page, proposing, having your say, closing, deciding alone, the
report for meetings and the public "How we organised this" page."""

from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import Stance, utcnow
from app.planning import bp, forms, reminders, service
from app.planning.access import organising_group_only
from app.planning.service import AlreadyDecided, PlanningRefused
from app.timefmt import LONDON, to_london

REPORT_DAYS = 28


@bp.get("/planning")
@organising_group_only
def home():
    """Decisions to report back first, then those still open, then those made."""
    return render_template(
        "planning/home.html",
        page=service.planning_page(),
        my_groups=service.groups_of(current_user.id),
        reminders_on=reminders.is_on(current_user.id),
    )


@bp.route("/planning/decisions/new", methods=["GET", "POST"])
@organising_group_only
def propose():
    """Ask every group about something we need to decide."""
    form = forms.ProposeForm()
    if form.validate_on_submit():
        try:
            decision = service.propose(
                current_user,
                form.title.data,
                form.details.data,
                form.options.data or "",
                form.decide_by_date,
            )
        except PlanningRefused as exc:
            form.title.errors.append(str(exc))
        else:
            flash("Thank you. Every group has been asked.", "success")
            return redirect(url_for("planning.show_decision", decision_id=decision.id), 303)
    status = 422 if form.errors else 200
    return render_template("planning/propose.html", form=form), status


@bp.route("/planning/decisions/alone", methods=["GET", "POST"])
@organising_group_only
def record_alone():
    """Say that you decided something without asking the groups, and why."""
    form = forms.AloneForm()
    if form.validate_on_submit():
        try:
            decision = service.record_alone(
                current_user,
                form.title.data,
                form.decided.data,
                form.why.data,
                form.alone_reason.data,
                form.publish.data,
            )
        except PlanningRefused as exc:
            form.title.errors.append(str(exc))
        else:
            flash("Thank you for telling us. Each group will be asked about it.", "success")
            return redirect(url_for("planning.show_decision", decision_id=decision.id), 303)
    status = 422 if form.errors else 200
    return render_template("planning/alone.html", form=form), status


def _decision_or_404(decision_id: int):
    return service.get_decision(decision_id) or abort(404)


def decision_page(decision, say_form=None, close_form=None, status=200, problem=""):
    """The decision's page, with its forms (as sent back, when they had a problem)."""
    record = service.record_of(decision)
    mine = service.group_ids_of(current_user.id)
    return render_template(
        "planning/decision.html",
        record=record,
        say_form=say_form or forms.SayForm(formdata=None),
        close_form=close_form or forms.CloseForm(formdata=None),
        can_say=any(g.group_id in mine for g in record.groups),
        problem=problem,
    ), status


@bp.get("/planning/decisions/<int:decision_id>")
@organising_group_only
def show_decision(decision_id: int):
    """One decision: what it is, each group's say, and what was decided."""
    return decision_page(_decision_or_404(decision_id))


@bp.post("/planning/decisions/<int:decision_id>/say")
@organising_group_only
def add_say(decision_id: int):
    """Say what you think (agree, worried, or something else)."""
    decision = _decision_or_404(decision_id)
    form = forms.SayForm()
    if not form.validate_on_submit():
        return _say_answer(decision, form, 422)
    try:
        names = service.say(current_user, decision, Stance(form.stance.data), form.comment.data)
    except PlanningRefused as exc:
        return _say_answer(decision, form, 409, problem=str(exc))
    message = f"Thank you. Your say is saved for {' and '.join(names)}."
    if request.htmx:
        return _say_answer(service.get_decision(decision_id), None, 200, saved=message)
    flash(message, "success")
    return redirect(url_for("planning.show_decision", decision_id=decision_id), 303)


def _say_answer(decision, form, status, problem="", saved=""):
    if not request.htmx:
        return decision_page(decision, say_form=form, status=status, problem=problem)
    record = service.record_of(decision)
    return render_template(
        "planning/_says.html",
        record=record,
        say_form=form or forms.SayForm(formdata=None),
        can_say=True,
        problem=problem,
        saved=saved,
    ), status


@bp.post("/planning/decisions/<int:decision_id>/close")
@organising_group_only
def close_decision(decision_id: int):
    """Record what was decided and why. If someone beat you to it, say so."""
    decision = _decision_or_404(decision_id)
    form = forms.CloseForm()
    if not form.validate_on_submit():
        return decision_page(decision, close_form=form, status=422)
    try:
        service.close(
            current_user, decision_id, form.decided.data, form.why.data, form.publish.data
        )
    except AlreadyDecided as exc:
        return decision_page(service.get_decision(decision_id), status=409, problem=str(exc))
    flash("Thank you. The decision is recorded.", "success")
    return redirect(url_for("planning.show_decision", decision_id=decision_id), 303)


@bp.get("/planning/report")
@organising_group_only
def show_report():
    """A plain record for a meeting: decisions since a date (4 weeks ago unless given)."""
    asked = request.args.get("since", "")
    since = _date(asked)
    if since is None:
        since = (to_london(utcnow()) - timedelta(days=REPORT_DAYS)).date()
    start = datetime.combine(since, time(), tzinfo=LONDON)
    return render_template(
        "planning/report.html",
        records=service.report_since(start),
        since=since,
        bad_date=bool(asked) and _date(asked) is None,
    )


def _date(text: str) -> date | None:
    try:
        found = datetime.strptime(text, "%Y-%m-%d").date() if text else None
    except ValueError:
        return None
    # Far-off years would overflow turning UK time into UTC.
    return found if found and 2000 <= found.year <= 2999 else None


@bp.get("/how-we-organised-this")
def show_published():
    """For everyone: the decisions the organising group chose to publish."""
    return render_template("planning/published.html", records=service.published())
