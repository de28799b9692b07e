"""Refunds and disputes over their lives, and the list endpoints a reconcile reads."""

import pytest
import stripe

from tests.sandbox.openapi import assert_valid_object

PENDING_THEN_SUCCEEDS = "4000000000007726"
SUCCEEDS_THEN_FAILS = "4000000000005126"


def _story(bodies, object_id):
    """(type, status) of every event about one object, in delivery order."""
    return [
        (b["type"], b["data"]["object"]["status"])
        for b in bodies
        if b["data"]["object"]["id"] == object_id
    ]


def _checked(bodies):
    for body in bodies:
        assert_valid_object(body)
    return bodies


def test_a_refund_emits_refund_created_then_charge_refunded(client, receiver, paid_session):
    intent_id = paid_session()["payment_intent"]

    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 400})

    bodies = _checked(receiver.wait_for(3))
    assert [b["type"] for b in bodies[1:]] == ["refund.created", "charge.refunded"]
    assert bodies[1]["data"]["object"]["id"] == refund.id
    assert bodies[2]["data"]["object"]["amount_refunded"] == 400
    assert refund.status == "succeeded"
    assert "failure_reason" not in refund


def test_a_pending_refund_succeeds_once_the_clock_passes_a_minute(
    client, sandbox, receiver, paid_session, control
):
    intent_id = paid_session(PENDING_THEN_SUCCEEDS)["payment_intent"]
    refund = client.v1.refunds.create(params={"payment_intent": intent_id})
    assert refund.status == "pending"
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 1000

    control("/clock/advance", {"seconds": 61})

    bodies = _checked(receiver.wait_for(5))
    assert _story(bodies, refund.id) == [
        ("refund.created", "pending"),
        ("refund.updated", "succeeded"),
        ("charge.refund.updated", "succeeded"),
    ]
    assert bodies[3]["data"]["previous_attributes"] == {"status": "pending"}
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 1000


def test_a_succeeded_refund_fails_later_and_the_money_is_the_charitys_again(
    client, sandbox, receiver, paid_session
):
    intent_id = paid_session(SUCCEEDS_THEN_FAILS)["payment_intent"]
    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 600})
    assert refund.status == "succeeded"

    sandbox.advance_clock(60)

    bodies = _checked(receiver.wait_for(6))
    assert _story(bodies, refund.id) == [
        ("refund.created", "succeeded"),
        ("refund.updated", "failed"),
        ("charge.refund.updated", "failed"),
        ("refund.failed", "failed"),
    ]
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.failure_reason == "expired_or_canceled_card"
    assert failed.failure_balance_transaction.startswith("txn_")
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    again = client.v1.refunds.create(params={"payment_intent": intent_id})
    assert again.amount == 1000


def test_the_settle_control_decides_a_pending_refund_at_once(
    client, sandbox, receiver, paid_session, control
):
    first = client.v1.refunds.create(
        params={"payment_intent": paid_session(PENDING_THEN_SUCCEEDS)["payment_intent"]}
    )
    second = client.v1.refunds.create(
        params={"payment_intent": paid_session(PENDING_THEN_SUCCEEDS)["payment_intent"]}
    )

    control(f"/refunds/{first.id}/settle", {"outcome": "canceled"})
    sandbox.settle_refund(second.id, "failed")
    control(f"/refunds/{first.id}/settle", {"outcome": "succeeded"}, expect=400)
    sandbox.advance_clock(120)  # nothing left to happen later

    bodies = _checked(receiver.wait_for(11))
    assert _story(bodies, first.id)[1:] == [
        ("refund.updated", "canceled"),
        ("charge.refund.updated", "canceled"),
    ]
    assert _story(bodies, second.id)[1:] == [
        ("refund.updated", "failed"),
        ("charge.refund.updated", "failed"),
        ("refund.failed", "failed"),
    ]
    assert client.v1.charges.retrieve(first.charge).amount_refunded == 0
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 11


