"""The event's settings, and the organisers (inviting another by email)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth import service as accounts
from app.auth import two_factor
from app.auth.forms import ConfirmForm
from app.auth.sessions import recent_password_required
from app.events.service import get_event
from app.extensions import db
from app.models import Role, User
from app.organiser import forms, pictures
from app.organiser.settings import EventSettingsForm, save_settings
from app.pages import photos

bp = Blueprint("settings", __name__)


@bp.route("/settings", methods=["GET", "POST"])
def edit_settings():
    """Every setting of the event, on one page."""
    event = get_event() or abort(404)
    posted = request.method == "POST"
    form = EventSettingsForm() if posted else EventSettingsForm.for_event(event)
    if form.validate_on_submit():
        changed = save_settings(event, form.all_settings())
        flash(f"Saved: {', '.join(changed)}." if changed else "Nothing changed.", "success")
        return redirect(url_for("organiser.settings.edit_settings"), 303)
    status = 422 if form.errors else 200
    return _settings_page(event, form=form, status=status)


def _settings_page(event, form=None, status=200, **picture_forms):
    forms_by_kind = {
        kind: picture_forms.get(kind) or forms.EventPictureForm(formdata=None, prefix=kind)
        for kind in pictures.KINDS
    }
    return render_template(
        "organiser/settings.html",
        form=form or EventSettingsForm.for_event(event),
        event=event,
        picture_forms=forms_by_kind,
        size_limit=photos.size_limit_text(),
    ), status


@bp.post("/settings/pictures/<kind>")
def upload_picture(kind: str):
    """Upload the event image or the charity's logo, cleaned like photos; errors beside it."""
    event = get_event() or abort(404)
    if kind not in pictures.KINDS:
        abort(404)
    form = forms.EventPictureForm(prefix=kind)
    if form.validate_on_submit():
        try:
            pictures.replace_picture(event, kind, form.file.data.stream, form.alt.data or "")
        except photos.PhotoError as exc:
            form.file.errors.append(str(exc))
        else:
            flash("The picture is saved.", "success")
            return redirect(url_for("organiser.settings.edit_settings") + "#pictures", 303)
    return _settings_page(event, status=422, **{kind: form})


@bp.post("/settings/pictures/<kind>/delete")
def delete_picture(kind: str):
    """Take the event image or the logo off the site."""
    event = get_event() or abort(404)
    if kind not in pictures.KINDS:
        abort(404)
    pictures.remove_picture(event, kind)
    flash("The picture is removed.", "success")
    return redirect(url_for("organiser.settings.edit_settings") + "#pictures", 303)


@bp.get("/organisers")
@recent_password_required()
def list_organisers():
    """Everyone who can see this dashboard, and a form to invite someone else."""
    return _organisers_page(forms.InviteForm(formdata=None))


def _organisers_page(form, status: int = 200):
    organisers = db.session.scalars(
        select(User).where(User.role == Role.ORGANISER).order_by(User.name)
    ).all()
    return render_template(
        "organiser/organisers.html",
        organisers=organisers,
        form=form,
        second_factor=two_factor.confirmed,
    ), status


@bp.post("/organisers/invite")
@recent_password_required(back="organiser.settings.list_organisers")
def invite_organiser():
    """Email someone a link to become an organiser (it works once, for a few days)."""
    form = forms.InviteForm()
    if form.validate_on_submit():
        try:
            accounts.invite_organiser(form.name.data, form.email.data, current_user)
        except accounts.InviteRefused as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"We've emailed an invitation to {form.email.data}.", "success")
            return redirect(url_for("organiser.settings.list_organisers"), 303)
    return _organisers_page(form, 422)


@bp.post("/organisers/<int:user_id>/second-factor/reset")
@recent_password_required(back="organiser.settings.list_organisers")
def reset_second_factor(user_id: int):
    """A lost phone: another organiser removes their second factor (and recovery codes), which
    logs them out everywhere; they set a new one up at their next log-in."""
    organiser = db.session.get(User, user_id)
    if organiser is None or not organiser.is_organiser:
        abort(404)
    if ConfirmForm().validate_on_submit():
        if organiser.id == current_user.id:
            flash("You can't reset your own second factor: ask another organiser.", "error")
        elif two_factor.reset(organiser, by=current_user._get_current_object()):
            flash(
                f"{organiser.name}'s second factor is reset: they set up a new one when they "
                "next log in.",
                "success",
            )
        else:
            flash(f"{organiser.name} has no second factor to reset.", "info")
    return redirect(url_for("organiser.settings.list_organisers"), 303)
