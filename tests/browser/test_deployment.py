"""The README's deployment, run: Debian's nginx with deploy/nginx/plunge.conf (TLS with a
throwaway certificate) in front of two gunicorn instances started with deploy/gunicorn.conf.py,
on a PostgreSQL database of its own migrated by `flask db upgrade`, with the Stripe sandbox
signing webhooks to nginx's https address. A donor walks through it in Chromium.

Only ports, the certificate and the static, log and cache folders of the site file change
(bench/nginx.py, which `make bench-load`'s crowd shares). The last tests hold the progress
partials' microcache to what browsers saw without it."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from bench import nginx as nginx_site
from tests import stripe_events as se
from tests.browser.test_donation_journey import fill_donation, pay_with
from tests.conftest import ROOT, _free_port, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

DEPLOY = ROOT / "deploy"
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture(scope="module")
def _parts():
    if reason := nginx_site.missing():
        skip_or_fail(reason)
    if not GUNICORN.exists():
        skip_or_fail("gunicorn is not installed (make install)")


@pytest.fixture(scope="module")
def deploy_database(_parts, postgres_url):
    """A database of this module's own, migrated as the README says, with the event set up."""
    base, name = postgres_url.rsplit("/", 1)[0], f"plunge_test_deployment_{os.getpid()}"
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = f"{base}/{name}"
    try:
        env = _env(url)
        subprocess.run(
            [str(GUNICORN.with_name("flask")), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        _configure_event(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _configure_event(url: str) -> None:
    from app.events.service import configure_event
    from app.timefmt import parse_london

    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        configure_event(
            name="Sponsored Abseil 2027",
            starts_at=parse_london("2027-04-17 10:00"),
            venue="Queen Margaret Tower, Glasgow",
            description="Seventy metres.",
            contact_email="abseil@example.org",
            charity_name="Carers Voice",
            charity_number="SC012345",
            charity_is_scottish=True,
        )
        db.engine.dispose()


def _env(database_url: str, **more) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLASK_DEBUG", "TEST_DATABASE_URL", "PLUNGE_ENV", "LOG_FORMAT")
    }
    # Development: production would insist on live Stripe keys; the sandbox stands in for them.
    env.update(PLUNGE_ENV="development", DATABASE_URL=database_url, **more)
    return env


@pytest.fixture(scope="module")
def deployment(deploy_database, _stripe_sandbox, _smtp_server, tmp_path_factory):
    """nginx on https (yields its base URL and its folder) in front of two gunicorn instances."""
    folder = tmp_path_factory.mktemp("deploy")
    upstreams = [_free_port(), _free_port()]
    nginx = nginx_site.Nginx(folder, upstreams)
    site_url = nginx.url
    env = _env(
        deploy_database,
        SECRET_KEY="deployment-test-one-secret",
        SITE_URL=site_url,
        TRUSTED_PROXIES="1",
        LOG_FORMAT="json",
        STRIPE_SANDBOX_PORT=str(_stripe_sandbox.port),
        STRIPE_WEBHOOK_SECRET=se.WEBHOOK_SECRET,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(_smtp_server.port),
        PROGRESS_POLL_SECONDS="1",
        WEB_CONCURRENCY="1",  # two instances of one worker: 2 cores shared with the rest
    )
    logs = [folder / f"gunicorn-{port}.log" for port in upstreams]
    servers = []
    for port, log in zip(upstreams, logs, strict=True):
        with log.open("wb") as out:
            servers.append(
                subprocess.Popen(
                    [str(GUNICORN), "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                    cwd=ROOT,
                    env={**env, "PLUNGE_BIND": f"127.0.0.1:{port}"},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    cert = nginx.cert
    try:
        for server, port, log in zip(servers, upstreams, logs, strict=True):
            _wait_until_serving(server, f"http://127.0.0.1:{port}/healthz", log)
        _wait_until_serving(nginx.process, site_url + "/healthz", nginx.error_log, verify=cert)
        urls = {"url": site_url, "http_port": nginx.http_port, "upstreams": upstreams}
        yield {**urls, "folder": folder, "cert": cert, "logs": logs}
    finally:
        nginx.stop()
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    for log in logs:
        assert "Traceback" not in log.read_text(), log.read_text()


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path, verify=True) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited: {log.read_text() if log.exists() else ''}")
        try:
            if requests.get(url, timeout=10, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 30 s: {log.read_text() if log.exists() else ''}")


def _access_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == "plunge.access":
            lines.append(record)
    return lines


def test_a_donation_through_nginx_and_two_gunicorn_instances(
    deployment,
    _stripe_sandbox,
    smtp,
    chromium,
    monkeypatch,
):
    base, cert = deployment["url"], deployment["cert"]
    # Stripe posts webhooks to the site's public https address, through nginx, as on the day;
    # the sandbox (urllib) trusts the throwaway certificate for this test only.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    _stripe_sandbox.reset()
    _stripe_sandbox.configure_webhooks(base + "/stripe/webhook", se.WEBHOOK_SECRET)

    context = chromium.new_context(locale="en-GB", ignore_https_errors=True)
    donor = context.new_page()
    responses = []
    donor.on("response", lambda response: responses.append(response))
    try:
        first = donor.goto(base + "/")
        assert first.status == 200
        assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])  # nginx's id
        expect(donor.locator("#progress-event .raised")).to_have_text("£0.00")

        fill_donation(donor, base)
        donor.get_by_role("button", name="Continue to secure payment").click()
        expect(donor.get_by_text("TEST MODE").first).to_be_visible()
        pay_with(donor, "4242 4242 4242 4242")
        expect(donor.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()
        assert donor.url.startswith(base + "/")
        expect(donor.locator(".progress .raised")).to_have_text("£10.00")
    finally:
        context.close()

    assert _stripe_sandbox.wait_for_webhooks(10)
    assert len(smtp.wait_for("fiona@example.org")) == 1

    # Every answer from the app came with a request id; static files gzip'd and long-cached.
    ours = [r for r in responses if r.url.startswith(base)]
    pages = [r for r in ours if "/static/" not in r.url]
    assert pages and all("x-request-id" in r.headers for r in pages)
    css = requests.get(
        base + "/static/css/plunge.css",
        verify=cert,
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert css.status_code == 200
    assert css.headers["Content-Encoding"] == "gzip"
    max_age = int(re.search(r"max-age=(\d+)", css.headers["Cache-Control"]).group(1))
    assert max_age >= 7 * 24 * 3600
    assert "x-request-id" not in css.headers  # nginx served it, not the app
    html = requests.get(base + "/", verify=cert, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert html.headers["Content-Encoding"] == "gzip"
    plain = requests.get(
        f"http://127.0.0.1:{deployment['http_port']}/", allow_redirects=False, timeout=10
    )
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    # Both instances served the donor (nginx balances round-robin), each request under the
    # id nginx gave it, in nginx's log and the app's.
    served = [_access_lines(log) for log in deployment["logs"]]
    assert all(len(lines) > 2 for lines in served), [len(lines) for lines in served]
    ids = {line["request_id"] for lines in served for line in lines}
    webhooks = [line for lines in served for line in lines if line["route"] == "/stripe/webhook"]
    assert webhooks and all(line["status"] == 200 for line in webhooks)  # signed, through nginx
    assert first.headers["x-request-id"] in ids
    nginx_log = (deployment["folder"] / "plunge.access.log").read_text()
    assert first.headers["x-request-id"] in nginx_log


# The microcache of the progress partials (deploy/nginx/plunge.conf): what browsers see of
# the ETag/304/286 behaviour is what the app gives, and a donation shows as quickly as it did
# but for the second nginx may keep a copy.


def _poll(base: str, cert, **headers) -> requests.Response:
    return requests.get(
        base + "/progress", headers={"HX-Request": "true", **headers}, verify=cert, timeout=10
    )


def test_the_progress_partial_is_microcached_without_changing_what_browsers_see(deployment):
    base, cert = deployment["url"], deployment["cert"]
    time.sleep(1.1)  # whatever an earlier test left in the cache has had its second
    first = _poll(base, cert)
    again = _poll(base, cert)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.headers["X-Cache"] in ("MISS", "EXPIRED")
    assert again.headers["X-Cache"] == "HIT"
    assert again.text == first.text and again.headers["ETag"] == first.headers["ETag"]
    etag = first.headers["ETag"].removeprefix("W/")  # gzip weakens it (RFC 9110 8.8.1)
    for response in (first, again):
        # Nothing personal: no cookie set; browsers still revalidate every poll; each answer
        # has its own request id, not that of the request that filled the cache.
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-cache"
        assert 'class="raised"' in response.text
    assert first.headers["X-Request-ID"] != again.headers["X-Request-ID"]

    # The browser's ETag, strong or weakened by gzip, is answered 304 from the cache.
    for tag in (etag, "W/" + etag):
        unchanged = _poll(base, cert, **{"If-None-Match": tag, "Accept-Encoding": "gzip"})
        assert unchanged.status_code == 304 and unchanged.headers["X-Cache"] == "HIT"
        assert unchanged.content == b""
        assert unchanged.headers["ETag"].removeprefix("W/") == etag
    assert _poll(base, cert, **{"If-None-Match": '"another"'}).status_code == 200

    # A browser with cookies (a participant signed in, previewing) is answered by the app,
    # never from or into the cache, and still gets its 304.
    signed_in = {"Cookie": "session=anything"}
    fresh = _poll(base, cert, **signed_in)
    assert fresh.status_code == 200 and fresh.headers["X-Cache"] == "BYPASS"
    assert _poll(base, cert, **signed_in, **{"If-None-Match": etag}).status_code == 304

    # Only the public partials are cached: pages, unknown partials and errors are not.
    for path in ("/", "/donate", "/p/no-such-page/progress"):
        response = requests.get(base + path, headers={"HX-Request": "true"}, verify=cert)
        assert "X-Cache" not in response.headers or response.headers["X-Cache"] != "HIT"
        again = requests.get(base + path, headers={"HX-Request": "true"}, verify=cert)
        assert again.headers.get("X-Cache") in (None, "MISS", "BYPASS"), path


def _raised(viewer) -> str:
    return viewer.locator("#progress-event .raised").inner_text()


def test_a_donation_shows_through_the_microcache_within_a_poll_and_a_second(
    deployment, _stripe_sandbox, chromium, monkeypatch, axe
):
    base, cert = deployment["url"], deployment["cert"]
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    _stripe_sandbox.reset()
    _stripe_sandbox.configure_webhooks(base + "/stripe/webhook", se.WEBHOOK_SECRET)
    viewers = chromium.new_context(locale="en-GB", ignore_https_errors=True)
    donors = chromium.new_context(locale="en-GB", ignore_https_errors=True)
    try:
        viewer = viewers.new_page()
        polls = []
        viewer.on(
            "response",
            lambda r: (
                polls.append((time.monotonic(), r.status, r.headers.get("x-cache")))
                if r.url == base + "/progress"
                else None
            ),
        )
        viewer.goto(base + "/")
        assert axe(viewer) == []
        # The viewer's page polls (PROGRESS_POLL_SECONDS=1 here) and is answered, unchanged.
        # On a busy machine the first polls can all be full answers: wait for a revalidation.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            len(polls) < 3 or 304 not in {status for _, status, _ in polls}
        ):
            viewer.wait_for_timeout(100)
        assert len(polls) >= 3 and {status for _, status, _ in polls} <= {200, 304}
        assert 304 in {status for _, status, _ in polls}  # Chromium revalidates with its ETag
        # A visitor who has only watched holds no cookie, so nginx answers from its copy.
        assert viewers.cookies() == []
        assert "BYPASS" not in {cache for _, _, cache in polls}

        # The total now, as the polled bar shows it: the page itself may be a render up to
        # PUBLIC_PAGE_CACHE_SECONDS old, from before an earlier test's donation was counted.
        pounds = int(re.fullmatch(r"£([\d,]+)\.00", _raised(viewer))[1].replace(",", ""))
        expected = f"£{pounds + 10:,}.00"

        donating = time.monotonic()
        donor = donors.new_page()
        fill_donation(donor, base)
        donor.get_by_role("button", name="Continue to secure payment").click()
        pay_with(donor, "4242 4242 4242 4242")
        expect(donor.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()
        assert _stripe_sandbox.wait_for_webhooks(10)
        counted = time.monotonic()  # the webhook has moved the totals
        # Within the polling interval, plus the second nginx may keep a copy, plus a little
        # for a busy machine: htmx waits its second after each answer, then the repaint.
        limit = 1 + 1 + 0.75
        while _raised(viewer) != expected and time.monotonic() - counted < limit + 5:
            viewer.wait_for_timeout(50)
        shown = time.monotonic() - counted
        assert _raised(viewer) == expected
        assert shown <= limit, f"the donation showed after {shown:.1f} s: {polls}"
        # The new bar came as a whole partial (its poll may have been answered just before
        # the sandbox said the webhook was delivered).
        assert 200 in {status for at, status, _ in polls if at > donating}, (donating, polls)
    finally:
        viewers.close()
        donors.close()


def test_polls_stop_through_the_microcache_once_the_event_closes(deployment, deploy_database):
    base, cert = deployment["url"], deployment["cert"]
    engine = create_engine(deploy_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE event SET closes_at = now() - interval '1 minute'"))
        closed = time.monotonic()
        # The open event's copy lasts at most its second; then polls are told to stop.
        while (first := _poll(base, cert)).status_code != 286:
            assert time.monotonic() - closed < 2.5, first.status_code
            time.sleep(0.05)
        etag = first.headers["ETag"]
        for _ in range(2):  # nginx's copy, each time
            # Even with the closed bar's own ETag (a browser that fetched it without htmx):
            # 286 (stop), never the 304 that would keep htmx polling.
            polled = _poll(base, cert, **{"If-None-Match": etag})
            assert polled.status_code == 286 and 'class="raised"' in polled.text  # htmx stops
            plain = requests.get(base + "/progress", verify=cert, timeout=10)
            assert plain.status_code == 200 and 'class="raised"' in plain.text  # a browser
            assert "Set-Cookie" not in polled.headers and "Set-Cookie" not in plain.headers
        assert polled.headers["X-Cache"] == "HIT" and plain.headers["X-Cache"] == "HIT"
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE event SET closes_at = NULL"))
        engine.dispose()
