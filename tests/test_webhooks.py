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
    """POST one event; the response is closed (which sends the outbox) before it returns."""
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": signature or se.sign(body),
            "Content-Type": "application/json",
        },
    )
    response.close()
    return response


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
        client, se.event("checkout.session.completed", se.checkout_session(donation_id, 2500))
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
    processing = se.checkout_session(donation_id, 4000, payment_status="unpaid")
    deliver(client, se.event("checkout.session.completed", processing))
    assert donation(hooks.app, donation_id).status == DonationStatus.PROCESSING
    assert raised(hooks.app) == 0
    deliver(
        client,
        se.event(
            "checkout.session.async_payment_succeeded", se.checkout_session(donation_id, 4000)
        ),
    )
    assert raised(hooks.app) == 4000


def test_a_failed_bank_payment_never_counts(hooks, client):
    donation_id = pending(hooks, 4000)
    processing = se.checkout_session(donation_id, 4000, payment_status="unpaid")
    deliver(client, se.event("checkout.session.completed", processing))
    deliver(client, se.event("checkout.session.async_payment_failed", processing))
    assert donation(hooks.app, donation_id).status == DonationStatus.FAILED
    assert raised(hooks.app) == 0


def test_expired_checkout_expires_the_pending_donation(hooks, client):
    donation_id = pending(hooks)
    expired = se.checkout_session(donation_id, status="expired", payment_status="unpaid")
    deliver(client, se.event("checkout.session.expired", expired))
    assert donation(hooks.app, donation_id).status == DonationStatus.EXPIRED


def paid(hooks, client, amount=1000, **fields) -> int:
    donation_id = pending(hooks, amount, **fields)
    session = se.checkout_session(donation_id, amount)
    deliver(client, se.event("checkout.session.completed", session)).close()
    return donation_id


def test_full_and_partial_refunds_come_off_the_total(hooks, client):
    first, second = paid(hooks, client, 1000), paid(hooks, client, 3000)
    deliver(client, se.event("refund.created", se.refund(first, 1000)))
    deliver(client, se.event("refund.created", se.refund(second, 500)))
    assert raised(hooks.app) == 2500
    # The same refund again, or an older snapshot of it, changes nothing.
    deliver(client, se.event("refund.updated", se.refund(second, 500)))
    deliver(client, se.event("refund.created", se.refund(second, 500, status="pending")))
    assert raised(hooks.app) == 2500


def test_charge_refunded_asks_stripe_for_the_refunds_and_counts_only_succeeded_ones(
    hooks, client, monkeypatch, smtp
):
    from app import payments

    donation_id = paid(hooks, client, 3000)
    listed = [
        se.refund(donation_id, 500, refund_id="re_done"),
        se.refund(donation_id, 700, status="pending", refund_id="re_waiting"),
    ]
    monkeypatch.setattr(payments, "list_refunds", lambda **_: listed)
    charge = se.charge(donation_id, amount_refunded=1200, amount=3000)
    assert deliver(client, se.event("charge.refunded", charge)).status_code == 200
    assert raised(hooks.app) == 2500  # the pending £7 is still the charity's
    [notice] = [m for m in smtp.wait_for("fiona@example.org", 2) if "refund" in m["Subject"]]
    assert "£5.00" in notice.get_body(("plain",)).get_content()


def test_a_refund_that_fails_later_puts_the_money_back_and_tells_the_organiser(hooks, client, smtp):
    donation_id = paid(hooks, client, 2000)
    deliver(client, se.event("refund.created", se.refund(donation_id, 2000)))
    assert raised(hooks.app) == 0
    failed = se.refund(
        donation_id, 2000, status="failed", failure_reason="expired_or_canceled_card"
    )
    assert deliver(client, se.event("refund.failed", failed)).status_code == 200
    assert raised(hooks.app) == 2000
    assert donation(hooks.app, donation_id).refunded_pence == 0
    [alert] = smtp.wait_for("abseil@example.org")
    text = alert.get_body(("plain",)).get_content()
    assert "did not go through" in text and "expired or canceled card" in text
    # A late 'succeeded' snapshot of the same refund does not refund it again.
    deliver(client, se.event("charge.refund.updated", se.refund(donation_id, 2000)))
    assert raised(hooks.app) == 2000


def test_a_pending_refund_that_fails_was_never_money_and_the_donor_never_hears(hooks, client, smtp):
    donation_id = paid(hooks, client, 2000)
    deliver(client, se.event("refund.created", se.refund(donation_id, 2000, status="pending")))
    assert raised(hooks.app) == 2000
    deliver(client, se.event("refund.failed", se.refund(donation_id, 2000, status="failed")))
    assert raised(hooks.app) == 2000
    assert not [m for m in smtp.to("fiona@example.org") if "refund" in m["Subject"].lower()]


def test_a_refund_that_arrives_before_the_completion_still_counts_right(hooks, client):
    donation_id = pending(hooks, 3000)
    # A refund Plunge did not make (no metadata), for a payment it has not heard of yet: it
    # asks Stripe whose payment it is; Stripe unreachable, so Stripe is asked to retry.
    unknown = se.refund(donation_id, 1000)
    assert deliver(client, se.event("refund.created", unknown)).status_code == 503
    ours = se.refund(donation_id, 1000, metadata={"donation_id": str(donation_id)})
    deliver(client, se.event("refund.created", ours))
    assert raised(hooks.app) == 0
    session = se.checkout_session(donation_id, 3000)
    deliver(client, se.event("checkout.session.completed", session))
    assert raised(hooks.app) == 2000


