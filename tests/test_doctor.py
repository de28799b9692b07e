"""`flask doctor`: each check passes on a go-live configuration and says what to fix when its
one thing is wrong; exit 1 on anything to fix."""

import os

import pytest
import redis

from tests.conftest import skip_or_fail

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
FERNET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
SECRET_WORDS = ("sk_live_doctor", "whsec_doctor", FERNET_KEY, "s3cret-pass")


@pytest.fixture
def ready(app, smtp):
    """The test app configured as a site ready to go live (mail to the test SMTP server)."""
    app.config.update(
        SECRET_KEY="x" * 64,
        STRIPE_SECRET_KEY="sk_live_doctor",
        STRIPE_PUBLISHABLE_KEY="",
        STRIPE_WEBHOOK_SECRET="whsec_doctor",
        SITE_URL="https://abseil.example.org",
        MAIL_DEFAULT_SENDER="Abseil <abseil@example.org>",
        SAFETY_ENCRYPTION_KEY=FERNET_KEY,
        RATELIMIT_STORAGE_URI="memory://",
    )
    return app


def doctor(app, *args):
    result = app.test_cli_runner().invoke(args=["doctor", *args])
    return result.exit_code, result.output


def line(output: str, subject: str) -> str:
    [found] = [x.strip() for x in output.splitlines() if f"  {subject}:" in x]
    return found


def test_a_ready_configuration_has_nothing_to_fix(ready):
    code, output = doctor(ready)
    assert code == 0, output
    assert "Checking the test configuration:" in output
    assert "FIX" not in output and "\nNothing to fix.\n" in output
    assert line(output, "Stripe keys") == "ok    Stripe keys: a live secret key"
    assert line(output, "Database").startswith("ok    Database: ")
    assert line(output, "Database").endswith("migrations at head")
    # Memory storage is only a warning: one process is a valid (small) deployment.
    assert line(output, "Rate-limit store").startswith("warn  Rate-limit store: memory://")
    for secret in SECRET_WORDS:
        assert secret not in output


BROKEN = {
    "Secret key": ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY is the development"),
    "Stripe keys": ({"STRIPE_SECRET_KEY": ""}, "donations go to the local sandbox"),
    "Stripe keys ": ({"STRIPE_SECRET_KEY": "sk_test_abc"}, "is a test key: no real money"),
    "Stripe keys  ": ({"STRIPE_SECRET_KEY": "pk_live_abc"}, "does not look like a Stripe secret"),
    "Stripe keys   ": (
        {"STRIPE_PUBLISHABLE_KEY": "pk_test_abc"},
        "STRIPE_PUBLISHABLE_KEY is not a live publishable key",
    ),
    "Stripe webhook": (
        {"STRIPE_WEBHOOK_SECRET": ""},
        "STRIPE_WEBHOOK_SECRET is empty: add the endpoint "
        "https://abseil.example.org/stripe/webhook",
    ),
    "SITE_URL": ({"SITE_URL": "http://abseil.example.org"}, "is not https"),
    "SITE_URL ": ({"SITE_URL": "https://127.0.0.1:5000"}, "is not a public address"),
    "Email (SMTP)": ({"MAIL_PORT": 9}, "127.0.0.1:9 did not work (ConnectionRefusedError"),
    "Email sender": (
        {"MAIL_DEFAULT_SENDER": "Plunge <noreply@plunge.local>"},
        "set it to an address of your domain",
    ),
    "Safety answers key": ({"SAFETY_ENCRYPTION_KEY": ""}, "SAFETY_ENCRYPTION_KEY is empty"),
    "Safety answers key ": (
        {"SAFETY_ENCRYPTION_KEY": "not-a-key"},
        "SAFETY_ENCRYPTION_KEY is not a Fernet key",
    ),
    "Rate-limit store": (
        {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"},
        "Redis at 127.0.0.1 does not answer",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_problem_is_named_with_what_to_do(ready, case):
    settings, advice = BROKEN[case]
    ready.config.update(settings)
    code, output = doctor(ready)
    assert code == 1, output
    found = line(output, case.strip())
    assert found.startswith(f"FIX   {case.strip()}: ") and advice in found, found
    assert "\n1 to fix before going live.\n" in output
    for secret in SECRET_WORDS:
        assert secret not in output


def test_a_database_behind_the_code_is_named(ready):
    from sqlalchemy import text

    from app.extensions import db
    from app.health import migration_heads

    with ready.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '06ed5f12d045'"))
        db.session.commit()
    try:
        code, output = doctor(ready)
    finally:
        with ready.app_context():
            [head] = migration_heads()
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
    assert code == 1
    assert line(output, "Database") == (
        "FIX   Database: behind or ahead of the code: run flask db upgrade"
    )


def test_send_to_sends_a_real_test_email(ready, smtp):
    code, output = doctor(ready, "--send-to", "volunteer@example.org")
    assert code == 0, output
    [message] = smtp.wait_for("volunteer@example.org")
    assert message["Subject"] == "Plunge: a test email from flask doctor"
    assert message["From"] == "Abseil <abseil@example.org>"
    assert "https://abseil.example.org can send mail" in message.get_content()
    assert "took a test email for volunteer@example.org" in line(output, "Email (SMTP)")


def test_a_refused_test_email_is_a_problem(ready, smtp):
    smtp.refusing = True
    code, output = doctor(ready, "--send-to", "volunteer@example.org")
    assert code == 1
    assert "SMTPDataError" in line(output, "Email (SMTP)")


def test_send_to_must_be_an_address(ready, smtp):
    code, output = doctor(ready, "--send-to", "not an address")
    assert code == 2 and "--send-to" in output
    assert smtp.messages == []


def test_a_reachable_redis_is_ok(ready):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    ready.config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    code, output = doctor(ready)
    assert code == 0, output
    assert line(output, "Rate-limit store") == "ok    Rate-limit store: Redis answers"
