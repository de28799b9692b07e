"""Team pages at /t/<slug>: the page, its live bar, sponsoring it, and running the team."""

import hashlib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import share
from app.auth.roles import require_organiser
from app.database import begin_write
from app.events.service import get_event, recent_donations
from app.extensions import db, limiter
from app.images import share as share_images
from app.pages.photos import PhotoError
from app.progress import polled_response, progress_response
from app.teams import forms, membership, service

bp = Blueprint("teams", __name__)


@bp.get("/t/<slug>")
def show_team(slug: str):
    """A team's page: photo, story, its own bar, members and what each raised."""
    team = service.viewable_team(slug)
    manage = service.may_manage(current_user, team)
    event, progress = get_event(), service.team_progress(team.id)
    return render_template(
        "teams/show.html",
        team=team,
        event=event,
        progress=progress,
        link_preview=share.team_preview(team, event, progress),
        shared=share.for_team(team, event),
        members=service.members(team, include_waiting=manage),
        recent=recent_donations(10, team_id=team.id),
        manage=manage,
        my_page=_my_page(),
        my_membership=_my_membership(),
        merge_form=forms.MergeForm(formdata=None),
    )


@bp.get("/t/<slug>/progress")
@limiter.exempt
def show_progress(slug: str):
    """The team's progress bar alone, polled by htmx every few seconds."""
    team = service.viewable_team(slug)
    return progress_response(service.team_progress(team.id), "events/_progress.html")


@bp.get("/t/<slug>/share.png")
def show_share_image(slug: str):
    """The team's link-preview picture (1200x630): photo, name, event, total and bar. A
    hidden team's exists only for its managers (privately); a merged team's leads on."""
    team = service.viewable_team(slug)
    progress = service.team_progress(team.id)
    if progress is None:
        abort(404)
    card = share_images.team_card(team, get_event(), progress)
    return share_images.response(card, public=team.is_public)


@bp.get("/t/<slug>/sponsor")
def sponsor_team(slug: str):
    """The donor picks a member or the team itself; then on to that donation form."""
    team = service.public_team_or_404(slug)
    choice = request.args.get("to", "")
    members = service.members(team)
    if choice == "team":
        return redirect(url_for("donations.donate_to_event", team=team.slug), 303)
    if choice in {member.slug for member in members}:
        return redirect(url_for("donations.donate", slug=choice), 303)
    status = 422 if choice else 200
    return render_template("teams/sponsor.html", team=team, members=members, chosen=choice), status


@bp.get("/teams")
def list_teams():
    """Every team anyone can see (and, for organisers, hidden ones too)."""
    return render_template(
        "teams/index.html",
        teams=service.public_teams(include_hidden=_is_organiser()),
        my_page=_my_page(),
        my_membership=_my_membership(),
    )


@bp.get("/teams/leaderboard")
@limiter.exempt
def show_leaderboard():
    """The event page's team leaderboard alone, polled by htmx; 304 when unchanged."""
    entries = service.leaderboard()
    etag = hashlib.sha256(repr(entries).encode()).hexdigest()[:20]
    return polled_response(etag, "teams/_leaderboard.html", team_leaderboard=entries)


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def create_team():
    """A participant starts a team (and captains it); an organiser may make one for others."""
    page = _my_page()
    if page is None and not _is_organiser():
        abort(403)
    form = forms.TeamForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("teams/edit.html", form=form, team=None), status
    begin_write()
    team = service.create_team(
        form.name.data,
        captain=None if _is_organiser() else _my_page(),
        story=form.story.data or "",
        target_pence=form.target_pence,
        join_approval=form.join_approval.data,
    )
    db.session.commit()
    flash("Your team is ready. Share its page and invite your friends to join.", "success")
    return redirect(url_for("teams.show_team", slug=team.slug), 303)