def test_an_inquiry_takes_no_money_and_a_chargeback_takes_its_own_amount(hooks, client):
    donation_id = paid(hooks, client, 1000)
    inquiry = se.dispute(donation_id, "warning_needs_response")
    deliver(client, se.event("charge.dispute.created", inquiry))
    assert raised(hooks.app) == 1000
    deliver(client, se.event("charge.dispute.closed", se.dispute(donation_id, "warning_closed")))
    assert raised(hooks.app) == 1000

    other = paid(hooks, client, 3000)
    partial = se.dispute(other, amount=1200)
    deliver(client, se.event("charge.dispute.created", partial))
    assert raised(hooks.app) == 4000  # opened, but no funds have moved yet
    withdrawn = se.dispute(other, amount=1200, movements=[-1200])
    deliver(client, se.event("charge.dispute.funds_withdrawn", withdrawn))
    assert raised(hooks.app) == 2800


def test_a_won_dispute_reinstates_the_money_whatever_order_the_events_come_in(hooks, client):
    donation_id = paid(hooks, client, 1000)
    won = se.dispute(donation_id, "won", movements=[-1000, 1000])
    withdrawn = se.dispute(donation_id, "needs_response", movements=[-1000])
    # Out of order: closed (won) first, then the late withdrawal, then a late 'created'.
    deliver(client, se.event("charge.dispute.closed", won))
    deliver(client, se.event("charge.dispute.funds_withdrawn", withdrawn))
    deliver(client, se.event("charge.dispute.created", se.dispute(donation_id)))
    assert raised(hooks.app) == 1000
    assert donation(hooks.app, donation_id).dispute_status == DisputeStatus.WON


def test_a_lost_dispute_takes_the_money_off(hooks, client):
    donation_id = paid(hooks, client, 1000)
    deliver(client, se.event("charge.dispute.closed", se.dispute(donation_id, "lost")))
    assert raised(hooks.app) == 0
    with hooks.app.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).disputed_pence == 1000


def test_a_payment_for_another_amount_is_held_for_review_not_counted(hooks, client):
    donation_id = pending(hooks, 100_000, gift_aid=True)
    session = se.checkout_session(donation_id, 100)  # the form said £1,000; Stripe took £1
    deliver(client, se.event("checkout.session.completed", session))
    held = donation(hooks.app, donation_id)
    assert held.status == DonationStatus.PAID and held.taken_pence == 100
    assert "Stripe took £1.00, but the form said £1,000.00" in held.review_reason
    with hooks.app.app_context():
        row = db.session.get(Totals, EVENT_SCOPE)
        assert (row.raised_pence, row.gift_aid_eligible_pence, row.held_pence) == (0, 0, 100)


def test_a_second_paid_session_is_counted_as_taken_and_held_never_lost(hooks, client):
    donation_id = paid(hooks, client, 1000)
    second = se.checkout_session(donation_id, 1000, session_id="cs_test_second")
    deliver(client, se.event("checkout.session.completed", second))
    deliver(client, se.event("checkout.session.completed", second))  # a retry
    twice = donation(hooks.app, donation_id)
    assert twice.taken_pence == 2000 and "Paid twice" in twice.review_reason
    with hooks.app.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).held_pence == 2000


def test_an_old_sessions_expiry_does_not_close_a_donation_with_a_newer_session(hooks, client):
    donation_id = pending(hooks, 1000)
    newer = se.checkout_session(donation_id, 1000, "open", "unpaid", session_id="cs_test_newer")
    older = se.checkout_session(donation_id, 1000, "expired", "unpaid", session_id="cs_test_older")
    # Plunge keeps both sessions, as the form does when it makes them.
    with hooks.app.app_context():
        from app.payments import facts
        from app.payments.fulfil import remember_session

        found = db.session.get(Donation, donation_id)
        remember_session(found, facts.session(newer))
        remember_session(found, facts.session({**older, "status": "open"}))
        db.session.commit()
    deliver(client, se.event("checkout.session.expired", older))
    assert donation(hooks.app, donation_id).status == DonationStatus.PENDING
    paid_newer = se.checkout_session(donation_id, 1000, session_id="cs_test_newer")
    deliver(client, se.event("checkout.session.completed", paid_newer))
    assert raised(hooks.app) == 1000


def test_a_payment_after_the_donation_expired_is_still_counted(hooks, client):
    donation_id = pending(hooks, 1000)
    expired = se.checkout_session(donation_id, 1000, "expired", "unpaid", session_id="cs_test_a")
    deliver(client, se.event("checkout.session.expired", expired))
    assert donation(hooks.app, donation_id).status == DonationStatus.EXPIRED
    late = se.checkout_session(donation_id, 1000, session_id="cs_test_b")  # made, reply lost
    deliver(client, se.event("checkout.session.completed", late))
    assert donation(hooks.app, donation_id).status == DonationStatus.PAID
    assert raised(hooks.app) == 1000


def test_the_payment_time_is_stripes_not_when_the_event_arrived(hooks, client):
    from app.timefmt import parse_london, to_london

    donation_id = pending(hooks, 1000)
    paid_at = int(parse_london("2027-04-05 23:50").timestamp())
    session = se.checkout_session(donation_id, 1000)
    deliver(client, se.event("checkout.session.completed", session, created=paid_at))
    assert to_london(donation(hooks.app, donation_id).paid_at).date().isoformat() == "2027-04-05"


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
    bodies = [
        se.event("checkout.session.completed", se.checkout_session(i, 100 + n))
        for n, i in enumerate(ids)
    ]

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
