"""Security headers on every answer, cookies in production, security.txt, and the proxy setting
that rate limits depend on."""

import html
import json
import re
from datetime import datetime, timedelta

import pytest
from flask import request

from app import create_app
from app.extensions import db
from app.models import utcnow
from tests.accounts import PASSWORD

PRODUCTION_ENV = {
    "SECRET_KEY": "a-real-secret-for-this-test",
    "DATABASE_URL": "postgresql://plunge@127.0.0.1/plunge",
    "SITE_URL": "https://abseil.example.org",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    # A Fernet key (32 bytes, base64): production also needs one once safety answers exist.
    "SAFETY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}


@pytest.fixture
def production(monkeypatch, database_url, make):
    """The production configuration, on the test database (with an event and Aisha)."""
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    make.participant()
    app = create_app(
        env="production",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SITE_URL": PRODUCTION_ENV["SITE_URL"],
            "STRIPE_SECRET_KEY": PRODUCTION_ENV["STRIPE_SECRET_KEY"],
            "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
        },
    )
    yield app
    dispose(app)


def dispose(app) -> None:
    """Close an extra app's database connections (PostgreSQL warns about any left open)."""
    with app.app_context():
        db.engine.dispose()


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in csp.split(";") if directive.strip())
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no-such-page", "/static/css/plunge.css"])
def test_every_answer_carries_the_security_headers(client, event, path):
    response = client.get(path)
    response.close()  # static files are streamed from disk
    headers = response.headers
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval
    assert csp["style-src"] == ["'self'"]  # no inline styles either
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # only where the site is served over TLS


def test_forms_may_post_only_to_the_site_and_the_sandbox_in_use(client, event):
    event.config["STRIPE_SANDBOX_PORT"] = 12345
    csp = _directives(client.get("/").headers["Content-Security-Policy"])
    assert csp["form-action"] == ["'self'", "http://127.0.0.1:12345"]


def test_with_a_stripe_key_forms_may_post_only_to_the_site_and_stripe_checkout(client, event):
    event.config["STRIPE_SECRET_KEY"] = "sk_test_example"
    csp = _directives(client.get("/").headers["Content-Security-Policy"])
    assert csp["form-action"] == ["'self'", "https://checkout.stripe.com"]


def test_production_sends_hsts_and_allows_only_stripe_checkout(production):
    headers = production.test_client().get("/", base_url="https://abseil.example.org").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert "127.0.0.1" not in headers["Content-Security-Policy"]


def test_production_cookies_are_secure_httponly_and_samesite(production):
    client = production.test_client()
    https = {"base_url": "https://abseil.example.org"}
    # Over HTTPS, Flask-WTF also checks the Referer comes from this site.
    referer = {"Referer": "https://abseil.example.org/auth/login"}
    client.get("/auth/login", **https)
    token = client.get_cookie("session", domain="abseil.example.org")
    assert token is not None
    page = client.get("/auth/login", **https).get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/auth/login",
        data={"csrf_token": csrf, "email": "aisha@example.org", "password": PASSWORD},
        headers=referer,
        **https,
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].strip() == "SameSite=Lax"
    for name in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert production.config[f"{name}_SECURE"] is True
        assert production.config[f"{name}_HTTPONLY"] is True
        assert production.config[f"{name}_SAMESITE"] == "Lax"


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SECRET_KEY"])
def test_production_refuses_to_start_without_stripe_or_its_secret(monkeypatch, missing):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        create_app(env="production")


# security.txt ---------------------------------------------------------------------------


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if line)


def test_security_txt_names_the_events_contact_and_expires_in_a_year(client, event):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    fields = _fields(response.get_data(as_text=True))
    assert fields["Contact"] == "mailto:abseil@example.org"
    assert fields["Preferred-Languages"] == "en"
    assert fields["Canonical"] == event.config["SITE_URL"] + "/.well-known/security.txt"
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert timedelta(days=364) < expires - utcnow() <= timedelta(days=365)


def test_security_txt_prefers_the_configured_contact(client, event):
    event.config["SECURITY_CONTACT"] = "security@example.org"
    assert "Contact: mailto:security@example.org" in client.get("/.well-known/security.txt").text
    event.config["SECURITY_CONTACT"] = "https://example.org/report"
    assert "Contact: https://example.org/report" in client.get("/.well-known/security.txt").text


def test_without_any_contact_there_is_no_security_txt(client):
    assert client.get("/.well-known/security.txt").status_code == 404


# Proxies --------------------------------------------------------------------------------


@pytest.fixture
def app_behind(database_url, app):
    """Build an app trusting `proxies` proxies, with a route that says who is asking."""
    built = []

    def build(proxies: int):
        overrides = {"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXIES": proxies}
        behind = create_app(env="test", overrides=overrides)
        behind.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
        built.append(behind)
        return behind

    yield build
    for behind in built:
        dispose(behind)


