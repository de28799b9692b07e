"""Fixtures for the Stripe sandbox's own tests: a running sandbox, the official client talking
to it over HTTP, a webhook receiver, and helpers to make and pay sessions."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox.server import start
from tests.conftest import IN_CI
from tests.sandbox.openapi import assert_valid_exchange, spec_path

SECRET = "whsec_test_sandbox_secret"


def donation_params(**overrides) -> dict:
    """The parameters the app sends for one donation, as the design describes them."""
    params = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [
            {
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": 1000,
                    "product_data": {"name": "Donation to Aisha's abseil"},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": "42",
        "metadata": {"donation_id": "42"},
        "payment_intent_data": {"metadata": {"donation_id": "42"}},
        "success_url": "http://127.0.0.1:5000/donations/42/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5000/aisha",
        "expires_at": int(time.time()) + 31 * 60,
        "customer_email": "fiona@example.org",
    }
    params.update(overrides)
    return params


class Receiver:
    """A tiny webhook endpoint: records each POST and answers with the next scripted status."""

    def __init__(self, port: int = 0):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self._cond = threading.Condition()
        self._server = make_server("127.0.0.1", port, self._app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/stripe/webhook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @Request.application
    def _app(self, request: Request) -> Response:
        with self._cond:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(
                {
                    "body": request.get_data(as_text=True),
                    "signature": request.headers.get("Stripe-Signature"),
                    "content_type": request.headers.get("Content-Type"),
                    "status": status,
                }
            )
            self._cond.notify_all()
        return Response("ok", status=status)

    def events(self) -> list[dict]:
        """Every received body, parsed."""
        with self._cond:
            return [json.loads(item["body"]) for item in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Wait until `count` requests have arrived; returns all parsed bodies."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"got {len(self.received)} webhooks, wanted {count}"
                self._cond.wait(remaining)
        return self.events()

    def stop(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver():
    """A webhook endpoint on a free port."""
    endpoint = Receiver()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def sandbox(receiver):
    """A running sandbox delivering to `receiver`, with retries fast enough for tests.

    At the end, every /v1 exchange it served is checked against Stripe's OpenAPI schemas.
    """
    handle = start(
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        backoff=0.05,
        max_attempts=4,
        sweep_interval=0.05,
    )
    yield handle
    handle.stop()
    if spec_path() is None:
        if IN_CI:
            pytest.fail("the Stripe OpenAPI subset is missing, so nothing was checked")
        return
    for exchange in handle.requests:
        assert_valid_exchange(exchange)


@pytest.fixture
def client(sandbox):
    """The official library pointed at the sandbox, built as the app builds it."""
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": sandbox.url}, max_network_retries=2
    )


@pytest.fixture
def control(sandbox):
    """POST (or GET, with body None) to a /_sandbox test control; returns status and JSON."""

    def call(path: str, body: dict | None = None, *, expect: int = 200):
        url = f"{sandbox.url}/_sandbox{path}"
        response = requests.get(url) if body is None else requests.post(url, json=body)
        assert response.status_code == expect, response.text
        return response.json()

    return call


@pytest.fixture
def new_session(client):
    """Create a donation session through the API; keyword arguments override parameters."""

    def create(**overrides):
        return client.v1.checkout.sessions.create(params=donation_params(**overrides))

    return create


@pytest.fixture
def paid_session(new_session, control, sandbox):
    """Create a session and pay it with a card (4242... unless given); returns the session."""

    def pay(card: str = "4242424242424242", **overrides):
        session = new_session(**overrides)
        result = control(f"/checkout/sessions/{session.id}/pay", {"card": card})
        assert result["status"] == "paid", result
        return result["session"]

    return pay
