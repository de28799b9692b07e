"""The README's deployment, run: Debian's nginx with deploy/nginx/plunge.conf (TLS with a
throwaway certificate) in front of two gunicorn instances started with deploy/gunicorn.conf.py,
on a PostgreSQL database of its own migrated by `flask db upgrade`, with the Stripe sandbox
signing webhooks to nginx's https address. A donor walks through it in Chromium.

Only ports, the certificate, the static folder and the log folder of the site file change."""

import datetime
import ipaddress
import json
import os
import re
import shutil
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
from tests import stripe_events as se
from tests.browser.test_donation_journey import fill_donation, pay_with
from tests.conftest import ROOT, _free_port, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
GUNICORN = Path(sys.executable).with_name("gunicorn")
MIME_TYPES = Path("/etc/nginx/mime.types")


@pytest.fixture(scope="module")
def _parts():
    if not Path(NGINX).exists() or not MIME_TYPES.exists():
        skip_or_fail("nginx is not installed (apt-get install nginx)")
    if not GUNICORN.exists():
        skip_or_fail("gunicorn is not installed (make install)")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _site(folder: Path, https_port: int, http_port: int, upstreams: list[int], cert, key) -> str:
    """deploy/nginx/plunge.conf with this machine's ports and folders, nothing else changed."""
    site = (DEPLOY / "nginx" / "plunge.conf").read_text()
    swaps = {
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{upstreams[0]};",
        "server 127.0.0.1:8002;": f"server 127.0.0.1:{upstreams[1]};",
        "/etc/letsencrypt/live/abseil.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/abseil.example.org/privkey.pem": str(key),
        "/srv/plunge/static/": f"{ROOT}/static/",
        "/var/log/nginx/": f"{folder}/",
    }
    for old, new in swaps.items():
        assert old in site, f"deploy/nginx/plunge.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


def _nginx_conf(folder: Path, site: Path) -> str:
    """A main nginx.conf for an unprivileged run in `folder` that includes the site."""
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    return f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    access_log off;
    include {site};
}}
"""


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
    https_port, http_port = _free_port(), _free_port()
    site_url = f"https://127.0.0.1:{https_port}"
    upstreams = [_free_port(), _free_port()]
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
    cert, key = _certificate(folder)
    site = folder / "plunge.conf"
    site.write_text(_site(folder, https_port, http_port, upstreams, cert, key))
    conf = folder / "nginx.conf"
    conf.write_text(_nginx_conf(folder, site))
    with (folder / "error.log").open("ab") as out:
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log")]
            + ["-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for server, port, log in zip(servers, upstreams, logs, strict=True):
            _wait_until_serving(server, f"http://127.0.0.1:{port}/healthz", log)
        _wait_until_serving(nginx, site_url + "/healthz", folder / "error.log", verify=cert)
        urls = {"url": site_url, "http_port": http_port}
        yield {**urls, "folder": folder, "cert": cert, "logs": logs}
    finally:
        nginx.terminate()
        for server in servers:
            server.terminate()
        nginx.wait(timeout=20)
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
