"""Rate limits where a flood does harm: guessing passwords, mail-bombing an inbox through
sign-up or reset, testing stolen cards through the donation form, and flooding the webhook.
The next try gets a page saying when to come back, and Retry-After says it to machines."""

import contextlib
import itertools
import os
import re

import pytest
import redis
from sqlalchemy import select

from app import create_app
from app.extensions import db, limiter
from app.models import OutboxMessage
from tests import stripe_events
from tests.accounts import PASSWORD
from tests.conftest import skip_or_fail
from tests.world import build_world

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")

# endpoint: (path, form data, tries allowed per minute). The data is refused, so nothing is
# sent or stored: the limit counts attempts, good or bad.
LIMITED = {
    "auth.login": ("/auth/login", {"email": "aisha@example.org", "password": ""}, 10),
    "auth.signup": ("/auth/signup", {"name": "", "email": "x", "password": ""}, 10),
    "auth.request_reset": ("/auth/reset", {"email": "not an address"}, 10),
    "auth.reset_password": ("/auth/reset/{reset_token}", {"password": "short"}, 10),
    "donations.donate_to_event": ("/donate", {"donor_name": ""}, 20),
    "donations.donate": ("/donate/{slug}", {"donor_name": ""}, 20),
    "webhooks.receive_stripe_event": ("/stripe/webhook", None, 600),
}

# Each client gets its own address (from a documentation range), so runs never share counts.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
def world(make):
    """Aisha, Callum, Sandra and their pages (see tests/world.py)."""
    return build_world(make)


@pytest.fixture
def limited(world, make, database_url):
    """Build an app with rate limiting on (TestConfig turns it off everywhere else)."""

    built = []

    def build(storage: str = "memory://", **overrides):
        built.append(
            create_app(
                env="test",
                overrides={
                    "SQLALCHEMY_DATABASE_URI": database_url,
                    "STRIPE_WEBHOOK_SECRET": stripe_events.WEBHOOK_SECRET,
                    "RATELIMIT_ENABLED": True,
                    "RATELIMIT_STORAGE_URI": storage,
                    **overrides,
                },
            )
        )
        return built[-1]

    yield build
    for app in built:  # PostgreSQL warns about connections left open
        with app.app_context():
            db.engine.dispose()
    with contextlib.suppress(redis.RedisError):  # one test points it at a Redis that is down
        limiter.reset()
    # The limiter is one object, shared by every app in this process: leave it as found.
    limiter.enabled = False
    limiter._storage_dead = False  # else the next app would start on the in-memory fallback


class Visitor:
    """One address sending one form again and again, with a valid CSRF token."""

    def __init__(self, app, path: str, data: dict | None):
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = next(_addresses)
        self.path, self.data = path, data
        page = self.client.get("/auth/login").get_data(as_text=True)
        self.token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)

    def send(self):
        """POST the form (or, for the webhook, a badly signed event)."""
        if self.data is None:
            headers = {"Stripe-Signature": "t=1,v1=bad", "Content-Type": "application/json"}
            return self.client.post(self.path, data=b"{}", headers=headers)
        return self.client.post(self.path, data={"csrf_token": self.token, **self.data})


def _visitor(app, world, endpoint: str) -> Visitor:
    path, data, _allowed = LIMITED[endpoint]
    return Visitor(app, path.format(**world.values()), data)


@pytest.mark.parametrize("endpoint", sorted(LIMITED))
def test_the_try_after_the_limit_gets_a_page_saying_when_to_come_back(limited, world, endpoint):
    app = limited()
    assert endpoint in app.view_functions, f"{endpoint} is gone: update this table"
    visitor = _visitor(app, world, endpoint)
    allowed = LIMITED[endpoint][2]
    statuses = {visitor.send().status_code for _ in range(allowed)}
    assert 429 not in statuses and max(statuses) < 500

    refused = visitor.send()
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Too many tries" in page
    assert re.search(r"wait (\d+ seconds|a minute)", page)
    # Someone else is not held up, and reading a page is never limited.
    assert _visitor(app, world, endpoint).send().status_code != 429
    if endpoint != "webhooks.receive_stripe_event":
        assert visitor.client.get(visitor.path).status_code in (200, 404)


def test_the_wait_is_said_the_way_people_say_it():
    from app.errors import wait_in_words

    assert wait_in_words(1) == "1 second"
    assert wait_in_words(30) == "30 seconds"
    assert wait_in_words(58) == "a minute"
    assert wait_in_words(61) == "2 minutes"
    assert wait_in_words(3600) == "an hour"
    assert wait_in_words(7200) == "2 hours"


def test_limits_kept_in_redis_are_shared_by_every_process(limited, world):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    first_process = limited(REDIS_URL)
    visitor = _visitor(first_process, world, "auth.login")
    assert {visitor.send().status_code for _ in range(10)} == {422}

    # A second app has its own storage object, so only what is in Redis can stop this try.
    second_process = limited(REDIS_URL)
    address = visitor.client.environ_base["REMOTE_ADDR"]
    again = Visitor(second_process, "/auth/login", LIMITED["auth.login"][1])
    again.client.environ_base["REMOTE_ADDR"] = address
    assert again.send().status_code == 429
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{address}*")
    assert keys, "the count should be in Redis"


def test_with_memory_storage_each_process_counts_alone(limited, world):
    """The reason production uses Redis: in memory, a second process starts from zero."""
    first_process = limited()
    visitor = _visitor(first_process, world, "auth.login")
    assert {visitor.send().status_code for _ in range(10)} == {422}
    second_process = limited()
    again = Visitor(second_process, "/auth/login", LIMITED["auth.login"][1])
    again.client.environ_base["REMOTE_ADDR"] = visitor.client.environ_base["REMOTE_ADDR"]
    assert again.send().status_code == 422