@bp.route("/t/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_team(slug: str):
    """The captain or an organiser renames the team, or changes its story, target and rule."""
    team = _managed(slug)
    form = forms.TeamForm() if request.method == "POST" else forms.TeamForm(data=_as_form(team))
    photo_form = forms.TeamPhotoForm(formdata=None)
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template(
            "teams/edit.html", form=form, team=team, photo_form=photo_form
        ), status
    service.update_team(
        team,
        name=form.name.data,
        story=form.story.data or "",
        target_pence=form.target_pence,
        join_approval=form.join_approval.data,
    )
    db.session.commit()
    flash("The team is saved.", "success")
    return redirect(url_for("teams.show_team", slug=team.slug), 303)


@bp.post("/t/<slug>/photo")
@login_required
def upload_photo(slug: str):
    """The captain or an organiser sets the team's photo."""
    team = _managed(slug)
    photo_form = forms.TeamPhotoForm()
    if photo_form.validate_on_submit():
        try:
            service.replace_photo(team, photo_form.file.data.stream, photo_form.alt.data)
        except PhotoError as exc:
            photo_form.file.errors.append(str(exc))
        else:
            db.session.commit()
            flash("The team's photo is saved.", "success")
            return redirect(url_for("teams.show_team", slug=team.slug), 303)
    form = forms.TeamForm(formdata=None, data=_as_form(team))
    return render_template("teams/edit.html", form=form, team=team, photo_form=photo_form), 422


@bp.post("/t/<slug>/join")
@login_required
def join_team(slug: str):
    """A participant joins (or moves to) this team; their page's money comes with them."""
    begin_write()
    team, page = service.public_team_or_404(slug), _my_page()
    if page is None:
        abort(403)
    try:
        member = membership.join(page, team)
    except membership.MembershipError as exc:
        flash(str(exc), "error")
        return redirect(url_for("teams.show_team", slug=team.slug), 303)
    db.session.commit()
    flash(
        f"You're in {team.name}."
        if member.approved_at
        else f"You've asked to join {team.name}. You'll count for the team once you're let in.",
        "success",
    )
    return redirect(url_for("teams.show_team", slug=team.slug), 303)


@bp.post("/teams/leave")
@login_required
def leave_team():
    """A participant leaves their team; their page's money leaves the team's total."""
    begin_write()
    page = _my_page()
    if page is None:
        abort(403)
    try:
        membership.leave(page)
    except membership.MembershipError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("You've left the team.", "success")
    return redirect(url_for("teams.list_teams"), 303)


@bp.post("/t/<slug>/members/<int:page_id>/approve")
@login_required
def approve_member(slug: str, page_id: int):
    """The captain (or an organiser, whatever the team's rule) lets a waiting member in."""
    begin_write()
    team = _managed(slug)
    if team.join_approval == "organiser" and not _is_organiser():
        abort(403)
    member = db.session.get(membership.TeamMember, page_id)
    if member is None or member.team_id != team.id:
        abort(404)
    membership.approve(member)
    db.session.commit()
    flash("They're in the team now.", "success")
    return redirect(url_for("teams.show_team", slug=team.slug), 303)


@bp.post("/t/<slug>/visibility")
@login_required
def set_visibility(slug: str):
    """An organiser hides the team from the public, or shows it again."""
    require_organiser()
    team = _managed(slug)
    hide = request.form.get("action") == "hide"
    service.set_hidden(team, hide)
    db.session.commit()
    flash("The team is hidden from the public." if hide else "The team is shown again.", "success")
    return redirect(url_for("teams.show_team", slug=team.slug), 303)


@bp.post("/t/<slug>/merge")
@login_required
def merge_team(slug: str):
    """An organiser merges this team into another: members and money move there."""
    require_organiser()
    begin_write()
    team = _managed(slug)
    form = forms.MergeForm()
    into = service.find_team(form.into.data or "") if form.validate_on_submit() else None
    if into is None:
        flash("Choose a team to merge into, by its address.", "error")
        return redirect(url_for("teams.show_team", slug=team.slug), 303)
    try:
        membership.merge(team, into)
    except membership.MembershipError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("teams.show_team", slug=team.slug), 303)
    db.session.commit()
    flash(f"Merged into {into.name}.", "success")
    return redirect(url_for("teams.show_team", slug=into.slug), 303)


def _managed(slug: str):
    team = service.viewable_team(slug)
    if not service.may_manage(current_user, team):
        abort(403)
    return team


def _my_page():
    if not current_user.is_authenticated:
        return None
    return current_user.sponsor_page


def _my_membership():
    page = _my_page()
    return membership.membership_of(page) if page is not None else None


def _is_organiser() -> bool:
    return bool(current_user.is_authenticated and current_user.is_organiser)


def _as_form(team) -> dict:
    return {
        "name": team.name,
        "story": team.story,
        "target": f"{team.target_pence / 100:g}",
        "join_approval": str(team.join_approval),
    }
