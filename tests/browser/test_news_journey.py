"""News on the day in real browsers: an organiser posts an update with a photo in one, and a
visitor's open event page shows it within 10 seconds, without a reload; both pages axe-clean."""

import pytest
from playwright.sync_api import expect

from tests.accounts import PASSWORD
from tests.test_news import jpeg

pytestmark = pytest.mark.browser


def test_an_organisers_news_reaches_an_open_event_page(live_server, chromium, page, make, axe):
    make.user()
    page.goto(live_server + "/")
    feed = page.locator(".live-news")
    expect(feed).to_contain_text("No news yet")
    latest = page.locator("#news-latest")
    expect(latest).to_have_attribute("aria-live", "polite")
    page.evaluate("window.__notReloaded = true")

    context = chromium.new_context()
    organiser = context.new_page()
    organiser.goto(live_server + "/auth/login")
    organiser.get_by_label("Email address").fill("sandra@example.org")
    organiser.get_by_label("Password").fill(PASSWORD)
    organiser.get_by_role("button", name="Log in").click()
    organiser.get_by_role("navigation", name="Organiser").get_by_role(
        "link", name="News on the day"
    ).click()
    expect(organiser.get_by_role("heading", name="News on the day", level=1)).to_be_visible()
    organiser.get_by_label("What's happening?").fill("Aisha is over the edge! 🎉 <b>go</b>")
    organiser.get_by_label("Photo (optional)").set_input_files(
        files=[{"name": "edge.jpg", "mimeType": "image/jpeg", "buffer": jpeg().getvalue()}]
    )
    organiser.get_by_label("Describe the photo").fill("Aisha at the top of the tower")
    organiser.get_by_role("button", name="Post the news").click()
    expect(organiser.get_by_text("Your news is on the event page.")).to_be_visible()
    assert axe(organiser) == []
    context.close()

    expect(feed.locator(".news-body")).to_have_text(
        "Aisha is over the edge! 🎉 <b>go</b>", timeout=10_000
    )
    expect(feed.get_by_role("img", name="Aisha at the top of the tower")).to_be_visible()
    # A screen reader hears the new item alone, from the live region that was there all along.
    expect(latest).to_have_text("Latest news: Aisha is over the edge! 🎉 <b>go</b>")
    expect(page.locator("#news-latest")).to_have_count(1)
    assert page.evaluate("window.__notReloaded") is True
    assert axe(page) == []
