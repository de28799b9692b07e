"""Every error answered from app/errors.py: the same pages as before, JSON for programs that
ask for it, and a server error that survives the database being gone."""

import json
import subprocess
import sys
import textwrap

import pytest
from flask_wtf.csrf import CSRFError
from sqlalchemy import event as sa_event
from sqlalchemy import select

from app import create_app
from app.errors import scrub
from app.extensions import db
from app.models import User
from tests.conftest import ROOT
from tests.test_logs import lines

DEAD_DATABASES = {
    # A file SQLite cannot open, and a PostgreSQL port nobody listens on: no server needed.
    "sqlite": "sqlite:////nonexistent-plunge-dir/plunge.db",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:9/plunge?connect_timeout=2",
}


@pytest.fixture
def outage(request):
    """The app as production runs it (errors answered, not raised), on a dead database."""
    app = create_app(
        env="test",
        overrides={
            "SQLALCHEMY_DATABASE_URI": DEAD_DATABASES[request.param],
            "PROPAGATE_EXCEPTIONS": False,
            "LOG_FORMAT": "json",
        },
    )
    yield app
    from app import logs

    app.config["LOG_FORMAT"] = "text"
    logs.configure(app)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("outage", sorted(DEAD_DATABASES), indirect=True)
@pytest.mark.parametrize(
    "path", ["/", "/p/aisha", "/no-such-page", "/progress", "/p/aisha/progress"]
)
def test_a_database_outage_gives_the_error_page_and_a_log_line_with_the_request_id(
    outage, path, capsys
):
    client = outage.test_client()
    capsys.readouterr()
    response = client.get(path, headers={"X-Request-ID": "outage-1"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "<h1>Sorry, something went wrong</h1>" in page
    assert "outage-1" in page  # the reference a visitor can quote to the organisers
    assert "Traceback" not in page and "OperationalError" not in page
    assert response.headers["X-Request-ID"] == "outage-1"
    assert "Content-Security-Policy" in response.headers  # the usual headers, still
    found = lines(capsys)
    [error] = [line for line in found if line["level"] == "ERROR"]
    assert error["logger"] == "app.errors"
    assert error["message"].startswith("unhandled OperationalError in GET ")
    assert error["request_id"] == "outage-1" and "OperationalError" in error["exc_info"]
    [access] = [line for line in found if line["logger"] == "plunge.access"]
    assert access["status"] == 500 and access["request_id"] == "outage-1"


@pytest.fixture
def answering(app):
    """The test app answering errors as production does."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_a_server_error_rolls_back_and_renders_without_a_query(answering, event):
    statements = []

    def boom():
        db.session.add(User(email="half@example.org", name="Half Saved", password_hash="x"))
        db.session.flush()
        raise RuntimeError("a bug")

    answering.add_url_rule("/boom", "boom", boom)
    with answering.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        response = answering.test_client().get("/boom")
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.text
    # Only the view's own INSERT: the error page itself asked the database nothing.
    assert [s.split()[0] for s in statements if not s.startswith(("BEGIN", "ROLLBACK"))] == [
        "INSERT"
    ]
    with answering.app_context():
        assert db.session.scalar(select(User).where(User.email == "half@example.org")) is None


def test_every_error_handler_is_registered_once_from_one_place(app):
    assert set(app.error_handler_spec) == {None}, "a blueprint registers its own handler"
    handlers = app.error_handler_spec[None]
    assert set(handlers) == {400, 403, 404, 405, 413, 429, 500}
    assert all(len(by_class) == 1 for code, by_class in handlers.items() if code != 400)
    assert CSRFError in handlers[400]
    modules = {f.__module__ for by_class in handlers.values() for f in by_class.values()}
    assert modules == {"app.errors"}


def test_a_program_asking_for_json_gets_json(client, event):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "not found"
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    browser = client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "text/html" and b"Page not found" in browser.data


def test_a_wrong_method_names_the_right_one(client, event):
    response = client.get("/stripe/webhook")
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert b"That didn't work" in response.data


def test_a_forbidden_page_is_the_same_everywhere(client, auth, make):
    make.participant()
    auth.login()
    for path in ("/organiser", "/safety/board"):
        response = client.get(path)
        assert response.status_code == 403
        assert b"You can't see this page" in response.data


def test_control_characters_get_the_plain_400_page(client, event):
    response = client.get("/", query_string={"q": "a\x00b"})
    assert response.status_code == 400
    assert b"That didn't make sense to us" in response.data


# Sentry ---------------------------------------------------------------------------------


def test_sentry_is_off_unless_a_dsn_is_set(app):
    import sentry_sdk

    assert not app.config["SENTRY_DSN"]
    assert not sentry_sdk.get_client().is_active()


def test_the_scrubber_drops_cookies_forms_and_queries_and_masks_emails():
    event = {
        "message": "receipt to fiona@example.org failed",
        "exception": {"values": [{"type": "SMTPRecipientsRefused", "value": "{'a@b.org': 550}"}]},
        "request": {
            "url": "https://abseil.example.org/organiser/donations?q=fiona@example.org",
            "query_string": "q=fiona@example.org",
            "cookies": {"session": "secret"},
            "data": {"password": "correct horse battery staple"},
            "headers": {"Cookie": "session=secret", "X-Csrftoken": "t", "User-Agent": "UA"},
        },
        "user": {"id": "7", "email": "aisha@example.org", "ip_address": "203.0.113.9"},
        "breadcrumbs": {"values": [{"message": "login aisha@example.org"}]},
    }
    cleaned = json.dumps(scrub(event))
    for secret in ("example.org", "secret", "correct horse", "203.0.113.9", "q="):
        assert secret not in cleaned.replace("abseil.example.org", ""), secret
    assert scrub(event)["request"]["headers"] == {"User-Agent": "UA"}
    assert scrub(event)["user"] == {"id": "7"}


SENTRY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import sentry_sdk
    from sentry_sdk.transport import Transport

    sent = []

    class Keep(Transport):
        def capture_envelope(self, envelope):
            event = envelope.get_event()
            if event is not None:
                sent.append(event)

    real_init = sentry_sdk.init
    sentry_sdk.init = lambda **options: real_init(transport=Keep, **options)

    from app import create_app

    app = create_app(env="test", overrides={
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SENTRY_DSN": "https://public@sentry.invalid/1",
        "PROPAGATE_EXCEPTIONS": False,
        "WTF_CSRF_ENABLED": False,
    })

    def boom():
        raise RuntimeError("refund for fiona@example.org broke")

    app.add_url_rule("/boom", "boom", boom, methods=["POST"])
    client = app.test_client()
    client.set_cookie("session", "cookie-secret")
    status = client.post("/boom?q=aisha@example.org", data={"password": "pw-secret"}).status_code
    sentry_sdk.flush()
    print(json.dumps({"status": status, "events": sent}, default=str))
    """
)


def test_sentry_reports_a_server_error_without_personal_data(tmp_path):
    pytest.importorskip("sentry_sdk")
    # A process of its own: Sentry's Flask integration patches Flask for the whole process.
    done = subprocess.run(
        [sys.executable, "-c", SENTRY_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 500
    [event] = [e for e in report["events"] if e.get("exception")]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["exception"]["values"][-1]["value"] == "refund for [email] broke"
    text = json.dumps(event)
    for secret in ("fiona@", "aisha@", "pw-secret", "cookie-secret"):
        assert secret not in text, secret
    assert event["request"]["url"].endswith("/boom")
