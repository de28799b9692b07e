"""People's data pages in a real browser, with axe-core: an organiser finds a person, reviews
and tries an erasure; a participant opens the delete-account page and sends it empty."""

import pytest
from playwright.sync_api import expect

from tests.accounts import PASSWORD
from tests.browser.test_accessibility import browse, world  # noqa: F401 - the fixtures

pytestmark = pytest.mark.browser


def _problem(tab):
    expect(tab.get_by_role("heading", name="There is a problem")).to_be_visible()


def test_an_organiser_finds_reviews_and_erases_with_no_violations(live_server, world, browse, axe):  # noqa: F811
    tab = browse("organiser", world)
    found = {}
    # These pages show donors' details: the password is asked for again in a new browser.
    tab.goto(live_server + "/auth/confirm-password?next=/organiser/privacy")
    tab.get_by_label("Your password").fill(PASSWORD)
    tab.get_by_role("button", name="Confirm and continue").click()
    expect(tab.get_by_role("heading", name="People's data")).to_be_visible()
    found["find"] = axe(tab)
    tab.get_by_role("button", name="Find everything held").click()
    _problem(tab)
    found["find, errors"] = axe(tab)
    tab.get_by_label("Email address").fill("AISHA@example.org")
    tab.get_by_role("button", name="Find everything held").click()
    expect(tab.get_by_role("heading", name="What we hold about aisha@example.org")).to_be_visible()
    found["person"] = axe(tab)
    tab.get_by_role("button", name="Erase this person’s details…").click()
    expect(tab.get_by_role("heading", name="What is kept, and why")).to_be_visible()
    found["erase screen"] = axe(tab)
    tab.get_by_role("button", name="Erase now").click()
    _problem(tab)
    found["erase screen, errors"] = axe(tab)
    tab.get_by_label("Why (for example: their request, and the date)").fill("Her request")
    tab.get_by_label("I have checked this is the right person").check()
    tab.get_by_role("button", name="Erase now").click()
    expect(tab.get_by_role("heading", name="Erased", exact=True)).to_be_visible()
    found["erased"] = axe(tab)
    assert {name: v for name, v in found.items() if v} == {}


def test_the_delete_account_page_has_no_violations(live_server, world, browse, axe):  # noqa: F811
    tab = browse("participant", world)
    tab.goto(live_server + "/me")
    tab.get_by_role("link", name="Delete your account").click()
    expect(tab.get_by_role("heading", name="Delete your account")).to_be_visible()
    found = {"delete account": axe(tab)}
    tab.get_by_role("button", name="Delete my account").click()
    _problem(tab)
    found["delete account, errors"] = axe(tab)
    assert {name: v for name, v in found.items() if v} == {}
