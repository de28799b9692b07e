"""Signed webhook delivery: signatures, retries, redelivery, disorder, delays, event shapes."""

import socket
import time

import pytest
import stripe

from sandbox.server import start
from sandbox.webhooks import sign
from tests.sandbox.conftest import SECRET, Receiver, donation_params


def test_every_webhook_verifies_with_construct_event(sandbox, receiver, paid_session):
    paid_session()

    received = receiver.wait_for(1)[0]
    item = receiver.received[0]
    event = stripe.Webhook.construct_event(item["body"], item["signature"], SECRET)

    assert event.type == "checkout.session.completed"
    assert event.id == received["id"]
    assert item["content_type"] == "application/json; charset=utf-8"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(item["body"], item["signature"], "whsec_other")


def test_sign_matches_the_library_signing_scheme():
    payload = '{"id": "evt_1"}'
    expected = stripe.WebhookSignature.generate_signature_header(payload, SECRET, 1700000000)
    assert sign(payload, SECRET, 1700000000) == expected


def test_completed_event_is_shaped_like_stripes(sandbox, receiver, paid_session):
    session = paid_session()

    event = receiver.wait_for(1)[0]

    assert event["id"].startswith("evt_")
    assert (event["object"], event["livemode"]) == ("event", False)
    assert event["api_version"] == stripe.api_version
    assert event["pending_webhooks"] >= 1
    assert event["request"] == {"id": None, "idempotency_key": None}
    completed = event["data"]["object"]
    assert completed["id"] == session["id"]
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["metadata"] == {"donation_id": "42"}
    assert completed["payment_intent"].startswith("pi_")
    assert sandbox.wait_for_webhooks()
    assert sandbox.events()[0]["deliveries"][0]["state"] == "delivered"


def test_api_caused_event_names_the_request_and_its_idempotency_key(
    client, sandbox, receiver, paid_session
):
    intent_id = paid_session()["payment_intent"]
    refund = client.v1.refunds.create(
        params={"payment_intent": intent_id}, options={"idempotency_key": "refund-42"}
    )

    events = receiver.wait_for(3)[1:]

    assert [event["type"] for event in events] == ["refund.created", "charge.refunded"]
    for event in events:
        assert event["request"]["idempotency_key"] == "refund-42"
        assert event["request"]["id"] == refund.last_response.request_id


def test_a_failed_delivery_is_retried_until_it_succeeds(sandbox, receiver, paid_session):
    receiver.statuses = [500, 503]
    paid_session()

    bodies = receiver.wait_for(3)

    assert len({body["id"] for body in bodies}) == 1
    assert [item["status"] for item in receiver.received] == [500, 503, 200]
    assert sandbox.wait_for_webhooks()
    delivery = sandbox.events()[0]["deliveries"][0]
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]


def test_delivery_gives_up_after_max_attempts(sandbox, receiver, paid_session, control):
    receiver.statuses = [500] * 10
    paid_session()

    receiver.wait_for(4)
    assert sandbox.wait_for_webhooks()

    event = control("/events")["data"][0]
    assert event["deliveries"][0]["state"] == "failed"
    assert len(event["deliveries"][0]["attempts"]) == 4
    assert len(control("/webhooks/log")["data"]) == 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_app_that_is_briefly_down_still_gets_the_event():
    port = _free_port()
    handle = start(
        webhook_url=f"http://127.0.0.1:{port}/stripe/webhook",
        webhook_secret=SECRET,
        backoff=0.1,
        max_attempts=6,
    )
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": handle.url})
        session = client.v1.checkout.sessions.create(params=donation_params())
        client.v1.checkout.sessions.expire(session.id)
        deadline = time.monotonic() + 5
        while not handle.sandbox.dispatcher.attempt_log():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        late = Receiver(port)
        try:
            event = late.wait_for(1)[0]
            assert event["type"] == "checkout.session.expired"
            assert handle.wait_for_webhooks()
            attempts = handle.events()[0]["deliveries"][0]["attempts"]
            assert attempts[0]["status"] is None
            assert "ConnectionRefusedError" in attempts[0]["error"]
            assert attempts[-1]["status"] == 200
        finally:
            late.stop()
    finally:
        handle.stop()


def test_redeliver_sends_the_same_event_again(sandbox, receiver, paid_session, control):
    paid_session()
    first = receiver.wait_for(1)[0]

    control(f"/events/{first['id']}/redeliver", {"times": 2})

    bodies = receiver.wait_for(3)
    assert [body["id"] for body in bodies] == [first["id"]] * 3
    kinds = [d["kind"] for d in control("/events")["data"][0]["deliveries"]]
    assert kinds == ["original", "redelivery", "redelivery"]


def test_held_deliveries_are_released_in_reverse_order(
    client, sandbox, receiver, new_session, control
):
    control("/webhooks/hold", {})
    sessions = [new_session() for _ in range(3)]
    for session in sessions:
        client.v1.checkout.sessions.expire(session.id)
    assert sandbox.wait_for_webhooks()
    assert receiver.received == []

    control("/webhooks/release", {"order": "reversed"})

    bodies = receiver.wait_for(3)
    delivered = [body["data"]["object"]["id"] for body in bodies]
    assert delivered == [session.id for session in reversed(sessions)]


