"""Where Stripe is unkind: lost replies, idempotency keys that are pruned, a strict expiry,
and webhooks that arrive days late. Driven by the official library over HTTP."""

import pytest
import stripe

from tests.sandbox.conftest import donation_params
from tests.sandbox.openapi import assert_valid_object

DAY = 24 * 3600


def _posts(sandbox, path):
    return [r for r in sandbox.requests if r["method"] == "POST" and r["path"] == path]


def test_a_lost_reply_is_retried_and_gets_the_saved_answer(client, sandbox):
    sandbox.lose_replies("/v1/checkout/sessions", count=1)
    options = {"idempotency_key": "donation-50"}

    session = client.v1.checkout.sessions.create(params=donation_params(), options=options)

    posts = _posts(sandbox, "/v1/checkout/sessions")
    assert [(r["lost"], r["replayed"]) for r in posts] == [(True, False), (False, True)]
    assert session.id == posts[0]["response"]["id"]
    assert session.last_response.headers["Idempotent-Replayed"] == "true"
    assert [s.id for s in client.v1.checkout.sessions.list().data] == [session.id]


def test_the_librarys_own_key_makes_a_lost_refund_safe_to_retry(
    client, sandbox, paid_session, control
):
    intent_id = paid_session()["payment_intent"]
    control("/faults/lose-replies", {"method": "POST", "path": "/v1/refund*", "count": 1})

    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 300})

    posts = _posts(sandbox, "/v1/refunds")
    assert posts[0]["idempotency_key"] == posts[1]["idempotency_key"] is not None
    listed = client.v1.refunds.list(params={"payment_intent": intent_id}).data
    assert [r.id for r in listed] == [refund.id]
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 300


def test_when_every_retry_is_lost_the_object_still_exists(client, sandbox, control):
    control("/faults/lose-replies", {"method": "POST", "path": "/v1/checkout/*", "count": 3})
    params, options = donation_params(), {"idempotency_key": "donation-51"}

    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(params=params, options=options)

    listed = client.v1.checkout.sessions.list().data
    assert len(listed) == 1
    again = client.v1.checkout.sessions.create(params=params, options=options)
    assert again.id == listed[0].id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(_posts(sandbox, "/v1/checkout/sessions")) == 4


def test_a_key_older_than_a_day_of_sandbox_time_makes_a_new_request(client, sandbox):
    params, options = donation_params(expires_at=None), {"idempotency_key": "donation-52"}
    first = client.v1.checkout.sessions.create(params=params, options=options)

    sandbox.advance_clock(DAY - 60)
    replayed = client.v1.checkout.sessions.create(params=params, options=options)
    sandbox.advance_clock(60)
    fresh = client.v1.checkout.sessions.create(params=params, options=options)

    assert replayed.id == first.id
    assert fresh.id != first.id
    assert "Idempotent-Replayed" not in fresh.last_response.headers


def test_an_error_once_execution_started_is_saved_and_replayed(client, paid_session):
    intent_id = paid_session()["payment_intent"]
    client.v1.refunds.create(params={"payment_intent": intent_id})
    options = {"idempotency_key": "refund-again"}

    caught = []
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.refunds.create(params={"payment_intent": intent_id}, options=options)
        caught.append(error.value)

    assert [e.code for e in caught] == ["charge_already_refunded"] * 2
    assert "Idempotent-Replayed" not in caught[0].headers
    assert caught[1].headers["Idempotent-Replayed"] == "true"


def test_a_refund_refused_by_validation_is_not_saved(client, paid_session):
    intent_id = paid_session()["payment_intent"]
    options = {"idempotency_key": "refund-typo"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(
            params={"payment_intent": intent_id, "reason": "because"}, options=options
        )
    assert caught.value.param == "reason"

    refund = client.v1.refunds.create(params={"payment_intent": intent_id}, options=options)

    assert refund.status == "succeeded"


def test_same_key_other_params_stays_an_idempotency_error_after_an_error(client, paid_session):
    intent_id = paid_session()["payment_intent"]
    client.v1.refunds.create(params={"payment_intent": intent_id})
    options = {"idempotency_key": "refund-other"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent_id}, options=options)

    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": 100}, options=options
        )


def test_refuse_refunds_refuses_the_next_creation_only(client, sandbox, paid_session):
    intent_id = paid_session()["payment_intent"]
    sandbox.refuse_refunds(code="refund_refused")

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    refund = client.v1.refunds.create(params={"payment_intent": intent_id})

    assert caught.value.code == "refund_refused"
    assert refund.amount == 1000


def test_expires_at_is_at_least_30_minutes_by_the_sandbox_clock(client, sandbox, control):
    now = sandbox.now()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=donation_params(expires_at=now + 30 * 60 - 1))
    assert caught.value.user_message == (
        "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
    )

    # With the sandbox an hour behind, what the app thinks is 30 minutes is 90.
    control("/clock/set", {"now": now - 3600})
    session = client.v1.checkout.sessions.create(params=donation_params(expires_at=now + 1800))
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=donation_params(expires_at=now + DAY))
    assert "less than 24 hours" in caught.value.user_message
    assert session.created == pytest.approx(now - 3600, abs=2)


def test_clock_set_moves_the_clock_either_way(sandbox, control):
    now = sandbox.now()

    assert control("/clock/set", {"now": now + DAY})["now"] == pytest.approx(now + DAY, abs=2)
    assert sandbox.set_clock(now - DAY) == pytest.approx(now - DAY, abs=2)
    assert control("/clock")["now"] == pytest.approx(now - DAY, abs=2)
    control("/clock/set", {}, expect=400)


def test_payment_method_types_reach_the_session_and_its_payment_intent(client, control):
    session = client.v1.checkout.sessions.create(
        params=donation_params(payment_method_types=["card"])
    )
    control(f"/checkout/sessions/{session.id}/pay", {"card": "4242424242424242"})
    intent = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    ).payment_intent

    assert session.payment_method_types == ["card"]
    assert intent.payment_method_types == ["card"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            params=donation_params(payment_method_types=["bacs_debit"])
        )
    assert caught.value.param == "payment_method_types[0]"


def test_late_webhooks_wait_for_the_sandbox_clock(client, sandbox, receiver, new_session, control):
    control("/webhooks/late", {"type": "checkout.session.*", "count": 1, "seconds": 3 * DAY})
    late, prompt = new_session(), new_session()
    client.v1.checkout.sessions.expire(late.id)
    client.v1.checkout.sessions.expire(prompt.id)

    assert [b["data"]["object"]["id"] for b in receiver.wait_for(1)] == [prompt.id]
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 1
    late_event = client.v1.events.list(params={"type": "checkout.session.expired"}).data[1]
    assert late_event.pending_webhooks == 1

    control("/clock/advance", {"seconds": 2 * DAY})
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 1
    sandbox.advance_clock(DAY)

    bodies = receiver.wait_for(2)
    assert bodies[1]["id"] == late_event.id
    assert bodies[1]["created"] == late_event.created < sandbox.now() - 3 * DAY + 5
    assert_valid_object(bodies[1])
