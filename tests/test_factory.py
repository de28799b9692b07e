"""The app factory and configuration."""

import pytest

from app import create_app


def test_test_config_is_testing(app):
    assert app.testing


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_site_without_an_event_explains_how_to_set_one_up(client):
    response = client.get("/")
    assert response.status_code == 503
    assert b"flask --app wsgi event configure" in response.data


def test_unknown_page_is_a_friendly_404(client, event):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_every_page_sends_security_headers(client, event):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