def test_behind_a_trusted_proxy_the_visitors_address_is_used(app_behind):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    trusting = app_behind(1).test_client()
    assert trusting.get("/whoami", headers=forwarded).text == "203.0.113.9"
    # Without a proxy configured, a client can't choose its own address (and dodge limits).
    direct = app_behind(0).test_client()
    assert direct.get("/whoami", headers=forwarded).text == "127.0.0.1"


# Input no database column can hold ---------------------------------------------------------


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("GET", "/me/page/slug?slug=a%00b", None),
        ("POST", "/auth/login", {"email": "aisha@example.org\x00", "password": "x"}),
        ("POST", "/donate", {"donor_name": "Fiona\x1b[31m"}),
    ],
)
def test_control_characters_in_a_form_or_query_are_refused_plainly(
    client, auth, make, method, url, data
):
    make.participant()
    auth.login()
    token = auth.csrf_token()
    response = client.open(url, method=method, data=data, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert "make sense to us" in response.text


def test_tabs_and_new_lines_are_fine(client, auth, make):
    make.participant()
    auth.login()
    form = {"update-body": "Line one\r\n\r\nLine\ttwo"}
    response = client.post("/me/updates", data=form, headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code == 303


@pytest.mark.parametrize(
    "url",
    [
        "/p/a%00b",
        "/p/aisha%1f",
        "/donate/%7f",
        "/me/updates/2147483648/delete",
        "/me/updates/99999999999999999999999/delete",
    ],
)
def test_urls_no_database_could_look_up_are_not_found(client, auth, make, url):
    make.participant()
    auth.login()
    response = client.post(url, headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code in (404, 405)
    assert client.get(url).status_code == 404 or "/delete" in url


# Sessions and accounts ----------------------------------------------------------------


def _plant(client) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by someone else"


def _planted(client) -> bool:
    with client.session_transaction() as session:
        return "planted" in session


def test_logging_in_through_a_reset_link_starts_a_fresh_session(client, auth, make, smtp):
    make.participant()
    response = auth.post("/auth/reset", {"email": "aisha@example.org"})
    response.close()
    link = re.search(
        r"/auth/reset/\S+", smtp.to("aisha@example.org")[0].get_body(("plain",)).get_content()
    ).group(0)
    _plant(client)
    assert auth.post(link, {"password": "a brand new password"}).headers["Location"] == "/me"
    assert not _planted(client)


def test_logging_in_through_a_sign_up_link_starts_a_fresh_session(client, auth, event, smtp):
    auth.post(
        "/auth/signup", {"name": "Morag", "email": "morag@example.org", "password": PASSWORD}
    ).close()
    link = re.search(
        r"/auth/confirm/\S+", smtp.to("morag@example.org")[0].get_body(("plain",)).get_content()
    )
    _plant(client)
    assert auth.post(link.group(0)).headers["Location"] == "/me"
    assert not _planted(client)


def test_an_unknown_address_costs_a_password_check_too(app, make, monkeypatch):
    """So how long a failed log-in takes does not tell anyone whether the address exists."""
    from app.auth import service

    make.participant()
    checks = []
    real = service.check_password_hash
    monkeypatch.setattr(
        service, "check_password_hash", lambda *args: checks.append(1) or real(*args)
    )
    with app.app_context():
        assert service.authenticate("nobody@example.org", "a guess") is None
        assert service.authenticate("aisha@example.org", "a guess") is None
    assert len(checks) == 2


def test_the_session_cookie_is_httponly_and_samesite_everywhere(client, auth, make):
    make.participant()
    response = auth.login()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # gone when the browser closes; nothing remembered


def test_htmx_is_configured_for_the_strict_csp(client, event):
    page = client.get("/").text
    config = json.loads(
        html.unescape(re.search(r"name=\"htmx-config\" content='([^']+)'", page)[1])
    )
    assert config["allowEval"] is False  # no eval: script-src has no 'unsafe-eval'
    assert config["includeIndicatorStyles"] is False  # no injected <style>: style-src 'self'
    assert config["allowScriptTags"] is False  # swapped-in markup never runs script
    # A form sent too often (429) or left open too long (400) shows its page in place.
    shown_in_place = [r for r in config["responseHandling"] if r.get("target") == "#main"]
    assert [r["code"] for r in shown_in_place] == ["4(00|29)"]


def test_production_logs_json_lines_and_keeps_sql_values_out_of_them(production):
    assert production.config["LOG_FORMAT"] == "json"
    with production.app_context():
        assert db.engine.hide_parameters is True
