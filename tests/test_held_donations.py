"""Donations held for review: Stripe took another amount than the form said, or took it twice.
They count nothing, show on the dashboard, and count once an organiser decides."""

import re

import pytest

from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    AuditEntry,
    CheckoutSession,
    Donation,
    DonationStatus,
    Role,
    Totals,
    User,
)
from tests import stripe_events as se
from tests.accounts import AuthActions, password_hash
from tests.test_webhooks import deliver


@pytest.fixture
def organiser(make, client) -> AuthActions:
    make.app.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    make.user()
    auth = AuthActions(client)
    auth.login("sandra@example.org")
    return auth


def held(make, client, form_pence: int, taken_pence: int) -> int:
    donation_id = make.donation(form_pence, status=DonationStatus.PENDING, gift_aid=True)
    session = se.checkout_session(donation_id, taken_pence)
    deliver(client, se.event("checkout.session.completed", session))
    return donation_id


def totals(app) -> Totals:
    with app.app_context():
        row = db.session.get(Totals, EVENT_SCOPE)
        db.session.expunge(row)
        return row


def test_a_held_donation_shows_on_the_dashboard_and_counts_nothing(make, client, organiser, smtp):
    donation_id = held(make, client, 100_000, 100)
    page = client.get("/organiser").get_data(as_text=True)
    assert f'id="held-{donation_id}"' in page
    assert "Stripe took £1.00, but the form said £1,000.00." in page
    assert 'id="figure-held">£1.00<' in page and 'id="figure-raised">£0.00<' in page
    assert not smtp.to("fiona@example.org")  # no receipt for a figure nobody has agreed
    detail = client.get(f"/organiser/donations/{donation_id}").get_data(as_text=True)
    assert "Held for review" in detail and "Count what Stripe took" in detail


def test_counting_a_held_donation_counts_what_stripe_took_with_its_gift_aid(
    make, client, organiser, smtp
):
    donation_id = held(make, client, 100_000, 100)
    data = {"review-note": "Donor meant £1: confirmed by email"}
    url = f"/organiser/donations/{donation_id}/review"
    response = organiser.post(url, data, prefix="review")
    assert response.status_code == 303, response.get_data(as_text=True)
    response.close()  # the outbox is sent once the response is done
    row = totals(make.app)
    assert (row.raised_pence, row.gift_aid_eligible_pence, row.held_pence) == (100, 100, 0)
    with make.app.app_context():
        decided = db.session.get(Donation, donation_id)
        assert (decided.amount_pence, decided.review_reason) == (100, "")
        [entry] = db.session.query(AuditEntry).filter_by(action="donation.review_decided").all()
        assert entry.reason == "Donor meant £1: confirmed by email" and entry.actor_id
    [receipt] = smtp.wait_for("fiona@example.org")
    assert "£1.00" in receipt.get_body(("plain",)).get_content()
    # Sent again (a double click): it is no longer held, and nothing moves.
    organiser.post(url, data, prefix="review")
    assert totals(make.app).raised_pence == 100


def test_a_decision_needs_a_reason(make, client, organiser):
    donation_id = held(make, client, 2000, 1000)
    response = organiser.post(f"/organiser/donations/{donation_id}/review", {}, prefix="review")
    assert response.status_code == 422
    assert "Say why" in response.get_data(as_text=True)
    assert totals(make.app).held_pence == 1000


def test_a_donation_paid_twice_refunds_the_second_payment_then_counts_the_first(
    live_server, stripe_sandbox, event
):
    import stripe

    from tests.sandbox.conftest import donation_params
    from tests.test_checkout import pay, session_id_of, submit
    from tests.test_refunds import post_refund, refund_form

    donor = requests_session(live_server)
    response, _ = submit(donor, amount_preset="2000")
    pay(stripe_sandbox, session_id_of(response))
    with event.app_context():
        donation_id = db.session.query(Donation).one().id
    # A second payment page for the same donation (as after a lost reply), paid too.
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    ours = {"donation_id": str(donation_id)}
    second = client.v1.checkout.sessions.create(
        params=donation_params(
            metadata=ours,
            client_reference_id=str(donation_id),
            payment_intent_data={"metadata": ours},
            line_items=[
                {
                    "price_data": {
                        "currency": "gbp",
                        "unit_amount": 2000,
                        "product_data": {"name": "Sponsoring"},
                    },
                    "quantity": 1,
                }
            ],
        )
    )
    pay(stripe_sandbox, second.id)
    assert (totals(event).raised_pence, totals(event).held_pence) == (0, 4000)

    staff = organiser_session(event, live_server)
    page = staff.get(f"{live_server}/organiser/donations/{donation_id}").text
    assert "Paid twice" in page and 'value="20.00"' in page  # one payment's worth, not both
    post_refund(staff, donation_id, refund_form(staff, donation_id), "20.00")
    assert stripe_sandbox.wait_for_webhooks(10)
    refunded = [
        e for e in stripe_sandbox.requests if e["path"] == "/v1/refunds" and e["method"] == "POST"
    ]
    with event.app_context():
        second_intent = db.session.get(CheckoutSession, second.id).payment_intent_id
    assert refunded[0]["params"]["payment_intent"] == second_intent
    token = re.search(r'name="review-csrf_token" type="hidden" value="([^"]+)"', page)[1]
    staff.post(
        f"{live_server}/organiser/donations/{donation_id}/review",
        data={"review-csrf_token": token, "review-note": "Second payment refunded"},
    )
    row = totals(event)
    assert (row.raised_pence, row.held_pence, row.refunded_pence) == (2000, 0, 2000)


def requests_session(base: str):
    import requests

    session = requests.Session()
    session.base = base
    return session


def organiser_session(app, base: str):
    from tests.accounts import PASSWORD

    with app.app_context():
        db.session.add(
            User(
                email="sandra@example.org",
                name="Sandra Organiser",
                role=Role.ORGANISER,
                password_hash=password_hash(),
            )
        )
        db.session.commit()
    session = requests_session(base)
    login = session.get(base + "/auth/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)[1]
    session.post(
        base + "/auth/login",
        data={"csrf_token": token, "email": "sandra@example.org", "password": PASSWORD},
    )
    return session
