"""The event page in a real browser: the bar moves by itself when money comes in."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_bar_moves_when_a_donation_is_recorded_without_a_reload(live_server, page, make):
    page.goto(live_server + "/")
    raised = page.locator("#progress-event .raised")
    expect(raised).to_have_text("£0.00")
    page.evaluate("window.__notReloaded = true")

    make.donation(250_000, donor_name="Fiona")

    expect(raised).to_have_text("£2,500.00", timeout=10_000)
    expect(page.locator("#progress-event .supporters")).to_have_text("1 supporter")
    # Screen readers hear it: the new total lands inside a polite live region that was
    # there all along, and the bar's own value moved with it.
    region = page.locator(".live-progress")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region.locator("#progress-event .raised")).to_have_text("£2,500.00")
    bar = page.get_by_role("progressbar", name="Progress toward the target")
    expect(bar).to_have_attribute("aria-valuenow", "50")
    expect(bar).to_have_attribute("aria-valuetext", "50% of the target")
    assert page.evaluate("window.__notReloaded") is True


def test_unchanged_totals_are_not_swapped_again(live_server, page, make):
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if "/progress" in r.url else None)
    page.goto(live_server + "/")
    page.wait_for_timeout(2_500)
    assert statuses and set(statuses) == {304}


def test_event_page_has_no_accessibility_violations(live_server, page, make, axe):
    make.donation(1500, donor_name="Morag", message="Go on!")
    make.donation(2000, anonymous=True, hide_amount=True)
    page.goto(live_server + "/")
    assert axe(page) == []


def test_event_page_works_without_javascript(live_server, chromium, make):
    make.donation(4200)
    context = chromium.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(live_server + "/")
    expect(tab.locator("#progress-event .raised")).to_have_text("£42.00")
    context.close()


def test_skip_link_moves_focus_to_the_main_content(live_server, page):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
