"""The sandbox's /v1 API, driven by the official stripe library over real HTTP."""

import time

import pytest
import requests
import stripe

from tests.sandbox.conftest import donation_params


def test_create_session_answers_like_stripe(client, sandbox):
    session = client.v1.checkout.sessions.create(params=donation_params())

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{sandbox.url}/checkout/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (1000, "gbp")
    assert (session.mode, session.submit_type) == ("payment", "donate")
    assert session.metadata.to_dict() == {"donation_id": "42"}
    assert session.client_reference_id == "42"
    assert session.customer_email == "fiona@example.org"
    assert session.payment_intent is None
    assert session.livemode is False
    assert session.created <= session.expires_at


def test_retrieve_session_and_expand_its_payment_intent(client, paid_session):
    paid = paid_session()

    session = client.v1.checkout.sessions.retrieve(
        paid["id"], params={"expand": ["payment_intent"]}
    )

    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.url is None
    assert session.customer_details.email == "fiona@example.org"
    intent = session.payment_intent
    assert intent.id.startswith("pi_")
    assert intent.status == "succeeded"
    assert intent.metadata.to_dict() == {"donation_id": "42"}
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount, charge.amount_refunded, charge.refunded) == (1000, 0, False)
    assert charge.metadata.to_dict() == {"donation_id": "42"}


def test_expire_closes_an_open_session_once(client, new_session):
    session = new_session()

    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.expire(session.id)
    assert 'status of "expired"' in caught.value.user_message


def test_unknown_session_is_a_404(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert "No such checkout.session: 'cs_test_nope'" in caught.value.user_message


def test_same_idempotency_key_and_params_replays_the_first_answer(client, sandbox):
    options = {"idempotency_key": "donation-42"}
    params = donation_params()  # once: its expires_at is from the clock, which moves on
    first = client.v1.checkout.sessions.create(params=params, options=options)
    again = client.v1.checkout.sessions.create(params=params, options=options)

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [r["replayed"] for r in sandbox.requests] == [False, True]


def test_same_idempotency_key_with_other_params_is_refused(client):
    options = {"idempotency_key": "donation-43"}
    client.v1.checkout.sessions.create(params=donation_params(), options=options)

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.checkout.sessions.create(
            params=donation_params(client_reference_id="44"), options=options
        )
    assert caught.value.http_status == 400
    assert "donation-43" in caught.value.user_message


def test_a_refused_request_may_be_fixed_and_sent_again_under_the_same_key(client):
    options = {"idempotency_key": "donation-45"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=donation_params(mode=None), options=options)

    session = client.v1.checkout.sessions.create(params=donation_params(), options=options)
    assert session.status == "open"


def _line_item(**price):
    data = {"currency": "gbp", "unit_amount": 1000, "product_data": {"name": "Gift"}, **price}
    return [{"price_data": data, "quantity": 1}]


@pytest.mark.parametrize(
    ("overrides", "param", "message"),
    [
        ({"success_url": None}, "success_url", "Missing required param: success_url."),
        ({"success_url": "not a url"}, "success_url", "Not a valid URL"),
        ({"mode": None}, "mode", "Missing required param: mode."),
        ({"mode": "subscription"}, "mode", "supports only payment"),
        ({"line_items": None}, "line_items", "Missing required param: line_items."),
        (
            {"line_items": _line_item(unit_amount=0)},
            "line_items[0][price_data][unit_amount]",
            "greater than or equal to 1",
        ),
        (
            {"line_items": _line_item(unit_amount=29)},
            "line_items",
            "at least £0.30 gbp",
        ),
        (
            {"line_items": _line_item(currency="usd")},
            "line_items[0][price_data][currency]",
            "Invalid currency: usd",
        ),
        (
            {"line_items": _line_item(product_data={})},
            "line_items[0][price_data][product_data][name]",
            "Missing required param",
        ),
        (
            {"line_items": [{"price_data": _line_item()[0]["price_data"]}]},
            "line_items[0][quantity]",
            "Quantity is required",
        ),
        ({"expires_at": int(time.time()) + 60}, "expires_at", "at least 30 minutes"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at", "less than 24 hours"),
        ({"customer_email": "fiona"}, "customer_email", "Invalid email address: fiona"),
        ({"submit_type": "give"}, "submit_type", "Invalid submit_type"),
        ({"payment_intent_data": {"metdata": {"a": "b"}}}, "payment_intent_data[metdata]", ""),
        ({"colour": "red"}, "colour", "Received unknown parameter: colour"),
    ],
)
def test_invalid_session_params_get_a_stripe_error_naming_the_param(
    client, overrides, param, message
):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=donation_params(**overrides))

    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert message in caught.value.user_message
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"


def test_requests_without_a_test_secret_key_are_unauthorised(sandbox):
    for key in ("sk_live_123456789012", "pk_test_123456789012"):
        client = stripe.StripeClient(key, base_addresses={"api": sandbox.url})
        with pytest.raises(stripe.AuthenticationError) as caught:
            client.v1.events.list()
        assert caught.value.http_status == 401
        assert "Invalid API Key provided" in caught.value.user_message

    bare = requests.get(f"{sandbox.url}/v1/events")
    assert bare.status_code == 401
    assert "You did not provide an API key" in bare.json()["error"]["message"]
    basic = requests.get(f"{sandbox.url}/v1/events", auth=("sk_test_x", ""))
    assert basic.status_code == 200


def test_unknown_api_url_gets_stripe_json_404(sandbox):
    response = requests.get(f"{sandbox.url}/v1/customers", auth=("sk_test_x", ""))

    assert response.status_code == 404
    assert "Unrecognized request URL (GET: /v1/customers)" in response.json()["error"]["message"]


def test_partial_then_full_refund_is_tracked_on_the_charge(client, paid_session, sandbox):
    intent_id = paid_session()["payment_intent"]

    first = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 300})
    rest = client.v1.refunds.create(
        params={"payment_intent": intent_id, "metadata": {"reason": "duplicate donation"}}
    )

    assert (first.amount, first.status, first.object) == (300, "succeeded", "refund")
    assert first.id.startswith("re_")
    assert rest.amount == 700
    assert rest.metadata.to_dict() == {"reason": "duplicate donation"}
    charge = client.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    assert caught.value.code == "charge_already_refunded"


