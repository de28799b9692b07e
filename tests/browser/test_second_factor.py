"""An organiser's second factor in a real browser: set it up from the account page by the
keyboard alone, save the recovery codes, then log in with the password and the app's code.
Every page on the way is axe-clean, errors included."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.accounts import PASSWORD
from tests.browser.keyboard import tab_to

pytestmark = pytest.mark.browser
SLOW = 15_000  # password hashing is slow on purpose


def _log_in(tab, live_server):
    tab.goto(live_server + "/auth/login")
    tab.get_by_label("Email address").fill("sandra@example.org")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()


def test_setting_up_and_logging_in_with_a_second_factor(live_server, make, page, axe):
    make.user()
    _log_in(page, live_server)
    expect(page.get_by_role("heading", name="Organiser dashboard")).to_be_visible(timeout=SLOW)

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_role("link", name="Set up a second factor").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert axe(page) == []
    secret = page.locator("#secret-key").inner_text().replace(" ", "")

    tab_to(page, page.get_by_label("Enter the code the app now shows"))
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    assert axe(page) == []
    page.get_by_label("Enter the code the app now shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_role("heading", name=re.compile("save these codes"))).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    assert axe(page) == []

    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server)
    expect(page.get_by_role("heading", name="Enter the code from your app")).to_be_visible(
        timeout=SLOW
    )
    assert axe(page) == []
    page.get_by_label("Recovery code").fill("nope-nope-nope")
    page.get_by_role("button", name="Log in with a recovery code").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe(page) == []
    # A new code: the one that turned it on has been used.
    code = pyotp.TOTP(secret).at(time.time(), counter_offset=1)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Organiser dashboard")).to_be_visible(timeout=SLOW)
