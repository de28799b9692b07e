"""CSRF: every route that changes anything refuses a request that lacks the session's token,
htmx requests included. The Stripe webhook, which Stripe signs instead, is the only exemption;
a mail client's RFC 8058 one-click unsubscribe (exactly `List-Unsubscribe=One-Click`, signed
link, no cookies) is taken without one, and that route checks every other POST (test_consent).

The walk covers every POST, PUT, PATCH and DELETE route in the app's URL map, so a route added
later with `@csrf.exempt` (or behind anything that skips the check) fails here."""

import re

import pytest
from flask import Flask
from werkzeug.routing import FloatConverter, IntegerConverter

from app.extensions import csrf
from tests.world import build_world, log_in_as

# Stripe signs its webhook (checked on the raw body); there is no session to hold a token.
EXEMPT = {"webhooks.receive_stripe_event"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REFUSAL = b"Please try that again"  # templates/errors/csrf.html


@pytest.fixture
def world(make):
    """Aisha, Callum, Sandra and their pages (see tests/world.py)."""
    return build_world(make)


def unsafe_routes(app: Flask, values: dict) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every state-changing route: real ids and slugs where the
    world has them, else any value the route's converter accepts (CSRF is checked before the
    view looks anything up), so a route added later is walked with no change here."""
    routes = []
    for rule in app.url_map.iter_rules():
        arguments = {arg: values.get(arg, _any_value(rule, arg)) for arg in rule.arguments}
        _domain, url = rule.build(arguments, False)
        routes += [(rule.endpoint, method, url) for method in sorted(rule.methods & UNSAFE_METHODS)]
    return routes


def _any_value(rule, argument: str):
    converter = rule._converters[argument]
    if isinstance(converter, IntegerConverter):
        return 1
    return 1.0 if isinstance(converter, FloatConverter) else "x"


def accepted_without_token(app: Flask, client, values: dict, htmx: bool = False) -> list[str]:
    """The state-changing routes that did not refuse a request without a CSRF token."""
    headers = {"HX-Request": "true"} if htmx else {}
    accepted = []
    for endpoint, method, url in unsafe_routes(app, values):
        if endpoint in EXEMPT:
            continue
        response = client.open(url, method=method, data={"anything": "x"}, headers=headers)
        if not (response.status_code == 400 and REFUSAL in response.data):
            accepted.append(f"{method} {url} ({endpoint}): {response.status_code}")
    return accepted


@pytest.mark.parametrize("role", ["visitor", "organiser", "participant"])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_state_changing_route_refuses_a_request_without_its_token(
    app, client, world, role, htmx
):
    log_in_as(client, world, role)
    accepted = accepted_without_token(app, client, world.route_arguments(), htmx)
    assert accepted == [], "these change state without a CSRF token: only the webhook may"
    assert set(app.view_functions) >= EXEMPT


def test_the_walk_catches_a_new_route_that_skips_csrf(app, client, world):
    @app.post("/me/forgot-csrf")
    @csrf.exempt
    def forgot_csrf():
        return "changed something"

    try:
        accepted = accepted_without_token(app, client, world.route_arguments())
    finally:
        # CSRFProtect is one object shared by every app: take the exemption back off it.
        csrf._exempt_views.discard(f"{__name__}.forgot_csrf")
    assert "POST /me/forgot-csrf (forgot_csrf): 200" in accepted


def test_a_wrong_or_another_sessions_token_is_refused(app, client, auth, world):
    log_in_as(client, world, "participant")
    other = app.test_client()
    login_page = other.get("/auth/login").text  # never cached: it carries the session's token
    stranger_token = re.search(r'"X-CSRFToken": "([^"]+)"', login_page).group(1)
    for token in ("nonsense", stranger_token):
        response = client.post(
            "/me/updates", data={"update-body": "hi", "update-csrf_token": token}
        )
        assert response.status_code == 400 and REFUSAL in response.data
        response = client.post(
            "/me/updates",
            data={"update-body": "hi"},
            headers={"HX-Request": "true", "X-CSRFToken": token},
        )
        assert response.status_code == 400


def test_htmx_sends_the_token_in_a_header_and_is_let_through(client, auth, world):
    log_in_as(client, world, "participant")
    token = auth.csrf_token()
    response = client.post(
        "/me/updates",
        data={"update-body": "Sent by htmx"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert "Sent by htmx" in response.text


def test_the_token_is_renewed_at_log_in(client, auth, make):
    """A token planted before log-in (say by someone who shared the computer) stops working."""
    make.participant()
    before = auth.csrf_token()
    auth.login()
    response = client.post("/me/updates", data={"update-body": "hi", "update-csrf_token": before})
    assert response.status_code == 400
    assert auth.csrf_token() != before
