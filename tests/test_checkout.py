"""The whole card journey over real HTTP: the app, the official stripe library, the sandbox."""

import re

import requests

from app.extensions import db
from app.models import EVENT_SCOPE, Donation, DonationStatus, Totals
from tests.sandbox.openapi import assert_valid_exchange, assert_valid_request
from tests.test_donations import GIFT_AID, GOOD


def form_token(session, path):
    page = session.get(session.base + path)
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1],
        "attempt_key": re.search(r'name="attempt_key" type="hidden" value="([^"]+)"', page.text)[1],
    }


def submit(session, path="/donate", **fields):
    data = {**form_token(session, path), **GOOD, **fields}
    return session.post(session.base + path, data=data, allow_redirects=False), data


def session_id_of(response) -> str:
    return re.search(r"/(cs_test_\w+)", response.headers["Location"])[1]


def pay(sandbox, session_id, card="4242424242424242", **extra):
    response = requests.post(
        f"{sandbox.url}/_sandbox/checkout/sessions/{session_id}/pay", json={"card": card, **extra}
    )
    assert response.ok, response.text
    assert sandbox.wait_for_webhooks(10)
    return response.json()


def state(app):
    with app.app_context():
        donations = db.session.query(Donation).all()
        for donation in donations:
            db.session.expunge(donation)
        return donations, db.session.get(Totals, EVENT_SCOPE).raised_pence


def test_a_made_up_session_id_on_the_thanks_page_is_not_found(donor, stripe_sandbox, event):
    """Not "we're checking your payment": Stripe has never heard of it, so there is none."""
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id=cs_test_made_up")
    assert thanks.status_code == 404
    assert "Page not found" in thanks.text


def test_donating_goes_to_stripe_checkout_with_a_pending_donation(donor, stripe_sandbox, event):
    response, _ = submit(donor, **GIFT_AID)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(stripe_sandbox.url + "/checkout/")
    [donation], raised = state(event)
    assert donation.status == DonationStatus.PENDING and raised == 0
    assert donation.gift_aid_postcode == "G12 8QQ"
    assert donation.stripe_session_id == session_id_of(response)
    [create] = [e for e in stripe_sandbox.requests if e["path"] == "/v1/checkout/sessions"]
    assert_valid_exchange(create, check_request=True)
    sent = create["params"]
    assert sent["submit_type"] == "donate" and sent["mode"] == "payment"
    assert sent["metadata"]["donation_id"] == str(donation.id)
    assert sent["payment_intent_data"]["metadata"]["donation_id"] == str(donation.id)
    assert (create["idempotency_key"] or "").startswith(f"plunge-donation-{donation.id}-")


def test_paying_counts_once_sends_the_receipt_and_thanks_the_donor(
    donor, stripe_sandbox, event, smtp
):
    response, _ = submit(donor, **GIFT_AID)
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    [donation], raised = state(event)
    assert donation.status == DonationStatus.PAID and raised == 2000
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}")
    assert thanks.status_code == 200
    assert "Thank you, Fiona Campbell!" in thanks.text and "£20.00</strong> raised" in thanks.text
    assert state(event)[1] == 2000  # the success page and the webhook agree: counted once
    [receipt] = smtp.wait_for("fiona@example.org")
    assert "Gift Aid" in receipt.get_body(("plain",)).get_content()


def test_the_thanks_page_confirms_payment_even_before_the_webhook(donor, stripe_sandbox, event):
    response, _ = submit(donor)
    session_id = session_id_of(response)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    pay(stripe_sandbox, session_id)
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}")
    assert "has been received" in thanks.text
    assert state(event)[1] == 2000
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/release")
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 2000


def test_submitting_the_same_form_twice_makes_one_donation_and_one_session(
    donor, stripe_sandbox, event
):
    first, data = submit(donor)
    again = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
    assert again.headers["Location"] == first.headers["Location"]
    donations, _ = state(event)
    assert len(donations) == 1


