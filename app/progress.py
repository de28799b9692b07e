"""The live progress partial's HTTP answer, shared by the event page and every sponsor page."""

from flask import make_response, render_template, request

from app.events.service import Progress

# htmx stops polling when it gets this status: the event is over, the bar is final.
STOP_POLLING = 286


def progress_response(progress: Progress, template: str, **context):
    """Render the partial, or answer 304 when the browser already shows this version."""
    return polled_response(
        progress.etag, template, stop_polling=progress.closed, progress=progress, **context
    )


def polled_response(etag: str, template: str, stop_polling: bool = False, **context):
    """A fragment that htmx polls: 304 when the browser already shows version `etag`, and
    286 (stop) instead of 200 once nothing will change again."""
    polling = bool(request.htmx)
    if etag in request.if_none_match and not (stop_polling and polling):
        response = make_response("", 304)
    else:
        status = STOP_POLLING if stop_polling and polling else 200
        response = make_response(render_template(template, **context), status)
    response.set_etag(etag)
    # Always ask again; the ETag makes asking cheap.
    response.headers["Cache-Control"] = "no-cache"
    return response
