"""The live progress partial's HTTP answer, shared by the event page and every sponsor page."""

from flask import make_response, render_template, request

from app.events.service import Progress

# htmx stops polling when it gets this status: the event is over, the bar is final.
STOP_POLLING = 286


def progress_response(progress: Progress, template: str, **context):
    """Render the partial, or answer 304 when the browser already shows this version."""
    polling = bool(request.htmx)
    if progress.etag in request.if_none_match and not (progress.closed and polling):
        response = make_response("", 304)
    else:
        status = STOP_POLLING if progress.closed and polling else 200
        response = make_response(render_template(template, progress=progress, **context), status)
    response.set_etag(progress.etag)
    # Always ask again; the ETag makes asking cheap.
    response.headers["Cache-Control"] = "no-cache"
    return response
