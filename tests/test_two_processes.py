"""Two app processes on one PostgreSQL database, as two gunicorn instances on the day: the same
webhook delivered to both at once counts once, and rate limits are shared through Redis."""

import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.extensions import db
from app.models import EVENT_SCOPE, Donation, DonationStatus, OutboxMessage, StripeEvent, Totals
from tests import stripe_events as se
from tests.conftest import ROOT, _free_port, skip_or_fail

pytestmark = pytest.mark.postgres

DONATIONS = 50
REFUND_EVERY = 3  # every third donation is also partly refunded, racing its own payment
REFUND_PENCE = 100
# As the README deploys it: threads, so one slow request does not hold up the rest.
GUNICORN = ["--workers", "1", "--worker-class", "gthread", "--threads", "8"]
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def shared_database(postgres_url):
    """A PostgreSQL database of this module's own, with an event, a page and 50 pending
    donations; dropped afterwards."""
    base, name = postgres_url.rsplit("/", 1)[0], f"plunge_test_two_processes_{os.getpid()}"
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = f"{base}/{name}"
    try:
        yield url, _fill(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _fill(url: str) -> list[tuple[int, int, int | None]]:
    from app.events.service import configure_event
    from app.timefmt import parse_london
    from tests.conftest import Factory

    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        configure_event(
            name="Abseil",
            starts_at=parse_london("2027-04-17 10:00"),
            venue="Tower",
            charity_name="Carers Voice",
            charity_number="SC012345",
        )
    make = Factory(app)
    page = make.participant("Aisha Rahman", "aisha")
    donations = []
    for n in range(DONATIONS):
        amount, page_id = 500 + 37 * n, page if n % 2 else None
        donation_id = make.donation(
            amount,
            page_id=page_id,
            status=DonationStatus.PENDING,
            donor_email=f"donor{n}@example.org",
        )
        donations.append((donation_id, amount, page_id))
    with app.app_context():
        db.engine.dispose()
    return donations


@pytest.fixture(scope="module")
def two_processes(shared_database, _smtp_server):
    """Two gunicorn instances of the app (one process, 8 threads each) on the same database,
    sharing Redis for rate limits; yields their base URLs."""
    url, _donations = shared_database
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "TEST_DATABASE_URL")}
    env.update(
        PLUNGE_ENV="development",
        DATABASE_URL=url,
        SECRET_KEY="two-processes-one-secret",  # what makes a cookie good on either instance
        STRIPE_WEBHOOK_SECRET=se.WEBHOOK_SECRET,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(_smtp_server.port),
        RATELIMIT_STORAGE_URI=REDIS_URL,
    )
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                *GUNICORN,
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        yield [_wait_until_serving(s, port) for s, port in zip(servers, ports, strict=True)]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            _, errors = server.communicate(timeout=20)
            assert b"Traceback" not in errors, errors.decode()


def _wait_until_serving(server: subprocess.Popen, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()
        try:
            # The master listens at once; the answer waits until its worker has booted.
            if requests.get(url + "/progress", timeout=10).status_code == 200:
                return url
        except requests.RequestException:
            time.sleep(0.1)
    pytest.fail(f"the app on port {port} did not start within 30 s")


def _deliver(url: str, body: bytes) -> requests.Response:
    return requests.post(
        url + "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": se.sign(body), "Content-Type": "application/json"},
        timeout=30,
    )


def _events(donations) -> list[bytes]:
    events = []
    for n, (donation_id, amount, _page) in enumerate(donations):
        session = se.checkout_session(donation_id, amount)
        events.append(se.event("checkout.session.completed", session))
        if n % REFUND_EVERY == 0:
            refund = se.refund(
                donation_id, REFUND_PENCE, metadata={"donation_id": str(donation_id)}
            )
            events.append(se.event("refund.created", refund))
    return events


def test_each_webhook_sent_to_both_processes_at_once_counts_once(
    shared_database, two_processes, _smtp_server
):
    url, donations = shared_database
    _smtp_server.messages.clear()
    events = _events(donations)
    # Every event twice, once to each process, all at once and in no particular order.
    deliveries = [(app, body) for body in events for app in two_processes]
    random.Random(8).shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda d: _deliver(*d), deliveries))

    assert [r.status_code for r in responses] == [200] * len(deliveries)
    outcomes = Counter(r.json()["outcome"] for r in responses)
    assert outcomes == {"applied": len(events), "duplicate": len(events)}

    kept = [
        amount - REFUND_PENCE * (n % REFUND_EVERY == 0)
        for n, (_, amount, _) in enumerate(donations)
    ]
    refunds = len(range(0, DONATIONS, REFUND_EVERY)) * REFUND_PENCE
    raised = sum(kept)
    page_raised = sum(net for net, (_, _, page) in zip(kept, donations, strict=True) if page)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(StripeEvent)) == len(events)
            statuses = conn.scalars(select(Donation.status)).all()
            assert statuses == [DonationStatus.PAID] * DONATIONS
            rows = {row.scope: row for row in conn.execute(select(Totals))}
            receipts = conn.scalars(
                select(OutboxMessage.to_address).where(
                    OutboxMessage.to_address.like("donor%"),
                    OutboxMessage.subject.like("Thank you%"),  # receipts, not refund notices
                )
            ).all()
    finally:
        engine.dispose()
    event = rows[EVENT_SCOPE]
    assert (event.raised_pence, event.supporters, event.refunded_pence) == (
        raised,
        DONATIONS,
        refunds,
    )
    [page] = [row for scope, row in rows.items() if scope != EVENT_SCOPE]
    assert (page.raised_pence, page.supporters) == (page_raised, DONATIONS // 2)
    assert sorted(receipts) == sorted(f"donor{n}@example.org" for n in range(DONATIONS))

    # Both processes show the same, exact total, with the same ETag.
    shown = [requests.get(app + "/progress", timeout=5) for app in two_processes]
    assert shown[0].headers["ETag"] == shown[1].headers["ETag"]
    pounds = f"£{raised // 100:,}.{raised % 100:02d}"
    assert all(f'class="raised">{pounds}<' in answer.text for answer in shown)
    # And each receipt went out once, though both processes send the outbox after responding.
    deadline = time.monotonic() + 20
    while len(_receipts_sent(_smtp_server)) < len(receipts) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # anything sent twice would arrive by now
    assert _receipts_sent(_smtp_server) == dict.fromkeys(receipts, 1)


def _receipts_sent(smtp) -> Counter:
    return Counter(
        m["To"]
        for m in list(smtp.messages)
        if m["To"].startswith("donor") and m["Subject"].startswith("Thank you")
    )


class _FromAddress(HTTPAdapter):
    """Connect from a given loopback address: a visitor of our own, whom no earlier run has
    counted (Redis keeps each count for a minute)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def test_rate_limits_count_across_both_processes_through_redis(two_processes):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    visitor = requests.Session()
    address = f"127.4.{random.randrange(256)}.{random.randrange(1, 255)}"
    visitor.mount("http://", _FromAddress(address))
    form = visitor.get(two_processes[0] + "/donate", timeout=5).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
    # An incomplete form is refused (422) and records nothing, but counts toward the limit:
    # 20 per minute per address (app/donations/views.py), whichever process answers.
    statuses = [
        visitor.post(
            two_processes[n % 2] + "/donate", data={"csrf_token": token}, timeout=5
        ).status_code
        for n in range(21)
    ]
    assert statuses == [422] * 20 + [429]
