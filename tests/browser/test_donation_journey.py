"""A donor in a real browser: the form, Stripe's (sandbox) checkout page, the thanks, the bar."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Donation

pytestmark = pytest.mark.browser


def fill_donation(tab, base, amount_label="£10", gift_aid=True):
    tab.goto(base + "/donate")
    tab.get_by_label(amount_label, exact=True).check()
    tab.get_by_label("Your name").fill("Fiona Campbell")
    tab.get_by_label("Your email address").fill("fiona@example.org")
    tab.get_by_label("A message of support (optional)").fill("Go on yersel!")
    if gift_aid:
        tab.get_by_label("Yes, add Gift Aid").check()
        tab.get_by_label("Title (optional)").fill("Ms")
        tab.get_by_label("First name").fill("Fiona")
        tab.get_by_label("Last name").fill("Campbell")
        tab.get_by_label("House name or number").fill("12")
        tab.get_by_label("Postcode").fill("g12 8qq")
        tab.get_by_label("I confirm").check()


def pay_with(tab, card):
    tab.get_by_label("Card number").fill(card)
    tab.get_by_label("Expiry").fill("12 / 34")
    tab.get_by_label("CVC").fill("123")
    tab.get_by_label("Name on card").fill("Fiona Campbell")
    tab.get_by_role("button", name="Donate").click()


def test_donate_ten_pounds_with_gift_aid_and_watch_the_bar_move(
    live_server, stripe_sandbox, chromium, page, smtp, axe
):
    watcher = page
    watcher.goto(live_server + "/")
    expect(watcher.locator("#progress-event .raised")).to_have_text("£0.00")

    donor = chromium.new_context(locale="en-GB").new_page()
    fill_donation(donor, live_server)
    assert axe(donor) == []  # the form with Gift Aid open
    donor.get_by_role("button", name="Continue to secure payment").click()
    expect(donor.get_by_text("TEST MODE").first).to_be_visible()
    pay_with(donor, "4242 4242 4242 4242")

    expect(donor.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()
    expect(donor.locator(".progress .raised")).to_have_text("£10.00")
    assert axe(donor) == []
    expect(watcher.locator("#progress-event .raised")).to_have_text("£10.00", timeout=10_000)
    expect(watcher.locator("#progress-event .gift-aid")).to_contain_text("£2.50 Gift Aid")
    assert stripe_sandbox.wait_for_webhooks(10)
    receipts = smtp.wait_for("fiona@example.org")
    assert len(receipts) == 1
    assert (
        "I want to Gift Aid my donation of £10.00" in receipts[0].get_body(("plain",)).get_content()
    )


def test_a_declined_card_says_why_and_a_retry_goes_through(live_server, stripe_sandbox, page):
    fill_donation(page, live_server, "£20", gift_aid=False)
    page.get_by_role("button", name="Continue to secure payment").click()
    pay_with(page, "4000 0000 0000 0002")
    expect(page.get_by_text("Your card was declined.").first).to_be_visible()
    pay_with(page, "4242 4242 4242 4242")
    expect(page.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()
    expect(page.locator(".progress .raised")).to_have_text("£20.00")


def test_a_3d_secure_card_is_challenged_then_paid(live_server, stripe_sandbox, page):
    fill_donation(page, live_server, "£50", gift_aid=False)
    page.get_by_role("button", name="Continue to secure payment").click()
    pay_with(page, "4000 0027 6000 3184")
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()
    expect(page.locator(".progress .raised")).to_have_text("£50.00")


def test_form_errors_are_tied_to_their_fields_and_accessible(live_server, page, axe):
    page.goto(live_server + "/donate")
    page.get_by_label("Another amount", exact=True).check()
    page.get_by_label("Another amount, in pounds").fill("0.50")
    page.get_by_role("button", name="Continue to secure payment").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    amount = page.get_by_label("Another amount, in pounds")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description("The smallest donation is £1.00.")
    assert axe(page) == []


def test_inline_checks_show_the_error_and_the_exact_fee_as_you_type(live_server, page):
    page.goto(live_server + "/donate")
    page.get_by_label("Another amount", exact=True).check()
    amount = page.get_by_label("Another amount, in pounds")
    amount.fill("100")
    amount.blur()
    expect(page.locator("#fee-note")).to_have_text("Covering the fee adds £1.73 to your gift.")
    amount.fill("0.2")
    amount.blur()
    expect(page.locator("#other_amount-error")).to_have_text("The smallest donation is £1.00.")
    # Marked invalid as it would be after sending the form, and unmarked once it is fixed.
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description("The smallest donation is £1.00.")
    amount.fill("5")
    amount.blur()
    expect(page.locator("#other_amount-error")).to_be_empty()
    expect(amount).not_to_have_attribute("aria-invalid", "true")


def test_an_error_from_sending_the_form_clears_as_the_donor_fixes_it(live_server, page):
    page.goto(live_server + "/donate")
    page.get_by_label("Your email address").fill("not an email")
    page.get_by_role("button", name="Continue to secure payment").click()
    email = page.get_by_label("Your email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    page.wait_for_load_state()  # htmx is listening (a person takes longer than a script to type)
    email.fill("fiona@example.org")
    email.blur()
    expect(page.locator("#donor_email-error")).to_be_empty()
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-invalid", has=email)).to_have_count(0)


def test_donating_works_without_javascript(live_server, stripe_sandbox, chromium):
    tab = chromium.new_context(java_script_enabled=False).new_page()
    fill_donation(tab, live_server, "£20")
    tab.get_by_role("button", name="Continue to secure payment").click()
    pay_with(tab, "4242 4242 4242 4242")
    expect(tab.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()


VIEWPORTS = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]


def fits_the_viewport(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "laptop"])
def test_another_amount_shows_only_when_it_is_chosen(live_server, page, viewport):
    page.set_viewport_size(viewport)
    page.goto(live_server + "/donate")
    typed = page.get_by_label("Another amount, in pounds")
    expect(page.get_by_label("£20", exact=True)).to_be_checked()
    expect(typed).to_be_hidden()
    page.get_by_label("Another amount", exact=True).check()
    expect(typed).to_be_visible()
    typed.fill("7.50")
    assert fits_the_viewport(page)
    page.get_by_label("£50", exact=True).check()
    expect(typed).to_be_hidden()
    assert fits_the_viewport(page)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "laptop"])
def test_another_amount_shows_once_chosen_and_works_without_javascript(
    live_server, stripe_sandbox, chromium, viewport
):
    # CSS alone shows the box (plunge.css, :has()), so it needs no script and nothing shifts.
    context = chromium.new_context(java_script_enabled=False, viewport=viewport)
    tab = context.new_page()
    fill_donation(tab, live_server, "£20", gift_aid=False)
    typed = tab.get_by_label("Another amount, in pounds")
    expect(typed).to_be_hidden()
    tab.get_by_label("Another amount", exact=True).check()
    expect(typed).to_be_visible()
    assert fits_the_viewport(tab)
    typed.fill("7.50")
    tab.get_by_role("button", name="Continue to secure payment").click()
    expect(tab.get_by_role("button", name="Donate £7.50")).to_be_visible()
    context.close()


def test_a_donor_sees_how_hmrc_will_read_their_name_as_they_type_and_pays_straight_on(
    live_server, stripe_sandbox, event, page, axe
):
    fill_donation(page, live_server)
    page.wait_for_load_state()  # htmx is listening
    page.get_by_label("Title (optional)").fill("Dr.")
    first_name = page.get_by_label("First name")
    first_name.fill("Łukasz")
    first_name.blur()
    expect(page.locator("#gift-aid-preview")).to_contain_text(
        "We'll send HMRC your name as: Dr Lukasz Campbell"
    )
    expect(first_name).to_have_accessible_description(re.compile("Dr Lukasz Campbell"))
    assert axe(page) == []
    # Seen as they typed: the button goes straight to payment, stored as HMRC will read it.
    page.get_by_role("button", name="Continue to secure payment").click()
    expect(page.get_by_text("TEST MODE").first).to_be_visible()
    with event.app_context():
        [donation] = db.session.query(Donation).all()
        assert (donation.gift_aid_title, donation.gift_aid_first_name) == ("Dr", "Lukasz")
