"""The Stripe webhook: verified, applied once, forward only, totals exact."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.extensions import db
from app.models import EVENT_SCOPE, DisputeStatus, Donation, DonationStatus, StripeEvent, Totals
from tests import stripe_events as se


@pytest.fixture
def hooks(make):
    make.app.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    return make


def deliver(client, body: bytes, signature: str | None = None):
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": signature or se.sign(body),
            "Content-Type": "application/json",
        },
    )


def raised(app, scope=EVENT_SCOPE) -> int:
    with app.app_context():
        return db.session.get(Totals, scope).raised_pence


def donation(app, donation_id) -> Donation:
    with app.app_context():
        found = db.session.get(Donation, donation_id)
        db.session.expunge(found)
        return found


def pending(hooks, amount=1000, **fields) -> int:
    return hooks.donation(amount, status=DonationStatus.PENDING, **fields)


def test_completed_checkout_marks_the_donation_paid_and_sends_the_receipt(hooks, client, smtp):
    donation_id = pending(hooks, 2500, gift_aid=True, donor_email="fiona@example.org")
    response = deliver(
        client, se.event("checkout.session.completed", se.checkout_session(donation_id))
    )
    assert response.status_code == 200
    response.close()
    assert raised(hooks.app) == 2500
    paid = donation(hooks.app, donation_id)
    assert paid.status == DonationStatus.PAID and paid.stripe_payment_intent_id
    [receipt] = smtp.to("fiona@example.org")
    text = receipt.get_body(("plain",)).get_content()
    assert "£25.00" in text and "I want to Gift Aid my donation of £25.00" in text
    assert "SC012345" in text
    assert "4242" not in text


def test_the_same_event_delivered_ten_times_counts_once(hooks, client, smtp):
    donation_id = pending(hooks, 1000)
    body = se.event("checkout.session.completed", se.checkout_session(donation_id))
    for _ in range(10):
        response = deliver(client, body)
        assert response.status_code == 200
        response.close()
    assert raised(hooks.app) == 1000
    assert len(smtp.to("fiona@example.org")) == 1
    with hooks.app.app_context():
        assert db.session.query(StripeEvent).count() == 1


def test_a_second_event_for_a_paid_donation_changes_nothing(hooks, client):
    donation_id = pending(hooks, 1000)
    deliver(client, se.event("checkout.session.completed", se.checkout_session(donation_id)))
    late = se.checkout_session(donation_id, status="expired", payment_status="unpaid")
    assert deliver(client, se.event("checkout.session.expired", late)).status_code == 200
    assert donation(hooks.app, donation_id).status == DonationStatus.PAID
    assert raised(hooks.app) == 1000


def test_bank_payments_wait_until_the_money_arrives(hooks, client):
    donation_id = pending(hooks, 4000)
    processing = se.checkout_session(donation_id, payment_status="unpaid")
    deliver(client, se.event("checkout.session.completed", processing))
    assert donation(hooks.app, donation_id).status == DonationStatus.PROCESSING
    assert raised(hooks.app) == 0
    deliver(
        client,
        se.event("checkout.session.async_payment_succeeded", se.checkout_session(donation_id)),
    )
    assert raised(hooks.app) == 4000


def test_a_failed_bank_payment_never_counts(hooks, client):
    donation_id = pending(hooks, 4000)
    processing = se.checkout_session(donation_id, payment_status="unpaid")
    deliver(client, se.event("checkout.session.completed", processing))
    deliver(client, se.event("checkout.session.async_payment_failed", processing))
    assert donation(hooks.app, donation_id).status == DonationStatus.FAILED
    assert raised(hooks.app) == 0


def test_expired_checkout_expires_the_pending_donation(hooks, client):
    donation_id = pending(hooks)
    expired = se.checkout_session(donation_id, status="expired", payment_status="unpaid")
    deliver(client, se.event("checkout.session.expired", expired))
    assert donation(hooks.app, donation_id).status == DonationStatus.EXPIRED


def test_full_and_partial_refunds_come_off_the_total(hooks, client):
    first, second = pending(hooks, 1000), pending(hooks, 3000)
    for donation_id in (first, second):
        deliver(client, se.event("checkout.session.completed", se.checkout_session(donation_id)))
    deliver(client, se.event("charge.refunded", se.charge(first, 1000, amount=1000)))
    deliver(client, se.event("charge.refunded", se.charge(second, 500, amount=3000)))
    assert raised(hooks.app) == 2500
    # A late, smaller cumulative figure (an older event) does not undo the later one.
    deliver(client, se.event("charge.refunded", se.charge(second, 200, amount=3000)))
    assert raised(hooks.app) == 2500


def test_a_refund_that_arrives_before_the_completion_still_counts_right(hooks, client):
    donation_id = pending(hooks, 3000)
    deliver(client, se.event("charge.refunded", se.charge(donation_id, 1000, amount=3000)))
    assert raised(hooks.app) == 0
    deliver(client, se.event("checkout.session.completed", se.checkout_session(donation_id)))
    assert raised(hooks.app) == 2000


def test_disputes_hold_the_money_and_release_it_if_won(hooks, client):
    donation_id = pending(hooks, 1000)
    deliver(client, se.event("checkout.session.completed", se.checkout_session(donation_id)))
    deliver(client, se.event("charge.dispute.created", se.dispute(donation_id)))
    assert raised(hooks.app) == 0
    deliver(client, se.event("charge.dispute.closed", se.dispute(donation_id, "won")))
    assert raised(hooks.app) == 1000
    # Out of order: a late 'created' does not reopen a closed dispute.
    deliver(client, se.event("charge.dispute.created", se.dispute(donation_id)))
    assert donation(hooks.app, donation_id).dispute_status == DisputeStatus.WON


def test_a_lost_dispute_takes_the_money_off(hooks, client):
    donation_id = pending(hooks, 1000)
    deliver(client, se.event("checkout.session.completed", se.checkout_session(donation_id)))
    deliver(client, se.event("charge.dispute.closed", se.dispute(donation_id, "lost")))
    assert raised(hooks.app) == 0


@pytest.mark.parametrize(
    ("body", "signature", "status"),
    [
        (b"{}", "t=1,v1=deadbeef", 400),  # forged signature
        (b"not json at all", None, 400),  # malformed, though correctly signed
        (b"{}", "", 400),  # no signature
    ],
)
def test_bad_deliveries_are_refused_and_change_nothing(hooks, client, body, signature, status):
    donation_id = pending(hooks)
    real = se.event("checkout.session.completed", se.checkout_session(donation_id))
    body = real if body == b"{}" else body
    sig = se.sign(body) if signature is None else signature
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": sig})
    assert response.status_code == status
    assert raised(hooks.app) == 0


def test_a_stale_signature_is_refused(hooks, client):
    donation_id = pending(hooks)
    body = se.event("checkout.session.completed", se.checkout_session(donation_id))
    stale = se.sign(body, timestamp=int(time.time()) - 301)
    assert deliver(client, body, stale).status_code == 400
    assert raised(hooks.app) == 0


def test_a_signature_made_with_another_secret_is_refused(hooks, client):
    donation_id = pending(hooks)
    body = se.event("checkout.session.completed", se.checkout_session(donation_id))
    assert deliver(client, body, se.sign(body, secret="whsec_someone_else")).status_code == 400


def test_unknown_event_types_and_unknown_donations_are_acknowledged_and_ignored(hooks, client):
    response = deliver(client, se.event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    response = deliver(client, se.event("checkout.session.completed", se.checkout_session(999_999)))
    assert response.status_code == 200 and response.json["outcome"] == "unknown donation"
    assert raised(hooks.app) == 0


def test_the_webhook_needs_no_csrf_token_but_is_refused_without_a_secret(hooks, client):
    hooks.app.config["STRIPE_WEBHOOK_SECRET"] = ""
    body = se.event("customer.created", {"id": "cus_1"})
    assert deliver(client, body).status_code == 503


def test_fifty_donations_webhooks_delivered_at_once_are_all_counted(hooks):
    ids = [pending(hooks, 100 + i) for i in range(50)]
    bodies = [se.event("checkout.session.completed", se.checkout_session(i)) for i in ids]

    def send(body):
        response = deliver(hooks.app.test_client(), body)
        response.close()
        return response.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(send, bodies + bodies))  # every event twice, interleaved
    assert set(statuses) == {200}
    assert raised(hooks.app) == sum(100 + i for i in range(50))
    with hooks.app.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).supporters == 50
