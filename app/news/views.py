"""The event page's news feed: the polled partial, posting, and hiding an item."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.auth.roles import roles_required
from app.extensions import db, limiter
from app.models import NewsItem, NewsKind, Role
from app.news import bp, service
from app.news.forms import KIND_LABELS, NewsForm
from app.pages import photos
from app.progress import polled_response


@bp.get("/news")
@limiter.exempt
def show_feed():
    """The feed alone, polled by htmx: 304 while nothing changed, 286 once the event closed."""
    version = service.feed_version() or abort(404)
    return polled_response(
        version.etag,
        "news/_feed.html",
        stop_polling=version.closed,
        news=service.feed(),
        polled=True,
    )


@bp.get("/news/post")
@login_required
def new_item():
    """The form to post news, with the feed as it is (and, for organisers, hide buttons)."""
    return _page(_form())


@bp.post("/news/post")
@login_required
def post_item():
    """Post an update to the feed; errors beside the field."""
    form = _form(posted=True)
    if form.validate_on_submit():
        photo = form.photo.data.stream if form.has_photo() else None
        try:
            service.post(
                current_user, NewsKind(form.kind.data), form.body.data, photo, form.photo_alt.data
            )
        except photos.PhotoError as exc:
            db.session.rollback()
            form.photo.errors.append(str(exc))
        else:
            flash("Your news is on the event page.", "success")
            return redirect(url_for("news.new_item"), 303)
    return _page(form, 422)


@bp.post("/news/<int:item_id>/hide")
@roles_required(Role.ORGANISER)
def hide_item(item_id: int):
    """Take an item off the feed (kept, with who hid it, in the history)."""
    item = db.session.get(NewsItem, item_id) or abort(404)
    service.hide(item, current_user)
    flash("That item is hidden from the event page.", "success")
    return redirect(url_for("news.new_item"), 303)


def _form(posted: bool = False) -> NewsForm:
    kinds = service.may_post(current_user)
    if not kinds:
        abort(403)
    form = NewsForm() if posted else NewsForm(formdata=None)
    form.kind.choices = [SelectChoice(k, v) for k, v in KIND_LABELS.items() if NewsKind(k) in kinds]
    if not posted:
        form.kind.data = form.kind.choices[0].value
    return form


def _page(form, status=200):
    return render_template(
        "news/post.html",
        form=form,
        news=service.feed(),
        size_limit=photos.size_limit_text(),
    ), status


def too_large(message: str):
    """The news form with `message` beside the photo field (status 413), for someone who may
    post; else None (app/errors.py answers)."""
    if not (current_user.is_authenticated and service.may_post(current_user)):
        return None
    form = _form()  # blank: the body that was too big is never read
    form.photo.errors = [message]
    return _page(form, 413)


@bp.app_template_global()
def done_it(participant) -> bool:
    """Whether the participant has done it (for the "Done it!" badge)."""
    return participant is not None and service.done_it(participant)
