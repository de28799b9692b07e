"""The donation form: what a donor sees, and what bad input gets (a message, nothing sent)."""

import re

import pytest
from sqlalchemy import create_engine, text

from app.extensions import db
from app.models import Donation

GOOD = {
    "amount_preset": "2000",
    "donor_name": "Fiona Campbell",
    "donor_email": "fiona@example.org",
    "message": "Go Aisha!",
}
GIFT_AID = {
    "gift_aid": "y",
    "title": "Ms",
    "first_name": "Fiona",
    "last_name": "O'Neill-Campbell",
    "house": "12",
    "postcode": "g12 8qq",
    "gift_aid_confirm": "y",
}


@pytest.fixture
def no_csrf(event):
    event.config["WTF_CSRF_ENABLED"] = False
    return event


def errors(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'class="error-message" id="[\w-]+-error">([^<]+)<', html)


def donations(app) -> int:
    with app.app_context():
        return db.session.query(Donation).count()


def test_the_form_shows_presets_fees_gift_aid_and_where_the_money_goes(client, event):
    page = client.get("/donate").get_data(as_text=True)
    assert "Donate to Sponsored Abseil 2027" in page
    for preset in ("£10", "£20", "£50", "£100", "Another amount"):
        assert preset in page
    assert "1.5% + 20p" in page and "Plunge takes nothing" in page
    assert "Covering the fee adds £0.51 to your gift." in page  # £20 preset: (2000+20)/0.985
    assert "I want to Gift Aid my donation of £20.00" in page and "Carers Voice" in page
    assert "Travel and respite for the group." in page
    assert 'href="/privacy"' in page
    assert 'method="post"' in page and "hx-post" in page  # htmx only checks fields


def test_a_sponsor_page_form_names_the_participant(client, make):
    make.participant("Aisha Rahman", "aisha")
    page = client.get("/donate/aisha").get_data(as_text=True)
    assert "Sponsor Aisha Rahman" in page
    # Typed from a poster in capitals, as /p/ already allows.
    assert "Sponsor Aisha Rahman" in client.get("/donate/Aisha").text


