"""The live progress partial: the most requested URL on the day, so it has a fast path.

Every viewer's browser polls `/progress` (and `/p/<slug>/progress` on sponsor pages) every
few seconds. `LiveProgress` answers those GETs in front of Flask with one indexed read on a
pooled DBAPI connection and the same template the pages include; anything it cannot answer
(a draft page its owner is previewing, no event yet, other methods) falls through to the
Flask views, which give the same answer the slow way. The event page's news feed (`/news`)
is polled as often: an unchanged feed is answered 304 here from one aggregate read, and a
changed one is left to Flask to render."""

import re
from datetime import UTC, datetime

from flask import Flask, make_response, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags, quote_etag

from app import logs
from app.donations.gift_aid import gift_aid_on
from app.events.service import Progress
from app.news.service import VERSION_SQL as _NEWS_SQL
from app.news.service import version_from_row

# Only what could be a slug is looked up here; anything else is Flask's to refuse.
_SLUG = re.compile(r"[A-Za-z0-9-]{1,40}")
# htmx stops polling when it gets this status: the event is over, the bar is final.
STOP_POLLING = 286
TEMPLATE = "events/_progress.html"

# Mirrors events.service.event_progress/page_progress and public_pages_clause, in plain SQL.
_COLUMNS = (
    "t.raised_pence, t.gift_aid_eligible_pence, t.supporters, t.version, e.target_pence,"
    " e.gift_aid_fills_target,"
    " CASE WHEN e.closes_at IS NOT NULL AND e.closes_at <= {p} THEN 1 ELSE 0 END"
)
_EVENT_SQL = (
    "SELECT " + _COLUMNS + ", 0 FROM totals t JOIN event e ON e.id = 1 WHERE t.scope = 'event'"
)
_PAGE_SQL = (
    "SELECT " + _COLUMNS.replace("e.target_pence", "p.target_pence") + ", p.id"
    " FROM sponsor_pages p"
    " JOIN event e ON e.id = 1 JOIN totals t ON t.scope = 'page:' || p.id"
    " WHERE p.slug = {p} AND p.status = 'published' AND p.approved_at IS NOT NULL"
    " AND p.hidden_at IS NULL"
)


def answer(etag: str, if_none_match: ETags, polling: bool, closed: bool = False) -> int:
    """The status for a poll: 304 if the browser shows this version, 286 once closed."""
    if closed and polling:
        return STOP_POLLING
    return 304 if etag in if_none_match else 200


def progress_response(progress: Progress, template: str = TEMPLATE, **context):
    """The Flask view's answer: the partial, 304 when unchanged, 286 to stop polling."""
    return polled_response(
        progress.etag, template, stop_polling=progress.closed, progress=progress, **context
    )


def polled_response(etag: str, template: str, stop_polling: bool = False, **context):
    """A fragment that htmx polls: 304 when the browser already shows version `etag`, and
    286 (stop) instead of 200 once nothing will change again."""
    status = answer(etag, request.if_none_match, bool(request.htmx), stop_polling)
    body = "" if status == 304 else render_template(template, **context)
    response = make_response(body, status)
    response.set_etag(etag)
    # Always ask again; the ETag makes asking cheap.
    response.headers["Cache-Control"] = "no-cache"
    return response


