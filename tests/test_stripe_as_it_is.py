"""Stripe as it really behaves, through the sandbox over HTTP: concurrent submits of one form,
replies lost after Stripe acted, a server clock that is slow, events days late, disputes in
every state, and reconcile finding what the webhooks missed."""

import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import requests
import stripe

from app.extensions import db
from app.models import CheckoutSession, Donation, DonationStatus, ReconcileRun, utcnow
from app.timefmt import parse_london, to_london
from tests.test_checkout import form_token, pay, session_id_of, state, submit
from tests.test_donations import GOOD


def sessions_made(sandbox) -> set[str]:
    """The ids of the Checkout Sessions Stripe made (a replayed answer is the same one)."""
    return {
        e["response"]["id"]
        for e in sandbox.requests
        if e["path"] == "/v1/checkout/sessions" and e["method"] == "POST" and e["status"] == 200
    }


def stripes_clock(monkeypatch, sandbox, when: datetime) -> None:
    """Set Stripe's clock, and Plunge's with it (a payment page's expiry is from our clock)."""
    import app.payments

    sandbox.set_clock(int(when.timestamp()))
    monkeypatch.setattr(app.payments, "utcnow", lambda: datetime.fromtimestamp(sandbox.now(), UTC))


def test_two_submits_of_one_form_at_once_with_different_amounts_never_change_a_price(
    donor, stripe_sandbox, event
):
    """The hostile donor: the same filled-in form, £1 and £1,000, at the same moment."""
    token = form_token(donor, "/donate")
    answers = {}

    def send(amount):
        data = {**token, **GOOD, "amount_preset": "other", "other_amount": amount}
        answers[amount] = donor.post(donor.base + "/donate", data=data, allow_redirects=False)

    threads = [threading.Thread(target=send, args=(a,)) for a in ("1", "1000")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers.values()} == {303}
    paid_total = 0
    for answer in answers.values():
        session_id = session_id_of(answer)
        session = pay(stripe_sandbox, session_id)["session"]
        paid_total += session["amount_total"]
    assert paid_total == 100_100
    donations, raised = state(event)
    # A different amount on the same form is a different donation, each at its own price.
    assert sorted(d.amount_pence for d in donations) == [100, 100_000]
    assert raised == 100_100 and not [d for d in donations if d.review_reason]


def test_the_same_form_sent_many_times_at_once_gets_one_session(donor, stripe_sandbox, event):
    token = form_token(donor, "/donate")
    data = {**token, **GOOD}
    answers = []

    def send():
        answers.append(donor.post(donor.base + "/donate", data=data, allow_redirects=False))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    redirected = {a.headers["Location"] for a in answers if a.status_code == 303}
    waiting = [a for a in answers if a.status_code == 409]
    assert len(redirected) == 1 and len(redirected) + len(waiting) >= 1
    assert all("already on its way to payment" in a.text for a in waiting)
    donations, _ = state(event)
    assert len(donations) == 1
    with event.app_context():
        assert db.session.query(CheckoutSession).count() == 1


def test_a_lost_reply_when_making_the_session_still_gives_one_session(donor, stripe_sandbox, event):
    stripe_sandbox.lose_replies("/v1/checkout/sessions", count=1)
    response, _ = submit(donor)
    assert response.status_code == 303  # the library retried with the same key
    assert len(sessions_made(stripe_sandbox)) == 1
    pay(stripe_sandbox, session_id_of(response))
    assert state(event)[1] == 2000


def test_replies_lost_beyond_the_retries_lose_no_payment(donor, stripe_sandbox, event):
    stripe_sandbox.lose_replies("/v1/checkout/sessions", count=3)  # more than 2 retries
    failed, data = submit(donor)
    assert failed.status_code == 503  # the donor is told to press again; nothing charged
    retried = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
    assert retried.status_code == 303
    # The very same request: Stripe answered from its saved reply, one session in all.
    assert len(sessions_made(stripe_sandbox)) == 1
    pay(stripe_sandbox, session_id_of(retried))
    donations, raised = state(event)
    assert len(donations) == 1 and raised == 2000


def test_a_server_clock_minutes_slow_still_makes_payment_pages(donor, stripe_sandbox, event):
    stripe_sandbox.advance_clock(10 * 60)  # Stripe's clock is ten minutes ahead of ours
    response, _ = submit(donor)
    assert response.status_code == 303
    [made] = [e for e in stripe_sandbox.requests if e["path"] == "/v1/checkout/sessions"]
    expires_at = int(made["params"]["expires_at"])
    assert expires_at - stripe_sandbox.now() >= 30 * 60


def test_a_payment_at_2350_on_5_april_whose_event_comes_two_days_later_is_a_5_april_gift(
    donor, stripe_sandbox, event, monkeypatch
):
    stripes_clock(monkeypatch, stripe_sandbox, parse_london("2027-04-05 23:50"))
    response, _ = submit(donor)
    stripe_sandbox.late_webhooks(2 * 24 * 3600, type="checkout.session.*")
    pay(stripe_sandbox, session_id_of(response))
    assert state(event)[1] == 0  # the event has not come yet
    stripe_sandbox.advance_clock(2 * 24 * 3600 + 60)
    assert stripe_sandbox.wait_for_webhooks(10)
    [donation], raised = state(event)
    assert raised == 2000
    assert to_london(donation.paid_at).date().isoformat() == "2027-04-05"