def test_draft_pages_cannot_be_donated_to(client, make):
    make.participant("Draft Dora", "dora", published=False)
    assert client.get("/donate/dora").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount_preset": "other", "other_amount": "0.50"}, "The smallest donation is £1.00."),
        (
            {"amount_preset": "other", "other_amount": "10001"},
            "The largest donation online is £10,000.00",
        ),
        ({"amount_preset": "other", "other_amount": "ten pounds"}, "Enter an amount in pounds"),
        ({"amount_preset": "other", "other_amount": "10.001"}, "fractions of a penny"),
        ({"amount_preset": "other", "other_amount": "9" * 40}, "far too large"),
        ({"amount_preset": "other", "other_amount": ""}, "Enter an amount in pounds"),
        ({"amount_preset": "12345"}, "Choose an amount."),
        ({"donor_email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"donor_name": ""}, "Enter your name, for your receipt."),
        ({"message": "x" * 501}, "Keep your message to 500 characters."),
        (
            {**GIFT_AID, "postcode": "NOT A CODE"},
            "Enter a UK postcode, like G12 8QQ, or tick &#39;I live outside the UK&#39;.",
        ),
        ({**GIFT_AID, "first_name": ""}, "Enter your first name for Gift Aid."),
        ({**GIFT_AID, "house": ""}, "Enter your house name or number for Gift Aid."),
        ({**GIFT_AID, "gift_aid_confirm": ""}, "Tick to confirm, or untick Gift Aid."),
        ({**GIFT_AID, "last_name": "x" * 36}, "Use 35 characters or fewer (this is 36)."),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_recorded(client, no_csrf, fields, message):
    response = client.post("/donate", data={**GOOD, **fields})
    assert response.status_code == 422
    assert any(message in error for error in errors(response)), errors(response)
    assert "There is a problem" in response.get_data(as_text=True)
    assert donations(no_csrf) == 0


def test_what_the_donor_typed_is_kept_after_an_error(client, no_csrf):
    response = client.post("/donate", data={**GOOD, "donor_email": "nope", "message": "Go on!"})
    page = response.get_data(as_text=True)
    assert 'value="Fiona Campbell"' in page and "Go on!" in page


def test_the_form_needs_its_csrf_token(client, event):
    assert client.post("/donate", data=GOOD).status_code == 400
    assert donations(event) == 0


def test_inline_check_returns_the_error_for_the_changed_field(htmx_client, no_csrf):
    response = htmx_client.post(
        "/donate/check",
        data={**GOOD, "amount_preset": "other", "other_amount": "0.2"},
        headers={"X-Changed-Field": "other_amount"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#other_amount-error"
    assert "The smallest donation is £1.00." in response.get_data(as_text=True)


def test_inline_check_updates_the_exact_card_fee(htmx_client, no_csrf):
    response = htmx_client.post(
        "/donate/check",
        data={**GOOD, "amount_preset": "other", "other_amount": "100"},
        headers={"X-Changed-Field": "other_amount"},
    )
    body = response.get_data(as_text=True)
    assert 'id="fee-note" hx-swap-oob="innerHTML"' in body
    assert (
        "Covering the fee adds £1.73 to your gift." in body
    )  # (10000+20)/0.985 = 10172.6 -> £101.73
    assert body.partition("<span")[0] == ""  # no error: the slot is emptied


def test_inline_check_ignores_unknown_fields(htmx_client, no_csrf):
    response = htmx_client.post("/donate/check", data=GOOD, headers={"X-Changed-Field": "bogus"})
    assert response.status_code == 200
    assert response.headers["HX-Reswap"] == "none"


def test_closed_donations_say_so(client, no_csrf):
    from app.events.service import configure_event

    with no_csrf.app_context():
        configure_event(donations_open=False)
    response = client.post("/donate", data=GOOD)
    assert response.status_code == 409
    assert "Donations are closed" in response.get_data(as_text=True)
    assert donations(no_csrf) == 0


class _CheckoutSession:
    id = "cs_test_meanwhile"
    url = "http://127.0.0.1:9/checkout/cs_test_meanwhile"

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "amount_total": 2500,
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "created": 1_800_000_000,
            "metadata": {},
        }


def _meanwhile_another_process_writes(app) -> None:
    """Commit a write from another connection, as a webhook in another worker would."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE totals SET version = version + 1"))
    engine.dispose()


def _stored_session(app) -> str | None:
    with app.app_context():
        return db.session.scalar(db.select(Donation.stripe_session_id))


def test_a_write_elsewhere_while_the_form_is_checked_does_not_fail_the_donation(
    client, no_csrf, monkeypatch
):
    # On SQLite the request's reads had begun before the other write; its own write must not
    # then fail with "database is locked" (found by make bench-load: donors saw a 500).
    from app import payments
    from app.donations import service

    checked = service.new_form

    def new_form(*args, **kwargs):
        _meanwhile_another_process_writes(no_csrf)
        return checked(*args, **kwargs)

    monkeypatch.setattr(service, "new_form", new_form)
    monkeypatch.setattr(payments, "create_checkout_session", lambda *_: _CheckoutSession())
    response = client.post("/donate", data=GOOD)
    assert response.status_code == 303
    assert _stored_session(no_csrf) == _CheckoutSession.id


def test_a_write_elsewhere_during_the_call_to_stripe_does_not_fail_the_donation(
    client, no_csrf, monkeypatch
):
    from app import payments

    def create_checkout_session(*_args):
        _meanwhile_another_process_writes(no_csrf)
        return _CheckoutSession()

    monkeypatch.setattr(payments, "create_checkout_session", create_checkout_session)
    response = client.post("/donate", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == _CheckoutSession.url
    assert _stored_session(no_csrf) == _CheckoutSession.id


def _resume_link(app, donation_id: int) -> str:
    from app.donations.service import resume_token

    with app.test_request_context():
        return f"/donate/resume/{resume_token(db.session.get(Donation, donation_id))}"


def _later(monkeypatch, seconds: float) -> None:
    """Move the clock that checks signed links forward."""
    import time
    from types import SimpleNamespace

    import itsdangerous.timed

    now = time.time()
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: now + seconds))


PERSONAL = ("Fiona Campbell", "fiona@example.org", "12 Kelvin Way", "G12 8QQ")


def _gift_aid_donation(make, status) -> int:
    from app.models import DonationStatus

    return make.donation(
        2000,
        status=DonationStatus(status),
        donor_name="Fiona Campbell",
        gift_aid=True,
        gift_aid_first_name="Fiona",
        gift_aid_last_name="Campbell",
        gift_aid_house="12 Kelvin Way",
        gift_aid_postcode="G12 8QQ",
    )


@pytest.mark.parametrize("status", ["paid", "processing"])
def test_a_resume_link_after_paying_says_complete_and_shows_no_personal_data(client, make, status):
    link = _resume_link(make.app, _gift_aid_donation(make, status))
    response = client.get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This donation is complete, thank you" in html
    assert not [detail for detail in PERSONAL if detail in html]
    assert 'name="donor_name"' not in html


@pytest.mark.parametrize("status", ["pending", "expired"])
def test_a_resume_link_brings_back_an_unpaid_donation(client, make, status):
    response = client.get(_resume_link(make.app, _gift_aid_donation(make, status)))
    assert response.status_code == 200
    assert 'value="12 Kelvin Way"' in response.get_data(as_text=True)


def test_a_resume_link_expires_a_little_after_its_checkout_session(client, make, monkeypatch):
    from app import payments
    from app.donations.service import RESUME_LINK_LIFETIME

    assert payments.CHECKOUT_LIFETIME < RESUME_LINK_LIFETIME <= 2 * payments.CHECKOUT_LIFETIME
    link = _resume_link(make.app, _gift_aid_donation(make, "pending"))
    _later(monkeypatch, payments.CHECKOUT_LIFETIME.total_seconds() + 60)
    assert client.get(link).status_code == 200
    _later(monkeypatch, RESUME_LINK_LIFETIME.total_seconds() + 60)
    response = client.get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "This link has expired" in html and "nothing was charged" in html.lower()
    assert not [detail for detail in PERSONAL if detail in html]


def test_a_tampered_or_untimed_resume_link_is_a_clear_page(client, make):
    from itsdangerous import URLSafeSerializer

    donation_id = _gift_aid_donation(make, "pending")
    good = _resume_link(make.app, donation_id)
    untimed = URLSafeSerializer(make.app.secret_key, salt="resume-donation").dumps(donation_id)
    for link in (good[:-3] + "abc", f"/donate/resume/{untimed}", "/donate/resume/x.y.z"):
        response = client.get(link)
        assert response.status_code == 404
        assert "This link doesn't work" in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_resume_link_is_the_same_when_the_request_to_stripe_is_retried(make, monkeypatch):
    # It is part of the Checkout Session request, whose idempotency key is a digest of it.
    donation_id = _gift_aid_donation(make, "pending")
    first = _resume_link(make.app, donation_id)
    _later(monkeypatch, 5)
    assert _resume_link(make.app, donation_id) == first