def test_if_redis_goes_away_limits_are_counted_in_memory_not_refused(limited, world):
    app = limited("redis://127.0.0.1:1/0")  # nothing listens on port 1
    visitor = _visitor(app, world, "auth.login")
    assert {visitor.send().status_code for _ in range(10)} == {422}
    assert visitor.send().status_code == 429


# Limits per account: many addresses, one account ------------------------------------------


def _outbox(app, subject: str) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).filter_by(subject=subject)))


LOCKED_OUT = "Someone is trying to log in to your account"


def _guess(app, email: str, password: str = "a wrong guess!", address: str | None = None):
    visitor = Visitor(app, "/auth/login", {"email": email, "password": password})
    if address:
        visitor.client.environ_base["REMOTE_ADDR"] = address
    return visitor.send()


def test_failed_log_ins_are_limited_per_account_across_many_addresses(limited, world):
    app = limited()
    # Ten wrong passwords for Aisha, each from an address of its own: no per-address limit
    # is anywhere near, but the account's is reached.
    assert [_guess(app, "aisha@example.org").status_code for _ in range(10)] == [422] * 10
    locked = _guess(app, "aisha@example.org")
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert "too many failed log-ins to this email address" in locked.text
    assert "reset your password" in locked.text
    # The right password waits too (else guessing would go on), for every address...
    assert _guess(app, "aisha@example.org", PASSWORD).status_code == 429
    # ...while other accounts are untouched, even from the same addresses.
    assert _guess(app, "callum@example.org", PASSWORD).status_code == 303

    [mail] = _outbox(app, LOCKED_OUT)  # once per lock-out, not per refused try
    assert mail.to_address == "aisha@example.org"
    assert "try again in" in mail.body_text and "/auth/reset" in mail.body_text


def test_an_address_without_an_account_is_locked_alike_and_nobody_is_emailed(limited, world):
    app = limited()
    statuses = [_guess(app, "nobody@example.org").status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    assert _outbox(app, LOCKED_OUT) == []


def test_per_account_limits_hold_behind_a_proxy_whatever_x_forwarded_for_says(limited, world):
    app = limited(TRUSTED_PROXIES=1)
    statuses = []
    for n in range(12):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # nginx
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n + 1}"
        token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/auth/login").text).group(1)
        data = {"csrf_token": token, "email": "aisha@example.org", "password": "a wrong guess!"}
        statuses.append(client.post("/auth/login", data=data).status_code)
    assert statuses == [422] * 10 + [429] * 2
    assert len(_outbox(app, LOCKED_OUT)) == 1


def test_the_lock_out_is_a_setting(limited, world):
    app = limited(LOGIN_FAILURES_PER_ACCOUNT="3 per hour")
    assert [_guess(app, "aisha@example.org").status_code for _ in range(4)] == [422] * 3 + [429]


@pytest.mark.parametrize(
    ("path", "data", "subject"),
    [
        ("/auth/reset", {"email": "aisha@example.org"}, "Reset your password"),
        (
            "/auth/signup",
            {"name": "Aisha", "email": "aisha@example.org", "password": PASSWORD},
            "You already have an account",
        ),
        (
            "/auth/signup",
            {"name": "New", "email": "new-person@example.org", "password": PASSWORD},
            "Confirm your email address",
        ),
    ],
)
def test_sign_up_and_reset_emails_are_limited_per_email_address(
    limited, world, path, data, subject
):
    app = limited()
    statuses = [Visitor(app, path, data).send().status_code for _ in range(6)]
    assert statuses[:5] == [303] * 5 and statuses[5] == 429
    refused = Visitor(app, path, data).send()
    assert "sent as many emails to this address as we will for now" in refused.text
    assert len(_outbox(app, subject)) == 5
    # Someone else's address is not held up by it.
    other = {**data, "email": "someone-else@example.org"}
    assert Visitor(app, path, other).send().status_code == 303


def _with_second_factor(app, email: str) -> str:
    import pyotp

    from app.models import SecondFactor, User, utcnow

    secret = pyotp.random_base32()
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        db.session.add(SecondFactor(user=user, totp_secret=secret, confirmed_at=utcnow()))
        db.session.commit()
    return secret


def test_a_wrong_code_a_hundred_times_is_refused_clearly_and_never_a_500(limited, world):
    import pyotp

    app = limited()
    secret = _with_second_factor(app, "sandra@example.org")
    statuses = []
    for n in range(100):
        # A new address each time, as an attacker with many would; the account's limit holds.
        visitor = Visitor(app, "/auth/login", {"email": "sandra@example.org", "password": PASSWORD})
        assert visitor.send().headers["Location"] == "/auth/login/code"
        visitor.path, visitor.data = "/auth/login/code", {"code": f"{n:06d}"}
        page = visitor.client.get(visitor.path).text  # a new session after the password
        visitor.token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        statuses.append(visitor.send().status_code)
    assert statuses[:5] == [422] * 5 and set(statuses[5:]) == {429}
    refused = visitor.send()
    assert "Too many wrong codes have been given for this account" in refused.text
    # Even the right code waits now, and nobody was logged in.
    visitor.data = {"code": pyotp.TOTP(secret).now()}
    assert visitor.send().status_code == 429
    assert visitor.client.get("/organiser").status_code == 302
    [mail] = _outbox(app, "Someone has your password: change it now")
    assert mail.to_address == "sandra@example.org"