def test_a_succeeded_card_refund_may_be_failed_but_not_canceled(client, paid_session, control):
    refund = client.v1.refunds.create(params={"payment_intent": paid_session()["payment_intent"]})

    error = control(f"/refunds/{refund.id}/settle", {"outcome": "canceled"}, expect=400)
    failed = control(f"/refunds/{refund.id}/settle", {"outcome": "failed"})

    assert "cannot become canceled" in error["error"]["message"]
    assert failed["status"] == "failed"


def test_refunds_list_newest_first_by_payment_intent_and_pages(client, paid_session):
    intent_id = paid_session()["payment_intent"]
    other = paid_session()["payment_intent"]
    made = [
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})
        for _ in range(3)
    ]
    client.v1.refunds.create(params={"payment_intent": other, "amount": 100})

    listed = client.v1.refunds.list(params={"payment_intent": intent_id})
    first_page = client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 2})
    by_charge = client.v1.refunds.list(params={"charge": made[0].charge})

    newest_first = [r.id for r in reversed(made)]
    assert [r.id for r in listed.data] == newest_first
    assert [r.id for r in first_page.data] == newest_first[:2]
    assert first_page.has_more is True
    assert [r.id for r in first_page.auto_paging_iter()] == newest_first
    assert [r.id for r in by_charge.data] == newest_first
    assert len(client.v1.refunds.list().data) == 4
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.list(params={"colour": "red"})
    assert caught.value.param == "colour"


def test_a_chargeback_withdraws_the_amount_and_a_fee(client, receiver, paid_session, control):
    intent_id = paid_session()["payment_intent"]

    dispute = control("/disputes", {"payment_intent": intent_id, "amount": 400})

    bodies = _checked(receiver.wait_for(3))
    assert [b["type"] for b in bodies[1:]] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    assert bodies[1]["data"]["object"]["balance_transactions"] == []
    (withdrawal,) = bodies[2]["data"]["object"]["balance_transactions"]
    assert_valid_object(withdrawal)
    assert (withdrawal["amount"], withdrawal["fee"], withdrawal["net"]) == (-400, 1500, -1900)
    assert withdrawal["fee_details"][0]["description"] == "Dispute fee"
    assert (withdrawal["type"], withdrawal["reporting_category"]) == ("adjustment", "dispute")
    assert dispute["amount"] == 400
    control(
        "/disputes",
        {"payment_intent": paid_session()["payment_intent"], "amount": 1001},
        expect=400,
    )


def test_a_won_chargeback_reinstates_the_funds_then_closes(
    client, sandbox, receiver, paid_session, control
):
    dispute = control("/disputes", {"payment_intent": paid_session()["payment_intent"]})

    control(f"/disputes/{dispute['id']}/status", {"status": "under_review"})
    control(f"/disputes/{dispute['id']}/close", {"outcome": "won"})

    bodies = _checked(receiver.wait_for(6))
    assert _story(bodies, dispute["id"]) == [
        ("charge.dispute.created", "needs_response"),
        ("charge.dispute.funds_withdrawn", "needs_response"),
        ("charge.dispute.updated", "under_review"),
        ("charge.dispute.funds_reinstated", "won"),
        ("charge.dispute.closed", "won"),
    ]
    assert bodies[3]["data"]["previous_attributes"] == {"status": "needs_response"}
    withdrawn, reinstated = client.v1.disputes.retrieve(dispute["id"]).balance_transactions
    assert (withdrawn.amount, reinstated.amount, reinstated.fee) == (-1000, 1000, 0)


@pytest.mark.parametrize("outcome", ["lost", "prevented"])
def test_a_chargeback_lost_or_prevented_just_closes(
    client, receiver, paid_session, sandbox, outcome
):
    intent_id = paid_session()["payment_intent"]
    dispute = sandbox.open_dispute(intent_id)

    closed = sandbox.close_dispute(dispute["id"], outcome)

    bodies = _checked(receiver.wait_for(4))
    assert [b["type"] for b in bodies[3:]] == ["charge.dispute.closed"]
    assert closed["status"] == outcome
    assert len(closed["balance_transactions"]) == 1
    assert client.v1.disputes.retrieve(dispute["id"]).status == outcome


