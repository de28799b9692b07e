"""Fixtures: an app on a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
a client, an htmx client, a CLI runner, and ways to make events, pages and donations."""

import logging
import os
import socket
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app, totals
from app.extensions import db
from app.models import (
    Donation,
    DonationSource,
    DonationStatus,
    PageStatus,
    Role,
    SponsorPage,
    User,
    utcnow,
)
from app.timefmt import parse_london
from tests.accounts import AuthActions, password_hash

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "POSTGRES_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/plunge_test_concurrency"
)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose real part is missing here; in CI a missing part is a failure."""
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """TEST_DATABASE_URL if given (PostgreSQL in CI), else a SQLite file for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'plunge-test.db'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the schema once per run, from the models (migrations are checked separately)."""
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        fresh_schema()
        stamp_head()  # so /readyz finds the schema at head, as after `flask db upgrade`
        # Close the pool now: a PostgreSQL connection left to the garbage collector warns,
        # and with filterwarnings=error that fails whichever test happens to be running.
        db.engine.dispose()
    yield


def fresh_schema() -> None:
    """An empty database with the models' tables (inside an app context)."""
    if db.engine.dialect.name == "postgresql":
        # Start from nothing: tables of other branches or older runs would block DROP.
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()


def stamp_head() -> None:
    """Record the schema create_all just made as the migrations' head, as `flask db stamp
    head` would (the models and the migrations agree: tests/test_migrations.py)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from app.health import MIGRATIONS

    with db.engine.begin() as conn:
        MigrationContext.configure(conn).stamp(ScriptDirectory(str(MIGRATIONS)), "heads")


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        # Its INFO lines (every SMTP command) would bury the app's own in a failing test's log.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.controller = Controller(self, hostname="127.0.0.1", port=_free_port())

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refusing:
            return "451 Requested action aborted: local error in processing"
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    @property
    def port(self) -> int:
        return self.controller.port

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address."""
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The messages for `address` once `count` have arrived: a live server sends mail
        just after its response has gone, so a test may look a moment too soon."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.to(address)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_server():
    server = SMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def smtp(_smtp_server) -> SMTPServer:
    """The test SMTP server, emptied for this test."""
    _smtp_server.messages.clear()
    _smtp_server.refusing = False
    return _smtp_server


@pytest.fixture
def app(_schema, database_url, smtp):
    """A fresh app on an empty database, sending mail to the test SMTP server."""
    app = create_app(
        env="test",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
        },
    )
    yield app
    with app.app_context():
        db.session.remove()
        _wait_for_connections(db.engine)
        _empty_tables()


def _wait_for_connections(engine, timeout: float = 5.0) -> None:
    """Let a live server's last requests finish (a webhook's outbox mail is sent after its
    response): a connection still out when the engine is disposed is never closed, and psycopg
    then warns (an error under filterwarnings) in some later test."""
    checkedout = getattr(engine.pool, "checkedout", lambda: 0)  # not every pool counts
    deadline = time.monotonic() + timeout
    while checkedout() and time.monotonic() < deadline:
        time.sleep(0.05)


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        with db.engine.begin() as conn:
            for table in tables:
                if table.info.get("append_only") or table.info.get("kept"):
                    # The database refuses DELETE on a history, or on a submitted Gift Aid
                    # claim (TRUNCATE above skips row triggers); made again, the table gets
                    # its triggers back.
                    table.drop(conn)
                    table.create(conn)
                else:
                    conn.execute(table.delete())
    db.engine.dispose()


@pytest.fixture
def client(app):
    """A browser without JavaScript."""
    return app.test_client()


@pytest.fixture
def htmx_client(app):
    """A client whose every request says it comes from htmx."""
    client = app.test_client()
    client.environ_base["HTTP_HX_REQUEST"] = "true"
    return client


@pytest.fixture
def runner(app):
    """The `flask` command line."""
    return app.test_cli_runner()


def configure_test_event() -> None:
    """The tests' event, as an organiser would set it up (inside an app context)."""
    from app.events.service import configure_event

    configure_event(
        name="Sponsored Abseil 2027",
        starts_at=parse_london("2027-04-17 10:00"),
        venue="Queen Margaret Tower, Glasgow",
        description="Seventy metres.\n\nFor the carers' group.",
        where_money_goes="Travel and respite for the group.",
        above_target_text="Extra goes to next year's fund.",
        contact_email="abseil@example.org",
        charity_name="Carers Voice",
        charity_number="SC012345",
        charity_is_scottish=True,
    )


@pytest.fixture
def event(app):
    """A configured event, as an organiser would set it up."""
    with app.app_context():
        configure_test_event()
    return app