def test_the_thanks_page_records_stripes_payment_time(donor, stripe_sandbox, event, monkeypatch):
    stripes_clock(monkeypatch, stripe_sandbox, datetime(2027, 4, 5, 22, 50, tzinfo=UTC))
    response, _ = submit(donor)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    pay(stripe_sandbox, session_id_of(response))
    donor.get(f"{donor.base}/donate/thanks?session_id={session_id_of(response)}")
    [donation], _ = state(event)
    # Stripe's clock runs on from where it was set: the charge is a moment after 22:50.
    charged = datetime(2027, 4, 5, 22, 50, tzinfo=UTC)
    assert charged <= donation.paid_at < charged + timedelta(minutes=1)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/release")


def test_disputes_move_money_only_when_stripe_withdraws_it(donor, stripe_sandbox, event):
    response, _ = submit(donor, amount_preset="5000")
    pay(stripe_sandbox, session_id_of(response))
    [donation], _ = state(event)
    inquiry = stripe_sandbox.open_dispute(donation.stripe_payment_intent_id, reason="general")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 5000  # an inquiry takes nothing
    stripe_sandbox.move_dispute(inquiry["id"], "needs_response")  # it escalates: funds go
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 0
    stripe_sandbox.close_dispute(inquiry["id"], "won")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 5000


def test_a_partial_dispute_lost_loses_only_its_amount(donor, stripe_sandbox, event):
    response, _ = submit(donor, amount_preset="5000")
    pay(stripe_sandbox, session_id_of(response))
    [donation], _ = state(event)
    dispute = stripe_sandbox.open_dispute(donation.stripe_payment_intent_id, amount=2000)
    stripe_sandbox.close_dispute(dispute["id"], "lost")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 3000


def test_reconcile_finds_refunds_and_disputes_the_webhooks_never_brought(
    donor, stripe_sandbox, event, runner
):
    response, _ = submit(donor, amount_preset="5000")
    pay(stripe_sandbox, session_id_of(response))
    [donation], _ = state(event)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")  # and never released
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    intent = donation.stripe_payment_intent_id
    client.v1.refunds.create(params={"payment_intent": intent, "amount": 1000})
    stripe_sandbox.open_dispute(intent, amount=1500)
    assert state(event)[1] == 5000
    result = runner.invoke(args=["stripe", "reconcile", "--days", "3"])
    assert "1 fixed" in result.output, result.output
    assert state(event)[1] == 2500
    with event.app_context():
        run = db.session.query(ReconcileRun).one()
        assert (run.checked, run.fixed, run.finished_at is not None) == (1, 1, True)


def test_reconcile_lists_money_stripe_took_for_no_donation(stripe_sandbox, event, runner):
    from tests.sandbox.conftest import donation_params

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    orphan = client.v1.checkout.sessions.create(
        params=donation_params(
            metadata={"note": "made by hand in the Dashboard"}, client_reference_id="not-ours"
        )
    )
    pay(stripe_sandbox, orphan.id)
    result = runner.invoke(args=["stripe", "reconcile"])
    assert f"no donation {orphan.id}: Stripe took £10.00" in result.output, result.output
    with event.app_context():
        assert db.session.query(Donation).count() == 0


def test_the_dashboard_says_when_plunge_was_last_checked_against_stripe(
    stripe_sandbox, event, runner, make, client
):
    from tests.accounts import AuthActions

    make.user()
    auth = AuthActions(client)
    auth.login("sandra@example.org")
    assert "has not yet been checked against Stripe" in client.get("/organiser").text
    runner.invoke(args=["stripe", "reconcile"])
    page = client.get("/organiser").text
    assert "Last checked" in page and "found nothing for you to look at" in page


def test_an_event_in_another_api_version_is_applied_and_said_once(
    donor, stripe_sandbox, event, caplog
):
    from app.payments import webhooks

    webhooks._versions_seen.clear()
    # Alembic's logging set-up (test_migrations) disables loggers that already exist.
    logging.getLogger("app.payments.webhooks").disabled = False
    stripe_sandbox.sandbox.store.api_version = "2025-01-27.acacia"
    try:
        with caplog.at_level(logging.WARNING, logger="app.payments.webhooks"):
            for _ in range(2):
                response, _ = submit(donor)
                pay(stripe_sandbox, session_id_of(response))
    finally:
        stripe_sandbox.sandbox.store.api_version = stripe.api_version
    assert state(event)[1] == 4000
    said = [r for r in caplog.records if "2025-01-27.acacia" in r.getMessage()]
    assert len(said) == 1


def test_a_stale_claim_from_a_crashed_request_does_not_block_the_donor(
    donor, stripe_sandbox, event
):
    first, data = submit(donor)
    with event.app_context():
        donation = db.session.query(Donation).one()
        # As if a request had claimed a new donation's checkout and then died.
        again = Donation(
            source=donation.source,
            amount_pence=2000,
            donor_name="Fiona Campbell",
            donor_email="fiona@example.org",
            attempt_key="crashed-attempt",
            checkout_claimed_at=utcnow() - timedelta(minutes=5),
        )
        db.session.add(again)
        db.session.commit()
    retried = donor.post(
        donor.base + "/donate",
        data={**data, "attempt_key": "crashed-attempt"},
        allow_redirects=False,
    )
    assert retried.status_code == 303
    assert re.search(r"/checkout/cs_test_", retried.headers["Location"])
    assert DonationStatus.PENDING in {d.status for d in state(event)[0]}
