"""Refunds from the dashboard, over real HTTP: the app, the official stripe library and the
sandbox. The total follows the refund's status as Stripe gives it (in its answer, its events,
or reconcile), and the donor is emailed once it has succeeded, never before."""

import re

import pytest
import requests

from app.extensions import db
from app.models import EVENT_SCOPE, AuditEntry, Donation, Refund, Totals
from tests.accounts import PASSWORD
from tests.test_checkout import pay, session_id_of, submit
from tests.test_donations import GIFT_AID


def pay_by_card(live_server, stripe_sandbox, event, card="4242424242424242") -> int:
    """A £50 card donation with Gift Aid, covering the card fee, paid through the sandbox."""
    donor = requests.Session()
    donor.base = live_server
    response, _ = submit(donor, amount_preset="5000", cover_fee="y", **GIFT_AID)
    pay(stripe_sandbox, session_id_of(response), card)
    with event.app_context():
        return db.session.query(Donation).one().id


@pytest.fixture
def paid(live_server, stripe_sandbox, event):
    """A £50 card donation whose refunds succeed at once."""
    return pay_by_card(live_server, stripe_sandbox, event)


@pytest.fixture
def organiser(make, live_server):
    """An organiser's browser session on the live app."""
    make.user()
    session = requests.Session()
    login = session.get(live_server + "/auth/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)[1]
    session.post(
        live_server + "/auth/login",
        data={"csrf_token": token, "email": "sandra@example.org", "password": PASSWORD},
    )
    session.base = live_server
    return session


def refund_form(organiser, donation_id) -> dict:
    """The refund form's hidden fields, as the page hands them out."""
    page = organiser.get(f"{organiser.base}/organiser/donations/{donation_id}").text
    return {
        "refund-csrf_token": re.search(
            r'name="refund-csrf_token" type="hidden" value="([^"]+)"', page
        )[1],
        "refund-refund_key": re.search(
            r'name="refund-refund_key" type="hidden" value="([^"]+)"', page
        )[1],
    }


def post_refund(organiser, donation_id, form, amount, reason=""):
    return organiser.post(
        f"{organiser.base}/organiser/donations/{donation_id}/refund",
        data={**form, "refund-amount": amount, "refund-reason": reason},
        allow_redirects=False,
    )


def totals(app) -> Totals:
    with app.app_context():
        row = db.session.get(Totals, EVENT_SCOPE)
        db.session.expunge(row)
        return row


def test_a_partial_refund_goes_through_stripe_and_the_total_follows_its_status(
    paid, organiser, stripe_sandbox, event, smtp
):
    before = totals(event)
    assert before.raised_pence == 5000 and before.fees_covered_pence > 0
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    response = post_refund(organiser, paid, refund_form(organiser, paid), "15", "Gave twice")
    assert response.status_code == 303
    page = organiser.get(organiser.base + response.headers["Location"]).text
    assert "Refunded £15.00" in page  # Stripe's answer says it succeeded
    after = totals(event)
    assert (after.raised_pence, after.refunded_pence) == (3500, 1500)
    # Gift Aid on the £35 of gift kept and the card fee the donor covered.
    assert after.gift_aid_eligible_pence == 3500 + before.fees_covered_pence

    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/release")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 1500  # its events change nothing more
    [refund_call] = [
        e for e in stripe_sandbox.requests if e["path"] == "/v1/refunds" and e["method"] == "POST"
    ]
    assert refund_call["params"]["amount"] in (1500, "1500")
    assert refund_call["idempotency_key"].startswith(f"plunge-refund-{paid}-")
    with event.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["refund.requested", "refund.recorded"]
    [receipt, notice] = smtp.wait_for("fiona@example.org", 2)
    assert "refund" in notice["Subject"].lower()
    body = notice.get_body(("plain",)).get_content()
    assert "We have refunded £15.00 of your donation of £50.00" in body
    assert "The charity keeps £35.00 of your gift, and claims Gift Aid only on that" in body


def test_a_pending_refund_counts_only_once_it_succeeds(
    live_server, stripe_sandbox, event, organiser, smtp
):
    donation_id = pay_by_card(live_server, stripe_sandbox, event, card="4000000000007726")
    response = post_refund(organiser, donation_id, refund_form(organiser, donation_id), "15")
    page = organiser.get(organiser.base + response.headers["Location"]).text
    assert "Stripe is refunding £15.00 (status: pending)" in page
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).raised_pence == 5000  # pending is not money yet
    assert len(smtp.wait_for("fiona@example.org", 2, timeout=1)) == 1  # the receipt only
    with event.app_context():
        refund_id = db.session.query(Refund).one().id
    stripe_sandbox.settle_refund(refund_id, "succeeded")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).raised_pence == 3500
    assert "refund" in smtp.wait_for("fiona@example.org", 2)[-1]["Subject"].lower()


def test_a_refund_that_fails_after_succeeding_puts_the_money_back(
    live_server, stripe_sandbox, event, organiser, smtp
):
    donation_id = pay_by_card(live_server, stripe_sandbox, event, card="4000000000005126")
    post_refund(organiser, donation_id, refund_form(organiser, donation_id), "20")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).raised_pence == 3000
    with event.app_context():
        refund_id = db.session.query(Refund).one().id
    stripe_sandbox.settle_refund(refund_id, "failed")
    assert stripe_sandbox.wait_for_webhooks(10)
    after = totals(event)
    assert (after.raised_pence, after.refunded_pence) == (5000, 0)
    [alert] = smtp.wait_for("sandra@example.org")
    assert "did not go through" in alert["Subject"]
    page = organiser.get(f"{organiser.base}/organiser/donations/{donation_id}").text
    assert "A refund failed" in page