def test_stripe_unreachable_shows_an_apology_and_a_retry_makes_no_duplicate(
    donor, stripe_sandbox, event
):
    real_port = event.config["STRIPE_SANDBOX_PORT"]
    event.config["STRIPE_SANDBOX_PORT"] = 9  # nothing listens on the discard port
    failed, data = submit(donor)
    assert failed.status_code == 503
    assert "couldn't reach our card payment provider" in failed.text
    assert 'value="Fiona Campbell"' in failed.text
    assert state(event)[1] == 0
    event.config["STRIPE_SANDBOX_PORT"] = real_port
    retried = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
    assert retried.status_code == 303
    donations, raised = state(event)
    assert len(donations) == 1 and raised == 0


def test_cancelling_brings_the_donor_back_to_the_filled_form(donor, stripe_sandbox, event):
    response, _ = submit(donor, message="Back in a minute", **GIFT_AID)
    session = requests.get(response.headers["Location"])
    cancel = re.search(r'href="([^"]*/donate/resume/[^"]+)"', session.text)[1]
    back = donor.get(cancel.replace("&amp;", "&"))
    assert back.status_code == 200
    assert "nothing was charged" in back.text
    assert "Back in a minute" in back.text and 'value="G12 8QQ"' in back.text
    assert stripe_sandbox.wait_for_webhooks(10)
    [donation], _ = state(event)
    assert donation.status == DonationStatus.EXPIRED  # the abandoned session was closed


def test_reconcile_repairs_a_donation_whose_webhook_never_came(
    donor, stripe_sandbox, event, runner
):
    response, _ = submit(donor)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    pay(stripe_sandbox, session_id_of(response))
    assert state(event)[1] == 0
    result = runner.invoke(args=["stripe", "reconcile"])
    assert "Checked 1 donations of the last 7 days against Stripe: 1 fixed" in result.output
    assert state(event)[1] == 2000


def test_refunds_and_disputes_through_stripe_move_the_total(donor, stripe_sandbox, event):
    import stripe

    response, _ = submit(donor, amount_preset="5000")
    paid = pay(stripe_sandbox, session_id_of(response))
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    [donation], _ = state(event)
    client.v1.refunds.create(
        params={"payment_intent": donation.stripe_payment_intent_id, "amount": 1500}
    )
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 3500
    requests.post(
        f"{stripe_sandbox.url}/_sandbox/disputes",
        json={"payment_intent": donation.stripe_payment_intent_id},
    )
    assert stripe_sandbox.wait_for_webhooks(10)
    assert state(event)[1] == 0
    assert paid


def test_webhooks_delivered_twice_and_out_of_order_leave_totals_exact(donor, stripe_sandbox, event):
    sessions = [session_id_of(submit(donor)[0]) for _ in range(3)]
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/hold")
    for session_id in sessions:
        pay(stripe_sandbox, session_id)
    requests.post(f"{stripe_sandbox.url}/_sandbox/webhooks/release", json={"order": "reversed"})
    assert stripe_sandbox.wait_for_webhooks(10)
    for item in requests.get(f"{stripe_sandbox.url}/_sandbox/events").json()["data"]:
        requests.post(
            f"{stripe_sandbox.url}/_sandbox/events/{item['id']}/redeliver", json={"times": 2}
        )
    assert stripe_sandbox.wait_for_webhooks(10)
    donations, raised = state(event)
    assert raised == 6000 and {d.status for d in donations} == {DonationStatus.PAID}


def test_the_donation_request_matches_stripes_published_schema(event):
    from app import payments

    with event.test_request_context():
        donation = Donation(id=7, amount_pence=1000, fee_cover_pence=36, donor_email="a@b.co")
        params = payments.checkout_params(donation, event_obj(event), "http://x/s", "http://x/c")
    assert_valid_request("POST /v1/checkout/sessions", params)


def event_obj(app):
    from app.events.service import get_event

    return get_event()


def test_sending_the_form_again_after_paying_goes_to_the_thanks(donor, stripe_sandbox, event):
    first, data = submit(donor)
    pay(stripe_sandbox, session_id_of(first))
    again = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
    assert again.status_code == 303 and "/donate/thanks?session_id=cs_" in again.headers["Location"]
    assert state(event)[1] == 2000


