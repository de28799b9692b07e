"""/healthz and /readyz: JSON, cheap, never rate-limited, nothing personal, 503 when not ready."""

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from app import create_app
from app.extensions import db, limiter
from app.health import migration_heads
from app.models import OutboxMessage, ReconcileRun, utcnow
from tests.test_errors import DEAD_DATABASES


def test_healthz_says_the_process_is_up_without_asking_the_database(app):
    statements = []

    def count(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        response = app.test_client().get("/healthz")
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert statements == []


def test_readyz_is_ready_on_a_migrated_database_with_nothing_waiting(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    checks = response.json["checks"]
    assert set(checks) == {"database", "migrations", "outbox", "reconcile"}
    assert all(check["ok"] for check in checks.values())
    assert checks["migrations"]["detail"] == "at head"
    assert checks["reconcile"]["detail"].startswith("not checked: the Stripe sandbox")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def revision(app):
    """Set the database's recorded migration (put back afterwards)."""

    def set_to(value: str | None):
        with app.app_context():
            db.session.execute(text("DELETE FROM alembic_version"))
            if value:
                db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": value})
            db.session.commit()

    yield set_to
    [head] = migration_heads()
    set_to(head)


def test_readyz_is_not_ready_until_the_migrations_have_run(client, revision):
    revision("06ed5f12d045")  # the first migration: behind the code
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "not ready"
    assert response.json["checks"]["migrations"] == {
        "ok": False,
        "detail": "behind or ahead of the code: run flask db upgrade",
    }
    revision(None)
    assert client.get("/readyz").json["checks"]["migrations"]["detail"] == (
        "not migrated: run flask db upgrade"
    )


def _queue(app, age: timedelta, sent: bool = False) -> None:
    with app.app_context():
        created = utcnow() - age
        db.session.add(
            OutboxMessage(
                to_address="fiona@example.org",
                subject="Thank you",
                body_text="...",
                created_at=created,
                next_attempt_at=created,
                sent_at=utcnow() if sent else None,
            )
        )
        db.session.commit()


def test_readyz_is_not_ready_when_an_email_has_waited_too_long(app, client):
    _queue(app, timedelta(hours=5), sent=True)  # sent long ago: fine
    _queue(app, timedelta(minutes=10))  # waiting, but not for long
    assert client.get("/readyz").status_code == 200
    _queue(app, timedelta(minutes=31))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["outbox"] == {
        "ok": False,
        "detail": "the oldest unsent email has waited 31 minutes",
    }
    assert "fiona" not in response.text and "Thank you" not in response.text
    app.config["READYZ_OUTBOX_MINUTES"] = 60
    assert client.get("/readyz").status_code == 200


def _run(app, finished_ago: timedelta | None, error: str = "", started_ago=timedelta(0)):
    with app.app_context():
        now = utcnow()
        db.session.add(
            ReconcileRun(
                days=7,
                started_at=now - max(started_ago, finished_ago or timedelta(0)),
                finished_at=None if finished_ago is None else now - finished_ago,
                error=error,
            )
        )
        db.session.commit()


@pytest.fixture
def real_stripe(app):
    app.config["STRIPE_SECRET_KEY"] = "sk_live_example"
    yield app
    app.config["STRIPE_SECRET_KEY"] = ""


def _reconcile(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json["checks"]["reconcile"]


def test_with_real_stripe_readyz_needs_a_recent_clean_reconcile(real_stripe, client):
    assert _reconcile(client) == (
        503,
        {"ok": False, "detail": "never run: schedule flask stripe reconcile"},
    )
    _run(real_stripe, timedelta(hours=3))
    assert _reconcile(client) == (
        503,
        {"ok": False, "detail": "the last run finished 3.0 hours ago"},
    )
    _run(real_stripe, timedelta(minutes=6))
    assert _reconcile(client) == (
        200,
        {"ok": True, "detail": "the last run finished 0.1 hours ago"},
    )
    _run(real_stripe, timedelta(minutes=1), error="Stripe could not be reached: timeout")
    assert _reconcile(client) == (
        503,
        {"ok": False, "detail": "the last run failed: Stripe could not be reached"},
    )
    real_stripe.config["READYZ_RECONCILE_HOURS"] = 1
    _run(real_stripe, None, started_ago=timedelta(minutes=2))
    assert _reconcile(client) == (200, {"ok": True, "detail": "running now"})
    _run(real_stripe, None, started_ago=timedelta(hours=2))
    assert _reconcile(client) == (503, {"ok": False, "detail": "the last run never finished"})


@pytest.mark.parametrize("dead", sorted(DEAD_DATABASES))
def test_readyz_says_when_the_database_is_unreachable_and_nothing_more(dead):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": DEAD_DATABASES[dead]})
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "not ready",
        "checks": {"database": {"ok": False, "detail": "unreachable"}},
    }
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_health_checks_are_never_rate_limited(database_url, event):
    limited = create_app(
        env="test",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "2 per minute",  # every other route: the third is refused
        },
    )
    try:
        client = limited.test_client()
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
        assert [client.get("/privacy").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        # The limiter is one object for the whole process: leave it as found.
        limiter.limit_manager.set_default_limits([])
        limiter.reset()
        limiter.enabled = False
        with limited.app_context():
            db.engine.dispose()
