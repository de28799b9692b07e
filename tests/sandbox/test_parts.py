"""The sandbox's pieces on their own: form parsing, the card table, the OpenAPI helper, the CLI."""

import json
import socket
import subprocess
import sys
import time
from datetime import date

import pytest
import requests

from sandbox.cards import CARDS, check_entry, luhn_ok
from sandbox.forms import parse_pairs
from sandbox.validation import REFUND_PARAMS, SESSION_PARAMS
from tests.conftest import ROOT, skip_or_fail
from tests.sandbox import openapi
from tests.sandbox.conftest import donation_params

SHARED = ROOT / "tests" / "stripe_reference"


@pytest.fixture(scope="module")
def spec():
    """The OpenAPI subset, or a skip (a failure in CI) when the reference copy is missing."""
    if openapi.spec_path() is None:
        skip_or_fail("shared/stripe/openapi-subset.json is not there")
    return openapi.load_spec()


def test_bracket_keys_nest_into_dicts_and_lists():
    pairs = [
        ("line_items[0][price_data][unit_amount]", "1000"),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][quantity]", "2"),
        ("metadata[donation_id]", "42"),
        ("expand[]", "payment_intent"),
        ("expand[]", "payment_intent.latest_charge"),
        ("mode", "payment"),
    ]
    assert parse_pairs(pairs) == {
        "line_items": [{"price_data": {"unit_amount": "1000"}, "quantity": "1"}, {"quantity": "2"}],
        "metadata": {"donation_id": "42"},
        "expand": ["payment_intent", "payment_intent.latest_charge"],
        "mode": "payment",
    }


def test_card_table_matches_the_shared_test_cards():
    path = SHARED / "test-cards.json"
    if not path.is_file():
        skip_or_fail(f"{path} is not there")
    for row in json.loads(path.read_text())["cards"]:
        if row["error_code"] == "incorrect_number":
            # Fails the Luhn check, so the form refuses it before any payment is tried.
            _, errors = check_entry({"card_number": row["number"]})
            assert errors["card_number"] == "Your card number is incorrect."
            continue
        card = CARDS[row["number"]]
        category = row["category"]
        assert card.three_d_secure == (category == "3ds"), row["number"]
        if category in ("success", "dispute", "refund"):
            assert not card.declines, row["number"]
        if category == "decline":
            assert (card.error_code, card.decline_code) == (row["error_code"], row["decline_code"])
        if category == "fraud":
            assert card.declines, row["number"]
        if category == "dispute" and "early fraud warning" not in row["behaviour"]:
            assert card.dispute_reason, row["number"]
        if category == "refund":
            assert card.refund_later, row["number"]


def test_every_table_card_but_the_bad_one_passes_luhn():
    assert [number for number in CARDS if not luhn_ok(number)] == []
    assert not luhn_ok("4242424242424241")


def test_card_form_accepts_a_good_entry_and_tidies_it():
    entry, errors = check_entry(
        {
            "card_number": "4242 4242 4242 4242",
            "expiry": "12/34",
            "cvc": "123",
            "name": "Fiona",
            "email": "fiona@example.org",
        },
        today=date(2027, 4, 17),
    )
    assert errors == {}
    assert (entry.card.number, entry.exp_month, entry.exp_year) == ("4242424242424242", 12, 2034)


def test_session_params_cover_the_2023_spec(spec):
    properties = spec["requests"][openapi.CREATE_SESSION]["schema"]["properties"]
    assert set(properties) <= SESSION_PARAMS
    assert set(spec["requests"][openapi.CREATE_REFUND]["schema"]["properties"]) == REFUND_PARAMS


def test_the_apps_donation_params_validate_once_form_encoded(spec):
    from urllib.parse import parse_qsl, urlencode

    from stripe._encode import _api_encode

    encoded = urlencode(list(_api_encode(donation_params())))
    params = parse_pairs(parse_qsl(encoded))
    assert params["line_items"][0]["price_data"]["unit_amount"] == "1000"

    assert openapi.request_errors(openapi.CREATE_SESSION, params) == []
    assert openapi.request_errors(openapi.CREATE_SESSION, {**params, "ui_mode": "hosted"}) == [
        "<root>: Additional properties are not allowed ('ui_mode' was unexpected)"
    ]


def test_nullable_is_converted_so_stripes_fixtures_validate(spec):
    fixtures = spec["current_fixtures"]["objects"]
    for name in ("checkout.session", "payment_intent", "charge", "refund", "dispute"):
        assert openapi.object_errors(fixtures[name], name) == [], name
    assert openapi.object_errors({"object": "refund", "id": 1}) != []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_m_sandbox_serves_on_the_given_port():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = requests.get(
                    f"http://127.0.0.1:{port}/v1/events", auth=("sk_test_x", ""), timeout=1
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        assert response.json() == {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": "/v1/events",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
