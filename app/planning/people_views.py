"""The organising group's people: the groups and who is in each, inviting planners, a
planner accepting, and turning the weekly email on or off."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth import service as accounts
from app.auth.forms import NewPasswordForm
from app.extensions import db
from app.models import PlanningGroup, User
from app.planning import bp, forms, people, reminders
from app.planning.access import organisers_only, organising_group_only
from app.planning.service import PlanningRefused, group_ids_of, groups_of


def groups_page(group_form=None, invite_form=None, status=200, problem=""):
    """The groups page, with its forms (as sent back, when they had a problem)."""
    groups = people.all_groups()
    choices = [(g.id, g.name) for g in groups if g.retired_at is None]
    invite_form = invite_form or forms.InvitePlannerForm(formdata=None)
    invite_form.groups.choices = [SelectChoice(*choice) for choice in choices]
    everyone = [(p, group_ids_of(p.id), groups_of(p.id)) for p in people.organising_people()]
    return render_template(
        "planning/groups.html",
        groups=groups,
        choices=choices,
        people=everyone,
        members={g.id: [p.name for p, ids, _ in everyone if g.id in ids] for g in groups},
        group_form=group_form or forms.GroupForm(formdata=None),
        invite_form=invite_form,
        problem=problem,
    ), status


@bp.get("/planning/groups")
@organising_group_only
def list_groups():
    """Every group and who is in it; organisers can change them here."""
    return groups_page()


@bp.post("/planning/groups")
@organisers_only
def add_group():
    """Add a group: it is asked about every decision from now on."""
    form = forms.GroupForm()
    if form.validate_on_submit():
        try:
            group = people.add_group(form.name.data, form.about.data or "")
        except PlanningRefused as exc:
            form.name.errors.append(str(exc))
        else:
            flash(f"Added the group {group.name}.", "success")
            return redirect(url_for("planning.list_groups"), 303)
    return groups_page(group_form=form, status=422)


@bp.post("/planning/groups/<int:group_id>")
@organisers_only
def edit_group(group_id: int):
    """Rename a group, or stop (or start again) asking it."""
    group = db.session.get(PlanningGroup, group_id) or abort(404)
    form = forms.GroupForm(prefix=f"group-{group_id}")
    if form.validate_on_submit():
        try:
            people.change_group(group, form.name.data, form.about.data or "", form.retired.data)
        except PlanningRefused as exc:
            return groups_page(status=422, problem=str(exc))
        flash(f"Saved the group {group.name}.", "success")
        return redirect(url_for("planning.list_groups"), 303)
    problem = next(iter(form.errors.values()))[0] if form.errors else ""
    return groups_page(status=422, problem=problem)


@bp.post("/planning/people/<int:user_id>/groups")
@organisers_only
def set_member_groups(user_id: int):
    """Put someone in the groups ticked."""
    user = db.session.get(User, user_id) or abort(404)
    form = forms.MemberForm(prefix=f"member-{user_id}")
    if not form.validate_on_submit():
        return groups_page(status=422, problem="Tick the groups again, then save.")
    try:
        people.set_groups(user, set(form.groups.data or ()))
    except PlanningRefused:
        abort(404)  # not someone who plans
    flash(f"Saved {user.name}'s groups.", "success")
    return redirect(url_for("planning.list_groups"), 303)


@bp.post("/planning/planners/invite")
@organisers_only
def invite_planner():
    """Email someone a link to join the planning (no donor, money or health data)."""
    form = forms.InvitePlannerForm()
    form.groups.choices = [SelectChoice(g.id, g.name) for g in people.all_groups()]
    if form.validate_on_submit():
        try:
            people.invite_planner(
                form.name.data, form.email.data, set(form.groups.data or ()), current_user
            )
        except PlanningRefused as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"We have emailed an invitation to {form.email.data}.", "success")
            return redirect(url_for("planning.list_groups"), 303)
    return groups_page(invite_form=form, status=422)


@bp.route("/planning/join/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """An emailed invitation to plan: choose a password (the link works once)."""
    user = people.user_for_invite(token)
    if user is None:
        return render_template("planning/link_expired.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        people.accept_invite(user, form.password.data)
        accounts.log_in(user)
        flash(f"Welcome, {user.name}! You can now help plan the event.", "success")
        return redirect(url_for("planning.home"), 303)
    status = 422 if form.errors else 200
    return render_template("planning/accept_invite.html", form=form, name=user.name), status


@bp.post("/planning/reminders")
@organising_group_only
def turn_my_reminders():
    """Turn my weekly email on or off (from the planning page)."""
    on = request.form.get("reminders") == "on"
    reminders.turn(current_user.id, on)
    flash("The weekly email is on." if on else "The weekly email is off.", "success")
    return redirect(url_for("planning.home"), 303)


@bp.route("/planning/reminders/<token>", methods=["GET", "POST"])
def reminder_settings(token: str):
    """The email's "stop these emails" link: one button, no log-in needed."""
    user = reminders.user_for_link(token) or abort(404)
    if request.method == "POST":
        reminders.turn(user.id, request.form.get("reminders") == "on")
    return render_template(
        "planning/reminder_settings.html", on=reminders.is_on(user.id), token=token
    )