def test_an_inquiry_moves_no_money_and_closes_as_a_warning(client, receiver, paid_session, control):
    paid_session("4000000000001976")
    bodies = receiver.wait_for(2)
    dispute = bodies[1]["data"]["object"]

    control(f"/disputes/{dispute['id']}/status", {"status": "warning_under_review"})
    control(f"/disputes/{dispute['id']}/close", {"outcome": "won"}, expect=400)
    control(f"/disputes/{dispute['id']}/close", {"outcome": "warning_closed"})

    bodies = _checked(receiver.wait_for(4))
    assert _story(bodies, dispute["id"]) == [
        ("charge.dispute.created", "warning_needs_response"),
        ("charge.dispute.updated", "warning_under_review"),
        ("charge.dispute.closed", "warning_closed"),
    ]
    closed = client.v1.disputes.retrieve(dispute["id"])
    assert (closed.balance_transactions, closed.is_charge_refundable) == ([], True)
    refund = client.v1.refunds.create(params={"charge": closed.charge})
    assert refund.status == "succeeded"


def test_an_inquiry_that_escalates_withdraws_the_funds_then(
    client, sandbox, receiver, paid_session
):
    intent_id = paid_session()["payment_intent"]
    dispute = sandbox.open_dispute(intent_id, reason="general")

    sandbox.move_dispute(dispute["id"], "needs_response")

    bodies = _checked(receiver.wait_for(4))
    assert _story(bodies, dispute["id"]) == [
        ("charge.dispute.created", "warning_needs_response"),
        ("charge.dispute.updated", "needs_response"),
        ("charge.dispute.funds_withdrawn", "needs_response"),
    ]
    escalated = client.v1.disputes.retrieve(dispute["id"])
    assert escalated.payment_method_details.card.case_type == "chargeback"
    assert escalated.balance_transactions[0].amount == -1000
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    assert caught.value.code == "charge_disputed"


def test_disputes_list_by_charge_and_payment_intent(client, paid_session, sandbox):
    intents = [paid_session()["payment_intent"] for _ in range(3)]
    disputes = [sandbox.open_dispute(intent) for intent in intents]

    everything = client.v1.disputes.list()
    one = client.v1.disputes.list(params={"payment_intent": intents[1]})
    by_charge = client.v1.disputes.list(params={"charge": disputes[2]["charge"]})
    page = client.v1.disputes.list(params={"limit": 1, "starting_after": disputes[2]["id"]})

    assert [d.id for d in everything.data] == [d["id"] for d in reversed(disputes)]
    assert [d.id for d in one.data] == [disputes[1]["id"]]
    assert [d.id for d in by_charge.data] == [disputes[2]["id"]]
    assert [d.id for d in page.data] == [disputes[1]["id"]]
    assert page.has_more is True


def test_sessions_list_finds_payments_and_expands_them(client, sandbox, paid_session, new_session):
    open_session = new_session()
    paid = [paid_session() for _ in range(3)]

    listed = client.v1.checkout.sessions.list(
        params={"status": "complete", "expand": ["data.payment_intent.latest_charge"]}
    )
    by_intent = client.v1.checkout.sessions.list(
        params={"payment_intent": paid[0]["payment_intent"]}
    )
    since = client.v1.checkout.sessions.list(params={"created": {"gte": open_session.created}})
    paged = client.v1.checkout.sessions.list(params={"limit": 1})

    assert [s.id for s in listed.data] == [s["id"] for s in reversed(paid)]
    assert listed.data[0].payment_intent.latest_charge.amount == 1000
    assert [s.id for s in by_intent.data] == [paid[0]["id"]]
    assert len(since.data) == 4
    assert [s.id for s in paged.auto_paging_iter()] == [
        *(s["id"] for s in reversed(paid)),
        open_session.id,
    ]
    before = client.v1.checkout.sessions.list(params={"ending_before": open_session.id})
    assert [s.id for s in before.data] == [s["id"] for s in reversed(paid)]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.list(params={"created": {"since": 1}})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.list(params={"status": "paid"})
    assert caught.value.param == "status"