def test_release_in_a_given_order(client, sandbox, receiver, paid_session, control):
    control("/webhooks/hold", {})
    intent_id = paid_session()["payment_intent"]
    client.v1.refunds.create(params={"payment_intent": intent_id})
    refunded, created, completed = (e["id"] for e in reversed(control("/events")["data"]))

    control("/webhooks/release", {"order": [refunded, created]})

    assert [body["id"] for body in receiver.wait_for(3)] == [refunded, created, completed]


def test_delay_lets_a_later_event_arrive_first(client, sandbox, receiver, new_session, control):
    control("/webhooks/delay", {"seconds": 0.3, "type": "checkout.session.expired", "count": 1})
    late, prompt = new_session(), new_session()
    client.v1.checkout.sessions.expire(late.id)
    client.v1.checkout.sessions.expire(prompt.id)

    bodies = receiver.wait_for(2)

    assert [body["data"]["object"]["id"] for body in bodies] == [prompt.id, late.id]


def test_without_an_endpoint_events_are_listed_but_not_sent(client, control):
    handle = start()
    try:
        plain = stripe.StripeClient("sk_test_x", base_addresses={"api": handle.url})
        session = plain.v1.checkout.sessions.create(params=donation_params())
        plain.v1.checkout.sessions.expire(session.id)
        event = plain.v1.events.list().data[0]
        assert event.pending_webhooks == 0
        assert handle.events()[0]["deliveries"][0]["state"] == "no_endpoint"
    finally:
        handle.stop()


def test_webhook_endpoint_can_be_set_after_start(receiver):
    handle = start()
    try:
        handle.configure_webhooks(receiver.url, SECRET)
        plain = stripe.StripeClient("sk_test_x", base_addresses={"api": handle.url})
        plain.v1.checkout.sessions.expire(
            plain.v1.checkout.sessions.create(params=donation_params()).id
        )
        item = receiver.wait_for(1) and receiver.received[0]
        stripe.Webhook.construct_event(item["body"], item["signature"], SECRET)
    finally:
        handle.stop()


def test_dispute_opened_then_won_or_lost(client, sandbox, receiver, paid_session, control):
    won_intent = paid_session()["payment_intent"]
    lost_intent = paid_session()["payment_intent"]

    won = control("/disputes", {"payment_intent": won_intent, "reason": "fraudulent"})
    lost = control("/disputes", {"payment_intent": lost_intent, "reason": "product_not_received"})
    control(f"/disputes/{won['id']}/close", {"outcome": "won"})
    control(f"/disputes/{lost['id']}/close", {"outcome": "lost"})

    bodies = receiver.wait_for(9)

    def story(dispute_id):
        return [
            (b["type"], b["data"]["object"]["status"])
            for b in bodies
            if b["data"]["object"]["id"] == dispute_id
        ]

    assert story(won["id"]) == [
        ("charge.dispute.created", "needs_response"),
        ("charge.dispute.funds_withdrawn", "needs_response"),
        ("charge.dispute.funds_reinstated", "won"),
        ("charge.dispute.closed", "won"),
    ]
    assert story(lost["id"]) == [
        ("charge.dispute.created", "needs_response"),
        ("charge.dispute.funds_withdrawn", "needs_response"),
        ("charge.dispute.closed", "lost"),
    ]
    assert bodies[2]["data"]["object"]["payment_intent"] == won_intent
    assert client.v1.charges.retrieve(won["charge"]).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": lost_intent})
    assert caught.value.code == "charge_disputed"
    assert client.v1.disputes.retrieve(won["id"]).status == "won"


def test_dispute_test_card_is_disputed_after_paying(sandbox, receiver, paid_session):
    paid_session("4000000000000259")

    bodies = receiver.wait_for(3)

    assert [b["type"] for b in bodies] == [
        "checkout.session.completed",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    assert bodies[1]["data"]["object"]["reason"] == "fraudulent"


def test_sessions_past_expires_at_expire_and_say_so(
    client, sandbox, receiver, new_session, control
):
    session = new_session()

    control("/clock/advance", {"seconds": 31 * 60})

    event = receiver.wait_for(1)[0]
    assert event["type"] == "checkout.session.expired"
    assert event["data"]["object"]["id"] == session.id
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_async_payment_completes_unpaid_then_settles(
    client, sandbox, receiver, new_session, control
):
    succeeds, fails = new_session(), new_session()
    for session in (succeeds, fails):
        result = control(f"/checkout/sessions/{session.id}/pay", {"async": True})
        assert result["status"] == "processing"
        assert result["session"]["payment_status"] == "unpaid"

    control(f"/checkout/sessions/{succeeds.id}/settle", {"outcome": "succeeded"})
    control(f"/checkout/sessions/{fails.id}/settle", {"outcome": "failed"})

    bodies = receiver.wait_for(4)
    assert [b["type"] for b in bodies] == [
        "checkout.session.completed",
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    ]
    assert bodies[2]["data"]["object"]["payment_status"] == "paid"
    assert client.v1.checkout.sessions.retrieve(fails.id).payment_status == "unpaid"


def test_reset_forgets_everything(client, sandbox, paid_session, control):
    session = paid_session()

    control("/reset", {})

    assert control("/events")["data"] == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session["id"])


def test_background_sweep_expires_sessions_nobody_looks_at(sandbox, receiver, new_session):
    session = new_session()
    # Move the clock without touching the session: only the sweep can notice.
    with sandbox.sandbox.store.lock:
        sandbox.sandbox.store.clock_offset += 31 * 60

    event = receiver.wait_for(1)[0]

    assert event["type"] == "checkout.session.expired"
    assert event["data"]["object"]["id"] == session.id