class LiveProgress:
    """WSGI middleware answering GET /progress and /p/<slug>/progress without Flask's
    per-request machinery (sessions, login, rate limiter, ORM), which costs several times
    more than the read itself."""

    def __init__(self, app: Flask):
        self.app = app
        self.wrapped = app.wsgi_app
        self.template = app.jinja_env.get_template(TEMPLATE)
        self._engine = None
        self._sql = {}
        self._database_errors: tuple[type[Exception], ...] = (SQLAlchemyError,)
        # The headers every response gets (CSP and friends), read from the app itself so
        # this path can never drift from what app.web sets on every other page.
        self.headers = {scheme: self._app_headers(scheme) for scheme in ("http", "https")}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and path == "/news":
            return self._news(environ, start_response)
        if environ.get("REQUEST_METHOD") != "GET" or not path.endswith("/progress"):
            return self.wrapped(environ, start_response)
        try:
            if path == "/progress":
                progress, route = self._read("event", ()), "/progress"
            elif path.startswith("/p/") and path.count("/") == 3 and _SLUG.fullmatch(path[3:-9]):
                progress, route = self._read("page", (path[3:-9].lower(),)), "/p/<slug>/progress"
            else:
                progress = None
        except self._database_errors:
            # The database is down or refusing: let Flask answer, which logs the error and
            # gives the 500 page like any other request, rather than a bare server error.
            progress = None
        if progress is None:
            return self.wrapped(environ, start_response)
        logs.mark_route(route)
        return self._respond(environ, start_response, progress)

    def _news(self, environ, start_response):
        """The news feed: 304 when the browser shows the current version; anything else
        (new items to render, the 286 after close) goes to the Flask view."""
        try:
            version = version_from_row(self._fetch("news", ()))
        except self._database_errors:
            version = None
        if version is None or self._status(environ, version.etag, version.closed) != 304:
            return self.wrapped(environ, start_response)
        logs.mark_route("/news")
        start_response("304 Not Modified", self._headers(environ, version.etag))
        return [b""]

    def _status(self, environ, etag: str, closed: bool) -> int:
        polling = environ.get("HTTP_HX_REQUEST") == "true"
        if_none_match = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        return answer(etag, if_none_match, polling, closed)

    def _headers(self, environ, etag: str) -> list[tuple[str, str]]:
        return [
            *self.headers[environ.get("wsgi.url_scheme", "http")],
            ("ETag", quote_etag(etag)),
            ("Cache-Control", "no-cache"),
        ]

    def _respond(self, environ, start_response, progress: Progress):
        status = self._status(environ, progress.etag, progress.closed)
        body = b"" if status == 304 else self.template.render(progress=progress).encode()
        headers = self._headers(environ, progress.etag)
        if status != 304:
            headers += [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ]
        reason = {200: "OK", 304: "Not Modified", STOP_POLLING: "Stop Polling"}[status]
        start_response(f"{status} {reason}", headers)
        return [body]

    def _fetch(self, kind: str, params: tuple):
        """One row of this kind's statement, on a pooled DBAPI connection."""
        engine = self._engine or self._bind()
        sql, now = self._sql[kind], self._now()
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, (now, *params))
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool
        return row

    def _read(self, kind: str, params: tuple) -> Progress | None:
        row = self._fetch(kind, params)
        if row is None:
            return None
        raised, eligible, supporters, version, target, fills, closed, page_id = row
        return Progress(
            scope="event" if kind == "event" else f"page:{page_id}",
            raised_pence=raised,
            gift_aid_pence=gift_aid_on(eligible),
            supporters=supporters,
            target_pence=target,
            version=version,
            closed=bool(closed),
            gift_aid_fills_target=bool(fills),
        )

    def _bind(self):
        from app.extensions import db

        with self.app.app_context():
            self._engine = db.engine
        # The raw DBAPI cursor raises the driver's own errors, not SQLAlchemy's.
        self._database_errors = (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error)
        placeholder = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        self._sql = {
            "event": _EVENT_SQL.format(p=placeholder),
            "page": _PAGE_SQL.format(p=placeholder),
            "news": _NEWS_SQL.format(p=placeholder),
        }
        return self._engine

    def _now(self):
        now = datetime.now(UTC)
        if self._engine.dialect.name == "sqlite":
            # SQLite keeps times as naive UTC text in this format; compare like with like.
            return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return now

    def _app_headers(self, scheme: str) -> list[tuple[str, str]]:
        skip = {"content-type", "content-length", "vary", "set-cookie"}
        with self.app.test_request_context(base_url=f"{scheme}://localhost"):
            response = self.app.process_response(self.app.response_class())
        return [(k, v) for k, v in response.headers.items() if k.lower() not in skip]
