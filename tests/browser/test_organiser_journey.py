"""An organiser in a real browser: log in, record cash (after a form with errors), confirm a
participant's cash, refund a card donation through the Stripe sandbox, start a Gift Aid claim
and download its schedule. The dashboard, a form with errors and the claims pages are
axe-clean."""

import re
from datetime import datetime

import pytest
import requests
from playwright.sync_api import expect

from app.extensions import db
from app.models import EVENT_SCOPE, Donation, Totals
from app.timefmt import LONDON
from tests import hmrc_reader
from tests.accounts import PASSWORD, AuthActions
from tests.test_checkout import pay, session_id_of, submit
from tests.test_donations import GIFT_AID

pytestmark = pytest.mark.browser


@pytest.fixture
def ready(make, live_server, stripe_sandbox, event):
    """An organiser, Aisha's page with £30 of cash she reported, and a £50 card donation."""
    make.user()
    make.participant()
    aisha = AuthActions(event.test_client())
    aisha.login("aisha@example.org")
    aisha.post("/me/cash", {"cash-amount": "30", "cash-note": "In an envelope"}, prefix="cash")
    donor = requests.Session()
    donor.base = live_server
    response, _ = submit(donor, amount_preset="5000", **GIFT_AID)
    pay(stripe_sandbox, session_id_of(response))
    with event.app_context():
        return db.session.query(Donation).filter_by(source="online").one().id


def raised(app) -> int:
    with app.app_context():
        return db.session.get(Totals, EVENT_SCOPE).raised_pence


def test_an_organisers_day(ready, live_server, stripe_sandbox, page, axe, event, tmp_path):
    card_donation = ready
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("sandra@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Organiser dashboard").click()
    expect(page.get_by_role("heading", name="Organiser dashboard")).to_be_visible()
    expect(page.locator("#figure-raised")).to_have_text("£50.00")
    assert axe(page) == []

    # Record cash: a mistake first, explained beside the field.
    nav = page.get_by_role("navigation", name="Organiser")
    nav.get_by_role("link", name="Record cash or cheques").click()
    page.get_by_role("button", name="Record it").click()
    expect(page.locator("#amount-error")).to_contain_text("Enter an amount in pounds")
    expect(page.get_by_label("Amount, in pounds")).to_have_attribute("aria-invalid", "true")
    assert axe(page) == []
    page.get_by_label("Who is it for?").select_option(label="Aisha Rahman")
    page.get_by_label("Amount, in pounds").fill("25")
    page.get_by_label("Donor's name (optional)").fill("Bake sale")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_text("Recorded £25.00. It counts now.")).to_be_visible()
    assert raised(event) == 7500

    # Confirm Aisha's reported cash from the dashboard (htmx swaps the list and the totals).
    nav.get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Confirm £30.00 from Aisha Rahman").click()
    expect(page.get_by_text("No cash is waiting for confirmation.")).to_be_visible()
    expect(page.locator("#figure-offline")).to_have_text("£55.00", timeout=10_000)
    expect(page.locator("#figure-raised")).to_have_text("£105.00")

    # Refund £20 of the card donation: the total follows the refund Stripe says succeeded.
    nav.get_by_role("link", name="Donations").click()
    page.get_by_label("Search names, email addresses and messages").fill("Fiona")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"#{card_donation}").click()
    page.get_by_label("Amount to refund, in pounds").fill("20")
    page.get_by_label("Reason (optional, for the history)").fill("Gave twice by mistake")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Refunded £20.00")).to_be_visible()  # Stripe's answer: succeeded
    assert stripe_sandbox.wait_for_webhooks(10)
    assert raised(event) == 8500
    page.reload()
    expect(page.locator("#donation-refunded")).to_have_text("£20.00")
    expect(page.locator("#donation-status")).to_have_text("Paid, partly refunded")

    # Start a Gift Aid claim for today and download it: Fiona's donation, claimed on the £30 kept.
    nav.get_by_role("link", name="Gift Aid claims").click()
    today = datetime.now(LONDON).date().isoformat()
    page.get_by_label("First day").fill(today)
    page.get_by_label("Last day").fill(today)
    page.get_by_role("button", name="Show what the claim would hold").click()
    expect(page.locator("#claim-preview")).to_contain_text("1 donation, £30.00 claimed on")
    assert axe(page) == []
    page.get_by_role("button", name=re.compile(r"^Start a claim for ")).click()
    expect(page.get_by_text("Started, not yet submitted")).to_be_visible()
    assert axe(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the claim (ODS spreadsheet)").click()
    download = download_info.value
    assert re.fullmatch(r"gift-aid-claim-\d+\.ods", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    schedule = hmrc_reader.read(saved.read_bytes())  # HMRC's template, read as HMRC reads it
    assert schedule.problems == []
    [line] = [list(line.values()) for line in schedule.lines]
    assert line[:6] == ["1", "Ms", "Fiona", "O'Neill Campbell", "12", "G12 8QQ"]
    assert line[7] == "" and line[9] == "30.00"  # an individual donation: Sponsored event blank

    # Submitted in Charities Online today: recorded on the claim, which is then claimed.
    page.get_by_label("Submitted to HMRC on").fill(today)
    page.get_by_role("button", name=re.compile(r"^Mark claim #\d+ submitted$")).click()
    expect(page.locator("#claim-status")).to_have_text(re.compile(r"^Submitted to HMRC on "))
