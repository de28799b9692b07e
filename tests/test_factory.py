"""The app factory and configuration."""

import pytest

from app import create_app
from app.extensions import db


def test_test_config_is_testing(app):
    assert app.testing


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(env="production")


def test_the_environment_is_chosen_by_the_caller_not_the_shell(monkeypatch, database_url):
    monkeypatch.setenv("PLUNGE_ENV", "production")  # would refuse to start without secrets
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.testing
    assert app.config["PLUNGE_ENV"] == "test"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    with app.app_context():
        db.engine.dispose()


def test_an_unknown_environment_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("PLUNGE_ENV", "staging")
    with pytest.raises(RuntimeError, match="PLUNGE_ENV must be one of development, test"):
        create_app()


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
