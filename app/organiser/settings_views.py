"""The event's settings, and the organisers (inviting another by email)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth import service as accounts
from app.events.service import get_event
from app.extensions import db
from app.models import Role, User
from app.organiser import forms
from app.organiser.settings import EventSettingsForm, save_settings

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
    return render_template("organiser/settings.html", form=form, event=event), status


@bp.get("/organisers")
def list_organisers():
    """Everyone who can see this dashboard, and a form to invite someone else."""
    return _organisers_page(forms.InviteForm(formdata=None))


def _organisers_page(form, status: int = 200):
    organisers = db.session.scalars(
        select(User).where(User.role == Role.ORGANISER).order_by(User.name)
    ).all()
    return render_template("organiser/organisers.html", organisers=organisers, form=form), status


@bp.post("/organisers/invite")
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