def test_refund_events_carry_the_cumulative_amount_refunded(client, paid_session, sandbox):
    intent_id = paid_session()["payment_intent"]
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 400})
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 600})

    events = client.v1.events.list(params={"type": "charge.refunded"}).data

    charges = [event.data.object for event in reversed(events)]
    assert [(c.amount_refunded, c.refunded) for c in charges] == [(400, False), (1000, True)]
    assert events[0].data.previous_attributes.to_dict() == {
        "amount_refunded": 400,
        "refunded": False,
    }
    assert events[0].request.id.startswith("req_")


def test_refund_more_than_is_left_is_refused(client, paid_session):
    intent_id = paid_session()["payment_intent"]
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 600})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})

    assert caught.value.code == "amount_too_large"
    assert caught.value.param == "amount"
    assert "(£5.00) is greater than unrefunded amount on charge (£4.00)" in (
        caught.value.user_message
    )


def test_refund_by_charge_id_and_with_an_idempotency_key(client, paid_session):
    intent = client.v1.payment_intents.retrieve(paid_session()["payment_intent"])
    params = {"charge": intent.latest_charge, "amount": 250}

    first = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})
    again = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})

    assert first.id == again.id
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 250


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "payment_intent or charge"),
        ({"payment_intent": "pi_missing"}, "No such payment_intent: 'pi_missing'"),
        ({"charge": "ch_missing"}, "No such charge: 'ch_missing'"),
    ],
)
def test_refund_needs_a_real_payment(client, params, message):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params=params)
    assert message in caught.value.user_message


def test_unpaid_session_cannot_be_refunded(client, new_session, control):
    session = new_session()
    control(f"/checkout/sessions/{session.id}/pay", {"card": "4000000000000002"})
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    assert "does not have a successful charge" in caught.value.user_message


def test_events_list_filters_pages_and_retrieves(client, paid_session, new_session):
    for _ in range(3):
        paid_session()
    client.v1.checkout.sessions.expire(new_session().id)

    completed = client.v1.events.list(params={"type": "checkout.session.completed", "limit": 2})
    assert len(completed.data) == 2
    assert completed.has_more is True
    every = list(completed.auto_paging_iter())
    assert len(every) == 3
    assert len({event.id for event in every}) == 3
    assert [e.type for e in client.v1.events.list(params={"type": "checkout.session.*"})].count(
        "checkout.session.expired"
    ) == 1
    newest = client.v1.events.list(params={"limit": 1}).data[0]
    assert newest.type == "checkout.session.expired"
    fetched = client.v1.events.retrieve(newest.id)
    assert (fetched.object, fetched.livemode, fetched.api_version) == (
        "event",
        False,
        stripe.api_version,
    )
    assert fetched.data.object.status == "expired"


def test_events_list_rejects_a_limit_over_100(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"limit": 101})
    assert caught.value.param == "limit"


def test_controls_report_requests_objects_and_idle(client, sandbox, paid_session, control):
    session = paid_session()

    logged = control("/requests")["data"]
    intent = control(f"/objects/{session['payment_intent']}")

    assert [(r["method"], r["path"], r["status"]) for r in logged] == [
        ("POST", "/v1/checkout/sessions", 200)
    ]
    assert logged[0]["params"]["line_items"][0]["price_data"]["unit_amount"] == "1000"
    assert logged[0]["stripe_version"] == stripe.api_version
    assert intent["object"] == "payment_intent"
    assert control("/webhooks/idle")["idle"] is True
    assert control("/objects/pi_nope", expect=404)["error"]["code"] == "resource_missing"
