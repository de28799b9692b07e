"""The event page and its live progress partial."""

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory

from app import share
from app.events import service
from app.extensions import limiter
from app.images import share as share_images
from app.microcache import shared_page
from app.news import service as news
from app.progress import progress_response
from app.teams.service import leaderboard as team_leaderboard

bp = Blueprint("events", __name__)


@bp.get("/")
def show_event():
    """The event page: what, when, where, why, and how far toward the target."""
    page = shared_page("event", _render_event)
    if page is None:
        return render_template("events/not_configured.html"), 503
    return page


def _render_event() -> str | None:
    event = service.get_event()
    if event is None:
        return None
    progress = service.event_progress()
    return render_template(
        "events/show.html",
        event=event,
        progress=progress,
        leaderboard=service.leaderboard(),
        team_leaderboard=team_leaderboard(),
        recent=service.recent_donations(),
        shared=share.for_event(event),
        link_preview=share.event_preview(event, progress),
        news=news.feed(),
        shared_render=not request.cookies,
    )


@bp.get("/progress")
@limiter.exempt
def show_progress():
    """The event's progress bar alone, polled by htmx every few seconds."""
    progress = service.event_progress()
    if progress is None:
        abort(404)
    return progress_response(progress, "events/_progress.html")


@bp.get("/share.png")
def show_share_image():
    """The event's link-preview picture (1200x630): image, name, total and bar."""
    event, progress = service.get_event(), service.event_progress()
    if event is None or progress is None:
        abort(404)
    return share_images.response(share_images.event_card(event, progress), public=True)


@bp.get("/privacy")
def show_privacy():
    """The privacy notice: what we collect, why, who sees it, and for how long."""
    return render_template("events/privacy.html", event=service.get_event())


@bp.get("/accessibility")
def show_accessibility():
    """The accessibility statement: what we test, what we know falls short, how to tell us."""
    return render_template("events/accessibility.html", event=service.get_event())


@bp.get("/favicon.ico")
def show_favicon():
    """The tab icon browsers ask for at this address whatever a page declares (a real .ico,
    drawn as static/favicon.svg, for the browsers that cannot use the SVG)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)