@pytest.fixture
def live_server(event):
    """The app served over real HTTP in a background thread; yields its base URL."""
    event.config["PROGRESS_POLL_SECONDS"] = 1
    server = make_server("127.0.0.1", 0, event, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    event.config["SITE_URL"] = url
    yield url
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def _stripe_sandbox():
    from sandbox.server import start

    handle = start(port=0, backoff=0.05, max_attempts=6, sweep_interval=0.1)
    yield handle
    handle.stop()


@pytest.fixture
def stripe_sandbox(_stripe_sandbox, event, live_server):
    """The Stripe sandbox over HTTP, signing webhooks to this test's live app."""
    from tests.stripe_events import WEBHOOK_SECRET

    _stripe_sandbox.reset()
    _stripe_sandbox.configure_webhooks(live_server + "/stripe/webhook", WEBHOOK_SECRET)
    event.config.update(
        STRIPE_SANDBOX_PORT=_stripe_sandbox.port, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    yield _stripe_sandbox
    _stripe_sandbox.wait_for_webhooks(5)


@pytest.fixture
def donor(live_server, stripe_sandbox):
    """A donor's browser session on the live app (cookies, CSRF token from the form)."""
    import requests

    session = requests.Session()
    session.base = live_server
    return session


class Factory:
    """Small helpers to put participants, pages and donations in the database."""

    def __init__(self, app):
        self.app = app

    def user(self, name="Sandra Organiser", email="sandra@example.org", role=Role.ORGANISER) -> int:
        """An account without a sponsor page (an organiser by default); returns its id."""
        with self.app.app_context():
            user = User(email=email, name=name, role=role, password_hash=password_hash())
            db.session.add(user)
            db.session.commit()
            return user.id

    def participant(
        self, name="Aisha Rahman", slug="aisha", target_pence=30_000, published=True
    ) -> int:
        """A participant (email <slug>@example.org) with a sponsor page; returns the page id."""
        with self.app.app_context():
            user = User(
                email=f"{slug}@example.org",
                name=name,
                role=Role.PARTICIPANT,
                password_hash=password_hash(),
            )
            page = SponsorPage(
                participant=user,
                slug=slug,
                title=f"{name} abseils",
                target_pence=target_pence,
                status=PageStatus.PUBLISHED if published else PageStatus.DRAFT,
                approved_at=utcnow() if published else None,
            )
            db.session.add_all([user, page])
            db.session.flush()
            totals.ensure_scope(page.totals_scope)
            db.session.commit()
            return page.id

    def donation(
        self, amount_pence=1000, page_id=None, status=DonationStatus.PAID, **fields
    ) -> int:
        """A donation, moved to `status` through the same bookkeeping the app uses. With
        `gift_aid=True` it has a declaration HMRC accepts unless `fields` change it."""
        if fields.get("gift_aid"):
            fields = {**GIFT_AID_DECLARATION, "gift_aid_declared_at": utcnow(), **fields}
        with self.app.app_context():
            donation = Donation(
                sponsor_page_id=page_id,
                source=fields.pop("source", DonationSource.ONLINE),
                amount_pence=amount_pence,
                donor_name=fields.pop("donor_name", "Fiona"),
                donor_email=fields.pop("donor_email", "fiona@example.org"),
                **fields,
            )
            with totals.tracking(donation):
                donation.status = status
                if status == DonationStatus.PAID:
                    donation.paid_at = utcnow()
            db.session.commit()
            return donation.id


# A Gift Aid declaration HMRC accepts, as the online form stores it.
GIFT_AID_DECLARATION = {
    "gift_aid": True,
    "gift_aid_title": "Ms",
    "gift_aid_first_name": "Fiona",
    "gift_aid_last_name": "Campbell",
    "gift_aid_house": "12",
    "gift_aid_postcode": "G12 8QQ",
    "gift_aid_declaration_version": "2026-1",
    "gift_aid_confirmed_sponsorship": True,
    "gift_aid_sponsorship_version": "own-money-2026-1",
}


@pytest.fixture
def make(event):
    """Factory for participants and donations on top of a configured event."""
    return Factory(event)


@pytest.fixture
def organiser(make, client) -> AuthActions:
    """`client` logged in as an organiser (Sandra)."""
    make.user()
    auth = AuthActions(client)
    auth.login("sandra@example.org")
    return auth


@pytest.fixture
def auth(client) -> AuthActions:
    """Log `client` in and out."""
    return AuthActions(client)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL database for tests that need real concurrent transactions."""
    admin = create_engine(
        POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": POSTGRES_URL.rsplit("/", 1)[1]},
            )
            if not exists:
                conn.execute(text(f"CREATE DATABASE {POSTGRES_URL.rsplit('/', 1)[1]}"))
    except OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    finally:
        admin.dispose()
    return POSTGRES_URL


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL") or "SQLite (a file per run)"
    return [f"plunge: database {url}", f"plunge: CI={IN_CI}"]


ROOT = Path(__file__).resolve().parent.parent
