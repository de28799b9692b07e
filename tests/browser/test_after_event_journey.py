"""The message after the event in a real browser: written, previewed, sent, and the counts
move without a reload until every copy has gone; the page and the unsubscribe page are
axe-clean, and unsubscribing works without logging in."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.mailing import consent
from tests.accounts import PASSWORD

pytestmark = pytest.mark.browser


def test_an_organiser_tells_everyone_how_it_went(make, live_server, page, axe, event, smtp):
    make.user()
    make.participant()
    donors = [f"donor{n}@example.org" for n in range(3)]
    for email in donors:
        make.donation(1000, donor_email=email)
    with event.app_context():
        for email in donors:
            consent.record(email, "event_news", True, wording_version="tick-2026-1", source="t")
        db.session.commit()
    event.config["MAIL_BULK_PER_SECOND"] = 2

    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("sandra@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server + "/organiser/after-event")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator("#subject-error")).to_contain_text("Enter a subject")
    assert axe(page) == []
    page.get_by_label("Subject").fill("We did it")
    page.get_by_label("Your message").fill("Thank you all. <b>Seventy metres!</b>")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator(".email-preview")).to_contain_text("<b>Seventy metres!</b>")
    expect(page.locator(".email-preview")).to_contain_text("Together we raised £30.00")
    assert axe(page) == []
    page.get_by_role("button", name=re.compile("Send a test")).click()
    expect(page.locator(".flash-success")).to_contain_text("A test copy is on its way")
    smtp.wait_for("sandra@example.org")

    page.get_by_label("I have read the preview and sent myself a test").check()
    page.get_by_role("button", name="Send to 4 people").click()
    # The counts move while the page stays open (htmx polling), to the end.
    expect(page.locator("#after-event-status")).to_contain_text(
        "Every copy has gone: 4 sent.", timeout=20_000
    )
    assert axe(page) == []
    for email in [*donors, "aisha@example.org"]:
        assert len(smtp.wait_for(email)) == 1

    # A donor follows the link in their email: no log-in.
    link = re.search(
        r"https?://\S+/mailing/unsubscribe/\S+", _text(smtp.to("donor0@example.org")[0])
    )
    page.context.clear_cookies()
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    assert axe(page) == []
    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert axe(page) == []
    with event.app_context():
        assert not consent.may_email("donor0@example.org", "event_news")


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()
