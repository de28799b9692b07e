"""The hosted checkout page: a plain HTML form where the test cards behave as on Stripe."""

import re

import pytest
import requests

SUCCESS = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
AUTH_FAILED = (
    "We are unable to authenticate your payment method. "
    "Please choose a different payment method and try again."
)


def card_form(number: str, **fields) -> dict:
    """What a donor types: the card, any future expiry and CVC, a name and an email."""
    form = {
        "card_number": number,
        "expiry": "12 / 34",
        "cvc": "1234" if number.startswith("3") else "123",
        "name": "Fiona Campbell",
        "email": "fiona@example.org",
    }
    form.update(fields)
    return form


def submit(session, number: str, **fields) -> requests.Response:
    """POST the card form, as a browser without JavaScript does."""
    return requests.post(session.url, data=card_form(number, **fields), allow_redirects=False)


def text(response: requests.Response) -> str:
    """The page's HTML with entities for apostrophes decoded."""
    return response.text.replace("&#39;", "'").replace("&#34;", '"')


def test_page_shows_test_mode_amount_and_labelled_fields(new_session):
    session = new_session()

    page = requests.get(session.url)

    assert page.status_code == 200
    assert "TEST MODE" in page.text
    assert "£10.00" in page.text
    assert "Donation to Aisha's abseil" in text(page)
    for field, label in [
        ("card_number", "Card number"),
        ("expiry", "Expiry date"),
        ("cvc", "Security code (CVC)"),
        ("name", "Name on card"),
        ("email", "Email address"),
    ]:
        assert f'<label for="{field}">{label}</label>' in page.text
        assert f'id="{field}" name="{field}"' in page.text
    assert 'value="fiona@example.org"' in page.text
    assert "<script" not in page.text
    assert f'<a href="{session.cancel_url}">Back</a>' in page.text


def test_success_redirects_to_success_url_with_the_session_id(client, new_session):
    session = new_session()

    response = submit(session, SUCCESS)

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"http://127.0.0.1:5000/donations/42/thanks?session_id={session.id}"
    )
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details.name == "Fiona Campbell"


@pytest.mark.parametrize(
    ("number", "message", "field"),
    [
        ("4000000000000002", "Your card was declined.", None),
        ("4000000000009995", "Your card has insufficient funds.", None),
        ("4000000000009987", "Your card was declined.", None),
        ("4000000000009979", "Your card was declined.", None),
        ("4000000000000069", "Your card has expired.", "expiry"),
        ("4000000000000127", "Your card's security code is incorrect.", "cvc"),
        (
            "4000000000000119",
            "An error occurred while processing your card. Try again in a little bit.",
            None,
        ),
    ],
)
def test_declined_cards_show_stripes_message_and_keep_the_session_open(
    client, new_session, number, message, field
):
    session = new_session()

    response = submit(session, number)

    assert response.status_code == 402
    assert message in text(response)
    assert 'role="alert"' in response.text
    if field:
        assert f'id="{field}-error"' in response.text
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text, re.S)
    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert again.status == "open"
    assert again.payment_intent.status == "requires_payment_method"
    assert again.payment_intent.last_payment_error.message == message


def test_donor_can_retry_after_a_decline(client, new_session):
    session = new_session()
    declined = submit(session, "4000000000000002")
    assert "Your card was declined." in declined.text
    assert 'value="4000000000000002"' in declined.text

    response = submit(session, SUCCESS)

    assert response.status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_unknown_card_number_is_incorrect(new_session):
    response = submit(new_session(), "4111111111111111")

    assert response.status_code == 422
    assert "Your card number is incorrect." in response.text
    assert re.search(r'id="card_number"[^>]*aria-invalid="true"', response.text, re.S)
    assert 'aria-describedby="card_number-hint card_number-error"' in response.text
    assert '<a href="#card_number">Your card number is incorrect.</a>' in response.text


def test_empty_fields_each_get_an_error_tied_to_the_field(new_session):
    response = requests.post(new_session(customer_email=None).url, data={}, allow_redirects=False)

    assert response.status_code == 422
    page = text(response)
    for field, message in [
        ("card_number", "Your card number is incomplete."),
        ("expiry", "Your card's expiration date is incomplete."),
        ("cvc", "Your card's security code is incomplete."),
        ("name", "Enter the name on your card."),
        ("email", "Your email address is incomplete."),
    ]:
        assert f'<a href="#{field}">{message}</a>' in page
        assert f'id="{field}-error"' in page
    assert "Error: Donate £10.00" in page


def test_expiry_in_the_past_is_refused(new_session):
    response = submit(new_session(), SUCCESS, expiry="01 / 20")

    assert response.status_code == 422
    assert "Your card's expiration year is in the past." in text(response)


def test_three_d_secure_pass_then_paid(client, new_session):
    session = new_session()

    response = submit(session, THREE_D_SECURE)
    assert response.status_code == 303
    challenge = requests.get(session.url + "/authenticate")
    assert "TEST MODE" in challenge.text
    assert "Complete authentication" in challenge.text
    assert "Fail authentication" in challenge.text
    assert "ending 3184" in challenge.text
    assert client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    ).payment_intent.status == ("requires_action")

    done = requests.post(
        session.url + "/authenticate", data={"outcome": "complete"}, allow_redirects=False
    )

    assert done.status_code == 303
    assert session.id in done.headers["Location"]
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_three_d_secure_fail_goes_back_to_the_form(client, new_session):
    session = new_session()
    assert submit(session, "4000000000003220").headers["Location"].endswith("/authenticate")

    failed = requests.post(
        session.url + "/authenticate", data={"outcome": "fail"}, allow_redirects=False
    )

    assert failed.status_code == 402
    assert text(failed).count(AUTH_FAILED) == 1
    assert "Try again, or use another card" not in failed.text  # Stripe's message, once
    assert f'action="/checkout/{session.id}"' in failed.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert submit(session, SUCCESS).status_code == 303


def test_three_d_secure_card_declined_after_authentication(new_session):
    session = new_session()
    submit(session, "4000008260003178")

    response = requests.post(
        session.url + "/authenticate", data={"outcome": "complete"}, allow_redirects=False
    )

    assert response.status_code == 402
    assert "Your card has insufficient funds." in response.text


def test_challenge_page_without_a_pending_payment_goes_back_to_the_form(new_session):
    session = new_session()

    response = requests.get(session.url + "/authenticate", allow_redirects=False)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/checkout/{session.id}")


def test_paid_and_expired_sessions_cannot_be_paid_again(client, new_session):
    paid, expired = new_session(), new_session()
    submit(paid, SUCCESS)
    client.v1.checkout.sessions.expire(expired.id)

    again = submit(paid, SUCCESS)
    gone = requests.get(expired.url)

    assert again.status_code == 200
    assert "This payment is complete" in again.text
    assert gone.status_code == 410
    assert "This checkout session has expired" in gone.text
    assert expired.cancel_url in gone.text


def test_unknown_session_page_is_404(sandbox):
    assert requests.get(f"{sandbox.url}/checkout/cs_test_nope").status_code == 404


def test_amex_needs_a_four_digit_cvc(new_session):
    response = submit(new_session(), "378282246310005", cvc="123")

    assert response.status_code == 422
    assert "Your card's security code is incomplete." in text(response)


def test_the_hosted_page_has_a_favicon(new_session):
    page = requests.get(new_session().url)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)[1]
    base = page.url.split("/checkout/")[0]
    for path in (icon, "/favicon.ico"):
        response = requests.get(base + path)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert response.text.startswith("<svg")
