"""The live progress partial: the most requested URL on the day, so it has a fast path.

Every viewer's browser polls `/progress` (and `/p/<slug>/progress` on sponsor pages,
`/t/<slug>/progress` on team pages) every few seconds. `LiveProgress` answers those GETs in
front of Flask with one indexed read on a pooled DBAPI connection and the same template the
pages include; anything it cannot answer (a draft page its owner is previewing, no event
yet, other methods) falls through to the Flask views, which give the same answer the slow
way. Its queries are the ORM's own selects (`events.service.*_progress_query`), compiled
once for the database: which pages and teams are public is said once, on the models. The
event page's news feed (`/news`) is polled as often: an unchanged feed is answered 304 here
from one aggregate read (`news.service.version_query`), and a changed one is left to Flask."""

import enum
import re
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, make_response, render_template, request
from sqlalchemy import bindparam
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags, quote_etag

from app import logs
from app.events.service import (
    Progress,
    event_progress_query,
    progress_from_row,
    public_page_progress_query,
)
from app.news.service import version_from_row, version_query
from app.teams.service import public_team_progress_query

# Only what could be a slug is looked up here; anything else is Flask's to refuse.
_SLUG = re.compile(r"[A-Za-z0-9-]{1,40}")
# htmx stops polling when it gets this status: the event is over, the bar is final.
STOP_POLLING = 286
TEMPLATE = "events/_progress.html"

# What the fast path reads, by the prefix of the scope's key; each takes the slug as `slug`.
_QUERIES = {
    "event": event_progress_query,
    "page": lambda: public_page_progress_query(bindparam("slug")),
    "team": lambda: public_team_progress_query(bindparam("slug")),
    "news": version_query,
}
# URL prefix -> scope kind, for /<prefix>/<slug>/progress.
_PREFIXES = {"/p/": "page", "/t/": "team"}


class _Compiled:
    """A select compiled once for the database's driver, run on a raw DBAPI cursor."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        # The literals inside the expressions ('page:', 'published'...) as the driver takes them.
        self.defaults = {k: _plain(v) for k, v in compiled.params.items()}
        self.order = compiled.positiontup if compiled.positional else None

    def params(self, **values):
        merged = {**self.defaults, **values}
        return tuple(merged[name] for name in self.order) if self.order is not None else merged


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def answer(etag: str, if_none_match: ETags, polling: bool, closed: bool = False) -> int:
    """The status for a poll: 304 if the browser shows this version, 286 once closed.

    If-None-Match compares weakly (RFC 9110 13.1.2): nginx's gzip turns our ETag into W/"...",
    and a browser behind it sends that form back."""
    if closed and polling:
        return STOP_POLLING
    return 304 if if_none_match.contains_weak(etag) else 200


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
        template = app.jinja_env.get_template(TEMPLATE)
        # One render per state of a bar, not per poll: a Progress is every value the partial
        # shows (frozen, so it can be a key), and 1,024 bars of about 1 kB each stay in memory.
        self._render = lru_cache(maxsize=1024)(
            lambda progress: template.render(progress=progress).encode()
        )
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
        kind = _PREFIXES.get(path[:3])
        try:
            if path == "/progress":
                progress, route = self._read("event"), "/progress"
            elif kind and path.count("/") == 3 and _SLUG.fullmatch(path[3:-9]):
                progress = self._read(kind, path[3:-9].lower())
                route = f"{path[:3]}<slug>/progress"
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
            row, now = self._fetch("news")
            version = version_from_row(row, now)
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
        body = b"" if status == 304 else self._render(progress)
        headers = self._headers(environ, progress.etag)
        if status != 304:
            headers += [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ]
        reason = {200: "OK", 304: "Not Modified", STOP_POLLING: "Stop Polling"}[status]
        start_response(f"{status} {reason}", headers)
        return [body]

    def _fetch(self, kind: str, slug: str | None = None):
        """One row of this kind's select on a pooled DBAPI connection, and the time it was read
        at, in the form the database keeps times."""
        engine = self._engine or self._bind()
        query, now = self._sql[kind], self._now()
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(query.sql, query.params(slug=slug) if slug else query.params())
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool
        return row, now

    def _read(self, kind: str, slug: str | None = None) -> Progress | None:
        row, now = self._fetch(kind, slug)
        if row is None:
            return None
        scope = "event" if kind == "event" else f"{kind}:{row[-1]}"
        return progress_from_row(scope, row, now=now)

    def _bind(self):
        from app.extensions import db

        with self.app.app_context():
            engine = db.engine
        # The raw DBAPI cursor raises the driver's own errors, not SQLAlchemy's.
        self._database_errors = (SQLAlchemyError, engine.dialect.loaded_dbapi.Error)
        self._sql = {kind: _Compiled(query(), engine.dialect) for kind, query in _QUERIES.items()}
        # Last: a request on another thread that sees the engine finds the queries ready.
        self._engine = engine
        return engine

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
