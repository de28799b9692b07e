"""The public sponsor page at /p/<slug>: photo, story, progress, sharing, and moderation."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app import share
from app.auth.roles import require_organiser
from app.events.service import get_event, page_progress, recent_donations
from app.extensions import limiter
from app.images import share as share_images
from app.numbers import cursor
from app.pages import forms, service, sharing
from app.pages.text import paragraphs
from app.progress import progress_response

bp = Blueprint("pages", __name__)
bp.add_app_template_filter(paragraphs, "paragraphs")

# Donations listed at a time on a sponsor page, newest first; "Older donations" pages back.
# A page's cost must not grow with its donations, so the list never does either.
PUBLIC_DONATIONS = 20


# The public page ------------------------------------------------------------------------


@bp.get("/p/<slug>")
def show_page(slug: str):
    """A participant's page: photo, story, progress, updates, donations and replies."""
    page = service.viewable_page(slug)
    progress = page_progress(page.id)
    event = get_event()
    older_than = cursor(request.args.get("older_than"))
    # One more than we show, to know whether there are older ones.
    recent = recent_donations(PUBLIC_DONATIONS + 1, page.id, older_than=older_than)
    return render_template(
        "pages/show.html",
        page=page,
        progress=progress,
        link_preview=share.page_preview(
            page, event, progress, sharing.summary(page, progress, event)
        ),
        recent=recent[:PUBLIC_DONATIONS],
        older_than=recent[PUBLIC_DONATIONS - 1].id if len(recent) > PUBLIC_DONATIONS else None,
        listing_older=older_than is not None,
        updates=service.visible_updates(page),
        share_url=sharing.page_url(page),
        share_message=sharing.message(page),
        donate_url=service.donate_url(page),
        manage=service.may_manage(current_user, page),
        moderation_form=forms.ModerationForm(formdata=None),
    )


@bp.get("/p/<slug>/progress")
@limiter.exempt
def show_progress(slug: str):
    """The page's progress bar alone, polled by htmx every few seconds."""
    page = service.viewable_page(slug)
    return progress_response(page_progress(page.id), "events/_progress.html")


@bp.get("/p/<slug>/qr.svg")
def qr_svg(slug: str):
    """A QR code of the page's address, as SVG."""
    page = service.viewable_page(slug)
    return _download(sharing.qr_svg(page), "image/svg+xml", f"{page.slug}-qr.svg")


@bp.get("/p/<slug>/qr.png")
def qr_png(slug: str):
    """A QR code of the page's address, as a PNG big enough to print on a poster."""
    page = service.viewable_page(slug)
    return _download(sharing.qr_png(page), "image/png", f"{page.slug}-qr.png")


@bp.get("/p/<slug>/share.png")
def show_share_image(slug: str):
    """The page's link-preview picture (1200x630): photo, name, event, total and bar."""
    page = service.viewable_page(slug)
    progress = page_progress(page.id)
    if progress is None:
        abort(404)
    card = share_images.page_card(page, get_event(), progress)
    return share_images.response(card, public=page.is_public)


def _download(data: bytes, mimetype: str, filename: str):
    response = make_response(data)
    response.mimetype = mimetype
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


# Moderation by organisers ---------------------------------------------------------------


@bp.post("/p/<slug>/moderation")
@login_required
def moderate_page(slug: str):
    """An organiser approves, hides (saying why) or unhides a page."""
    require_organiser()
    page = service.viewable_page(slug)
    form = forms.ModerationForm()
    if form.validate_on_submit():
        flash(service.moderate(page, form.action.data, form.reason.data or ""), "success")
    else:
        flash(next(iter(form.errors.values()))[0], "error")
    return redirect(url_for("pages.show_page", slug=page.slug), 303)


@bp.post("/p/<slug>/updates/<int:update_id>/hide")
@login_required
def hide_update(slug: str, update_id: int):
    """An organiser hides one update from the public."""
    require_organiser()
    page = service.viewable_page(slug)
    service.hide_update(service.page_update_or_404(page, update_id))
    flash("The update is hidden from the public.", "success")
    return redirect(url_for("pages.show_page", slug=page.slug), 303)