def test_sending_the_form_again_after_its_page_timed_out_starts_afresh(
    donor, stripe_sandbox, event
):
    import stripe

    first, data = submit(donor)
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sandbox.url})
    client.v1.checkout.sessions.expire(session_id_of(first))  # as Stripe does after an hour
    again = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
    assert again.status_code == 409
    assert "timed out, so nothing was charged" in again.text
    assert 'value="Fiona Campbell"' in again.text
    fresh = re.search(r'name="attempt_key" type="hidden" value="([^"]+)"', again.text)[1]
    assert fresh != data["attempt_key"]
    retried = donor.post(
        donor.base + "/donate", data={**data, "attempt_key": fresh}, allow_redirects=False
    )
    assert retried.status_code == 303
    assert session_id_of(retried) != session_id_of(first)


def test_the_thanks_page_names_the_donor_only_in_the_browser_that_gave(
    donor, stripe_sandbox, event
):
    response, _ = submit(donor)
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    stranger = requests.get(f"{donor.base}/donate/thanks?session_id={session_id}")
    assert stranger.status_code == 200
    assert "Thank you!" in stranger.text and "£20.00</strong> raised" in stranger.text
    assert "Fiona" not in stranger.text and "fiona@example.org" not in stranger.text
    mine = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}")
    assert "Thank you, Fiona Campbell!" in mine.text and "fiona@example.org" in mine.text


def test_the_thanks_and_the_receipt_say_the_gift_the_fee_covered_and_the_total(
    donor, stripe_sandbox, event, smtp
):
    response, _ = submit(donor, amount_preset="other", other_amount="15", cover_fee="y")
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    [donation], _ = state(event)
    assert (donation.amount_pence, donation.fee_cover_pence) == (1500, 44)
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}").text
    said = re.sub(r"<[^>]+>", " ", thanks)
    assert re.search(r"Your gift\s+£15\.00", said)
    assert re.search(r"Card fee you covered\s+£0\.44", said)
    assert re.search(r"Total charged\s+£15\.44", said)
    [receipt] = smtp.wait_for("fiona@example.org")
    text = receipt.get_body(("plain",)).get_content()
    assert "Your gift: £15.00" in text
    assert "Card fee you covered: £0.44" in text
    assert "Total charged: £15.44" in text


def test_the_checkout_lines_read_as_a_person_would_write_them(donor, stripe_sandbox, make):
    make.participant()
    response, _ = submit(donor, "/donate/aisha", cover_fee="y")
    [create] = [e for e in stripe_sandbox.requests if e["path"] == "/v1/checkout/sessions"]
    names = [line["price_data"]["product_data"]["name"] for line in create["params"]["line_items"]]
    assert names == ["Sponsoring Aisha Rahman for Carers Voice", "Card fee, covered by you"]
    assert response.status_code == 303


def test_the_longest_checkout_line_names_fit_stripes_schema(event):
    from app import payments
    from app.models import SponsorPage, User

    with event.test_request_context():
        page = SponsorPage(slug="a" * 40, participant=User(name="N" * 100))
        donation = Donation(id=7, amount_pence=1000, fee_cover_pence=36, sponsor_page=page)
        donation.donor_email = "a@b.co"
        the_event = event_obj(event)
        the_event.charity_name, the_event.name = "C" * 160, "E" * 120
        for gift in (donation, Donation(id=8, amount_pence=1000, fee_cover_pence=0)):
            params = payments.checkout_params(gift, the_event, "http://x/s", "http://x/c")
            params["customer_email"] = "a@b.co"
            assert_valid_request("POST /v1/checkout/sessions", params)


def test_with_gift_aid_the_thanks_and_receipt_say_what_the_claim_adds_fee_cover_included(
    donor, stripe_sandbox, event, smtp
):
    response, _ = submit(donor, amount_preset="other", other_amount="15", cover_fee="y", **GIFT_AID)
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    # Gift Aid on £15.44, everything the donor gave the charity: £3.86.
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}").text
    assert "plus £3.86 Gift Aid" in thanks
    [receipt] = smtp.wait_for("fiona@example.org")
    text = receipt.get_body(("plain",)).get_content()
    assert "This adds £3.86 (25% of your gift and the card fee you covered)" in text
    with event.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).gift_aid_pence == 386
