"""Moderation: pages waiting for approval or hidden, donors' messages and sponsor updates.

Each item on the page has its own form, prefixed with the item (`page-3-reason`), so ids stay
unique and an error shows beside the form it is about."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models import SponsorPage, SponsorUpdate
from app.organiser import forms, moderation
from app.organiser.rendering import donation_or_404, donation_page, forms_for
from app.pages import service as pages
from app.pages.forms import ModerationForm

bp = Blueprint("moderation", __name__)


@bp.get("/moderation")
def show_moderation():
    """What to look at: pages waiting or hidden, the latest messages and updates."""
    return _moderation_page()


def _moderation_page(status: int = 200, failed: dict | None = None):
    return render_template(
        "organiser/moderation.html",
        pages=pages.pages_for_moderation(),
        messages=moderation.recent_messages(),
        hidden_messages=moderation.hidden_messages(),
        updates=moderation.recent_updates(),
        hidden_updates=moderation.hidden_updates(),
        page_form=forms_for(lambda key: ModerationForm(formdata=None, prefix=key), failed),
        hide_form=forms_for(lambda key: forms.HideForm(formdata=None, prefix=key), failed),
    ), status


@bp.post("/pages/<int:page_id>/moderate")
def moderate_page(page_id: int):
    """Approve, hide (saying why) or restore a sponsor page."""
    page = db.session.get(SponsorPage, page_id) or abort(404)
    form = ModerationForm(prefix=f"page-{page.id}")
    if not form.validate_on_submit():
        return _moderation_page(422, {form._prefix.rstrip("-"): form})
    flash(pages.moderate(page, form.action.data, form.reason.data or ""), "success")
    return redirect(url_for("organiser.moderation.show_moderation"), 303)


@bp.post("/donations/<int:donation_id>/message")
def moderate_message(donation_id: int):
    """Hide (saying why) or restore a donor's message."""
    donation = donation_or_404(donation_id)
    form = forms.HideForm(prefix=f"message-{donation.id}")
    from_moderation = request.form.get("next") == "moderation"
    if not form.validate_on_submit():
        if from_moderation:
            return _moderation_page(422, {f"message-{donation.id}": form})
        return donation_page(donation_id, 422, hide_form=form)
    flash(moderation.moderate_message(donation, form.action.data, form.reason.data), "success")
    if from_moderation:
        return redirect(url_for("organiser.moderation.show_moderation") + "#messages", 303)
    return redirect(url_for("organiser.show_donation", donation_id=donation_id), 303)


@bp.post("/updates/<int:update_id>/moderate")
def moderate_update(update_id: int):
    """Hide (saying why) or restore a sponsor update."""
    update = db.session.get(SponsorUpdate, update_id) or abort(404)
    form = forms.HideForm(prefix=f"update-{update.id}")
    if not form.validate_on_submit():
        return _moderation_page(422, {f"update-{update.id}": form})
    flash(moderation.moderate_update(update, form.action.data, form.reason.data), "success")
    return redirect(url_for("organiser.moderation.show_moderation") + "#updates", 303)
