"""Every error answer in one place: a page in words for people, JSON for programs that ask
for it (and the health checks), and for a server error a page that needs no database, after the
failed transaction is rolled back. Optional error reporting to Sentry when SENTRY_DSN is set."""

import logging
import math
import time

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from app import logs
from app.extensions import db

log = logging.getLogger(__name__)
DEFAULT_RETRY_SECONDS = 60
# Blueprints whose callers are programs, not people: they get JSON, never a page.
MACHINE_BLUEPRINTS = {"health"}


class Plunge(Flask):
    """Flask, logging an unhandled exception by its route rather than its path (Flask's own
    line quotes the path, and a path can hold a password-reset token)."""

    def log_exception(self, exc_info) -> None:
        """Log an exception that will be answered with the 500 page."""
        route = request.url_rule.rule if request.url_rule else "(no route)"
        log.error(
            "unhandled %s in %s %s", exc_info[0].__name__, request.method, route, exc_info=exc_info
        )


def wants_json() -> bool:
    """True when the caller is a program: a health check, or an Accept header preferring JSON
    to HTML. (Stripe's webhook keeps the pages it always had: Stripe reads only the status.)"""
    if request.blueprint in MACHINE_BLUEPRINTS:
        return True
    # On a tie (*/*, or no Accept at all) the page wins: browsers list HTML first anyway.
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _json(error: str, status: int, headers: dict | None = None):
    return jsonify(error=error, request_id=logs.request_id()), status, headers or {}


def bad_request(_error):
    """A request the site can't make sense of: say so plainly."""
    if wants_json():
        return _json("bad request", 400)
    return render_template("errors/400.html"), 400


def csrf_failed(_error):
    """A form sent without a valid token, usually one left open too long: say what to do."""
    return render_template("errors/csrf.html"), 400


def forbidden(_error):
    """Logged in, but not allowed (an organiser's action): a page in words, not a bare 403."""
    if wants_json():
        return _json("forbidden", 403)
    return render_template("errors/403.html"), 403


def not_found(_error):
    """No page at this address."""
    if wants_json():
        return _json("not found", 404)
    return render_template("errors/404.html"), 404


def method_not_allowed(error):
    """The address exists but not for this method (a GET of a form's target, say)."""
    headers = {"Allow": ", ".join(sorted(error.valid_methods))} if error.valid_methods else {}
    if wants_json():
        return _json("method not allowed", 405, headers)
    return render_template("errors/405.html"), 405, headers


def too_large(_error):
    """A file over the size limit: said beside the photo field when it was the photo form,
    else as a page, not as a bare 413."""
    from app.pages import photos

    if wants_json():
        return _json("request too large", 413)
    message = f"That file is too big. Choose a photo smaller than {photos.size_limit_text()}."
    if request.endpoint == "me.upload_photo":
        from app.pages.me import photo_too_large

        answer = photo_too_large(message)
        if answer is not None:
            return answer
    if request.endpoint == "news.post_item":
        from app.news.views import too_large as news_too_large

        answer = news_too_large(message)
        if answer is not None:
            return answer
    return render_template("errors/413.html", message=message), 413


def retry_after_seconds() -> int:
    """Seconds until the limit just hit lets this client try again."""
    from app.extensions import limiter

    breached = limiter.current_limit
    if breached is None:
        return DEFAULT_RETRY_SECONDS
    reset_at, _remaining = breached.window
    return max(1, math.ceil(reset_at - time.time()))


def wait_in_words(seconds: int) -> str:
    """'30 seconds', 'a minute', '5 minutes', 'an hour': how long to wait, as people say it."""
    if seconds < 55:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = math.ceil(seconds / 60)
    if minutes == 1:
        return "a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return "an hour" if hours == 1 else f"{hours} hours"


def too_many_attempts(_error):
    """Rate limited: a page saying how long to wait, and Retry-After saying it to machines."""
    seconds = retry_after_seconds()
    headers = {"Retry-After": str(seconds)}
    if wants_json():
        return _json("too many requests", 429, headers)
    return render_template("errors/429.html", wait=wait_in_words(seconds)), 429, headers


def server_error(_error):
    """Something broke: undo the request's transaction and answer with a page that asks
    nothing of the database, which may be what broke."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("rolling back after the error failed too", exc_info=True)
    g.pop("outbox_has_mail", None)  # rolled back with everything else: nothing to send
    if wants_json():
        return _json("server error", 500)
    return render_template("errors/500.html", request_id=logs.request_id()), 500


def register_error_handlers(app: Flask) -> None:
    """Answer every error the site can give; the most specific handler wins (CSRF over 400)."""
    app.register_error_handler(400, bad_request)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, method_not_allowed)
    app.register_error_handler(413, too_large)
    app.register_error_handler(429, too_many_attempts)
    app.register_error_handler(500, server_error)
    _init_sentry(app)


# Sentry ---------------------------------------------------------------------------------

_SECRET_HEADERS = {"cookie", "authorization", "x-csrftoken", "stripe-signature"}


def scrub(event: dict, _hint: dict | None = None) -> dict:
    """Sentry's before_send: drop cookies, form data, query strings and secret headers, and
    mask email addresses everywhere else (messages, exception values, breadcrumbs)."""
    req = event.get("request")
    if isinstance(req, dict):
        for key in ("cookies", "data", "query_string", "env"):
            req.pop(key, None)
        headers = req.get("headers")
        if isinstance(headers, dict):
            req["headers"] = {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
        if isinstance(req.get("url"), str):
            req["url"] = req["url"].split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {k: v for k, v in user.items() if k == "id"}
    return _mask(event)


def _mask(value):
    if isinstance(value, str):
        return logs.mask_emails(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _init_sentry(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN", "")
    if not dsn:
        return
    try:
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
    except ImportError as exc:
        raise RuntimeError(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install '.[sentry]'"
        ) from exc
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT") or app.config.get("PLUNGE_ENV"),
        integrations=[FlaskIntegration()],
        send_default_pii=False,
        include_local_variables=False,  # a frame's locals may hold a password or health answer
        max_request_body_size="never",
        before_send=scrub,
        traces_sample_rate=0,
    )
