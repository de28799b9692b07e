"""Logging: one line per record on stdout, JSON in production and readable text in
development, each line carrying the request id, route and role of the request it belongs to,
and one access line per request.

What is never logged: paths and query strings (a reset token, an organiser's search for a
donor's email), form data, SQL parameters (hidden in production), and anything shaped like an
email address, which is masked in every line, tracebacks included."""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request
from flask_login import user_logged_in
from pythonjsonlogger.json import JsonFormatter
from werkzeug.wsgi import ClosingIterator

# What a proxy (nginx's $request_id) or a client may hand us as a request id: short, and
# nothing that could forge a log line or smuggle markup into a header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
EMAIL_MASK = "[email]"
# Libraries whose INFO lines repeat what the access line says, or say what is no concern of
# an operator (werkzeug's dev server logs whole paths, query strings and all).
QUIET = {
    "werkzeug": logging.WARNING,
    "stripe": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
}

# The request being served on this thread: its id, route and role, for every line it logs.
_current: ContextVar[dict | None] = ContextVar("plunge_request", default=None)
access_log = logging.getLogger("plunge.access")


def mask_emails(text: str) -> str:
    """`text` with every email address replaced by [email]."""
    return _EMAIL.sub(EMAIL_MASK, text) if "@" in text else text  # most lines have none


def request_id() -> str | None:
    """The id of the request being served (also in its X-Request-ID header), if any."""
    current = _current.get()
    return current["request_id"] if current else None


class RequestContextFilter(logging.Filter):
    """Add the current request's id, route and user role to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Fill in the request's fields the record does not already carry; keep it."""
        current = _current.get() or {}
        for name in ("request_id", "route", "user_role"):
            if getattr(record, name, None) is None:
                setattr(record, name, current.get(name))
        return True


class PlungeJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, with email addresses masked in every value."""

    def process_log_record(self, log_data):
        """The record's fields, time first, with email addresses masked."""
        ordered = {"time": log_data.pop("time", None), **log_data}  # time first, for people
        return {
            key: mask_emails(value) if isinstance(value, str) else value
            for key, value in ordered.items()
        }


class PlungeTextFormatter(logging.Formatter):
    """Readable lines for development, with email addresses masked."""

    def format(self, record: logging.LogRecord) -> str:
        """The line, with `-` for a record outside any request."""
        record.request_tag = getattr(record, "request_id", None) or "-"
        return mask_emails(super().format(record))


class _Stdout(logging.StreamHandler):
    """A handler writing to whatever sys.stdout is now (pytest and others replace it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


_handler = _Stdout()
_handler.addFilter(RequestContextFilter())


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, message and the request's fields."""
    return PlungeJsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def text_formatter() -> logging.Formatter:
    """`12:00:01 INFO app.payments.webhooks [3f2a...] message` for a person at a terminal."""
    return PlungeTextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_tag)s] %(message)s")


def configure(app: Flask) -> None:
    """Send every logger's records to stdout in the format and level the config names.

    Done once per process whatever the number of apps (the tests build many): the root
    logger gets one handler, and `LOG_FORMAT`/`LOG_LEVEL` of the latest app."""
    fmt = app.config.get("LOG_FORMAT", "text")
    if fmt not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT must be json or text, got {fmt!r}")
    _handler.setFormatter(json_formatter() if fmt == "json" else text_formatter())
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    # Flask adds its own stderr handler to app.logger unless some handler already covers it.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


class RequestLog:
    """WSGI middleware, outermost but for the proxy fix: gives each request an id (the
    X-Request-ID it came with, if well formed, else a new one), returns it in the response's
    X-Request-ID header, and writes one access line when the app has answered (at DEBUG for a
    304). It wraps the progress fast path too, so the most frequent request is logged like
    the rest."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        rid = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        current = {"request_id": rid, "route": None, "user_role": None, "status": None}
        _current.set(current)

        def start(status, headers, exc_info=None):
            current["status"] = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", rid))
            return start_response(status, headers, exc_info)

        try:
            body = self.wsgi_app(environ, start)
        except Exception:
            # Only under TESTING (PROPAGATE_EXCEPTIONS) does Flask let one out: a 500 all the same.
            current["status"] = current["status"] or 500
            self._log(environ, current, started)
            _finish(current)
            raise
        self._log(environ, current, started)
        # Mail sent after the response (app/outbox.py) logs under the same request id.
        return ClosingIterator(body, lambda: _finish(current))

    @staticmethod
    def _log(environ, current: dict, started: float) -> None:
        status = current["status"]
        # "Nothing new" (a poll that found the bar unchanged, a photo the browser has) is
        # most of the traffic on the day and tells nobody anything: DEBUG, so it costs
        # nothing unless asked for (nginx's access log has every request anyway).
        level = logging.DEBUG if status == 304 else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        method = environ.get("REQUEST_METHOD", "-")
        route = current["route"] or "-"
        access_log.log(
            level,
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={"method": method, "status": status, "duration_ms": duration_ms},
        )


def _finish(current: dict) -> None:
    # Only if it is still ours: a test client may close an old response after a newer request.
    if _current.get() is current:
        _current.set(None)


def mark_route(route: str) -> None:
    """Name the route of a request answered outside Flask's routing (the progress fast path)."""
    current = _current.get()
    if current is not None:
        current["route"] = route


def remember_role(role) -> None:
    """Record the role of whoever is making this request, for its log lines."""
    current = _current.get()
    if current is not None:
        current["user_role"] = str(getattr(role, "value", role))


def role_remembering(load_user):
    """Wrap Flask-Login's user loader so the request knows its user's role without asking
    the database again later (a log line written after a rollback must not query)."""

    def load(session_id: str):
        user = load_user(session_id)
        if user is not None:
            remember_role(user.role)
        return user

    return load


def _note_route():
    current = _current.get()
    if current is not None:
        current["route"] = request.url_rule.rule if request.url_rule else None


def _note_visitor(_exc=None):
    # Nobody logged in, and something looked: a visitor. Read from g, never from the database.
    current = _current.get()
    user = g.get("_login_user")
    if current and current["user_role"] is None and user and not user.is_authenticated:
        current["user_role"] = "visitor"


def init_app(app: Flask) -> None:
    """Configure logging and note each request's route and role; call first in the factory,
    so the route is known to every other hook's log lines."""
    configure(app)
    app.before_request(_note_route)
    app.teardown_request(_note_visitor)
    user_logged_in.connect(_on_log_in)  # once per process: blinker ignores a repeat


def _on_log_in(_app, user, **_extra) -> None:
    remember_role(user.role)


def wrap(app: Flask) -> None:
    """Install the request-id and access-log middleware around everything built so far."""
    app.wsgi_app = RequestLog(app.wsgi_app)
