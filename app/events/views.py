"""The event page and its live progress partial."""

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory

from app.events import service
from app.extensions import limiter
from app.microcache import shared_page
from app.news import service as news
from app.progress import progress_response

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
    return render_template(
        "events/show.html",
        event=event,
        progress=service.event_progress(),
        leaderboard=service.leaderboard(),
        recent=service.recent_donations(),
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
