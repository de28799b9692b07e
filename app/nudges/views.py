"""The participant's fundraiser emails, at /me/emails: which they get."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.roles import roles_required
from app.events.service import get_event
from app.extensions import db
from app.models import NudgeKind, Role
from app.nudges import bp, service
from app.nudges.forms import NudgeChoicesForm

# Anyone who may have a sponsor page: participants, and organisers who take part too.
fundraisers_only = roles_required(Role.PARTICIPANT, Role.ORGANISER)


@bp.get("")
@fundraisers_only
def edit_choices():
    """Which fundraiser emails you get (each on until you turn it off)."""
    off = service.turned_off(current_user.id)
    on = not service.unsubscribed(current_user)  # a link's "no" unticks them all
    form = NudgeChoicesForm(formdata=None, data={k.value: on and k not in off for k in NudgeKind})
    return _page(form)


@bp.post("")
@fundraisers_only
def save_choices():
    """Save the ticked kinds; the others stop at once."""
    form = NudgeChoicesForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    service.set_choices(current_user, form.wanted())
    db.session.commit()
    flash("Your email choices are saved.", "success")
    return redirect(url_for("nudges.edit_choices"), 303)


def _page(form, status=200):
    event = get_event()
    switched_off = {k.value for k in NudgeKind if event and not service.switched_on(event, k)}
    return render_template(
        "nudges/choices.html",
        form=form,
        switched_off=switched_off,
        unsubscribed=service.unsubscribed(current_user),
    ), status