def test_a_refund_form_sent_again_after_stripe_forgot_its_key_refunds_once(
    paid, organiser, stripe_sandbox, event
):
    form = refund_form(organiser, paid)
    post_refund(organiser, paid, form, "10")
    stripe_sandbox.advance_clock(25 * 3600)  # Stripe prunes idempotency keys after 24 hours
    again = post_refund(organiser, paid, form, "10")
    assert again.status_code == 303
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 1000
    posts = [
        e for e in stripe_sandbox.requests if e["path"] == "/v1/refunds" and e["method"] == "POST"
    ]
    assert len(posts) == 1  # the resend found the refund first, and did not ask again


def test_a_double_click_refunds_once(paid, organiser, stripe_sandbox, event, smtp):
    form = refund_form(organiser, paid)
    first = post_refund(organiser, paid, form, "10")
    second = post_refund(organiser, paid, form, "10")
    assert first.status_code == second.status_code == 303
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 1000
    calls = [
        e for e in stripe_sandbox.requests if e["path"] == "/v1/refunds" and e["method"] == "POST"
    ]
    assert len({c["idempotency_key"] for c in calls}) == 1
    with event.app_context():
        assert db.session.query(AuditEntry).filter_by(action="refund.requested").count() == 1
    assert len(smtp.wait_for("fiona@example.org", 3, timeout=1)) == 2  # receipt, one notice


def test_the_same_form_with_another_amount_is_refused(paid, organiser, stripe_sandbox, event):
    form = refund_form(organiser, paid)
    post_refund(organiser, paid, form, "10")
    again = post_refund(organiser, paid, form, "12")
    assert again.status_code == 422
    assert "already sent with a different amount" in again.text
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 1000


def test_a_full_refund_gives_back_the_fee_too_and_nothing_is_left_to_claim(
    paid, organiser, stripe_sandbox, event, smtp
):
    with event.app_context():
        paid_in_all = db.session.get(Donation, paid)
        charged = paid_in_all.amount_pence + paid_in_all.fee_cover_pence
    page = organiser.get(f"{organiser.base}/organiser/donations/{paid}").text
    assert f'value="{charged / 100:.2f}"' in page  # offered: everything the donor paid
    post_refund(organiser, paid, refund_form(organiser, paid), f"{charged / 100:.2f}")
    assert stripe_sandbox.wait_for_webhooks(10)
    after = totals(event)
    assert (after.raised_pence, after.supporters, after.gift_aid_eligible_pence) == (0, 0, 0)
    assert after.refunded_pence == charged
    page = organiser.get(f"{organiser.base}/organiser/donations/{paid}").text
    assert ">Refunded<" in page and "Refund</button>" not in page
    body = smtp.wait_for("fiona@example.org", 2)[-1].get_body(("plain",)).get_content()
    assert "Nothing of your gift is kept, so no Gift Aid will be claimed on it" in body


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1000000", "60"])
def test_bad_amounts_are_refused_beside_the_field_and_stripe_is_not_asked(
    paid, organiser, stripe_sandbox, amount
):
    response = post_refund(organiser, paid, refund_form(organiser, paid), amount)
    assert response.status_code == 422
    assert 'id="refund-amount-error"' in response.text
    assert not [e for e in stripe_sandbox.requests if e["path"] == "/v1/refunds"]  # not even asked


def test_when_stripe_says_no_the_organiser_sees_why(paid, organiser, stripe_sandbox, event):
    import stripe

    # Refunded elsewhere (Stripe's own dashboard) while the webhook is still on its way.
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    with event.app_context():
        intent = db.session.get(Donation, paid).stripe_payment_intent_id
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    client.v1.refunds.create(params={"payment_intent": intent, "amount": 5000})
    response = post_refund(organiser, paid, refund_form(organiser, paid), "10")
    assert response.status_code == 422
    assert "greater than unrefunded amount" in response.text
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/release")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 5000


def test_stripe_unreachable_refunds_nothing_and_says_so(paid, organiser, stripe_sandbox, event):
    real_port = event.config["STRIPE_SANDBOX_PORT"]
    event.config["STRIPE_SANDBOX_PORT"] = 9  # nothing listens on the discard port
    try:
        response = post_refund(organiser, paid, refund_form(organiser, paid), "10")
    finally:
        event.config["STRIPE_SANDBOX_PORT"] = real_port
    assert response.status_code == 422
    assert "couldn&#39;t reach Stripe, so nothing was refunded" in response.text
    assert totals(event).refunded_pence == 0


def test_a_refund_whose_reply_is_lost_is_made_once_and_counted(
    paid, organiser, stripe_sandbox, event
):
    stripe_sandbox.lose_replies("/v1/refunds", count=3)  # more than the library's 2 retries
    form = refund_form(organiser, paid)
    first = post_refund(organiser, paid, form, "10")
    assert first.status_code == 422 and "don&#39;t know yet whether it refunded" in first.text
    again = post_refund(organiser, paid, form, "10")  # as the message asks
    assert again.status_code == 303
    assert stripe_sandbox.wait_for_webhooks(10)
    assert totals(event).refunded_pence == 1000
