"""Teams in a real browser: a participant starts a team, another joins it, a donor sponsors
a member from the team page, and the team's bar and the event's team leaderboard move live."""

import pytest
from playwright.sync_api import expect

from tests.accounts import PASSWORD
from tests.browser.test_donation_journey import pay_with

pytestmark = pytest.mark.browser

SLOW = 15_000  # password hashing is slow on purpose


def log_in(tab, base, email):
    tab.goto(base + "/auth/login")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("link", name="Account", exact=True)).to_be_visible(timeout=SLOW)


def test_start_join_and_sponsor_a_team_and_watch_it_move(
    live_server, stripe_sandbox, chromium, page, make, axe
):
    make.participant()
    make.participant("Callum MacLeod", "callum")

    # Aisha starts a team: a mistake first, beside the field.
    captain = page
    log_in(captain, live_server, "aisha@example.org")
    captain.goto(live_server + "/teams")
    captain.get_by_role("link", name="Start a team").click()
    captain.get_by_role("button", name="Start the team").click()
    expect(captain.locator("#name-error")).to_contain_text("Give your team a name")
    assert axe(captain) == []
    captain.get_by_label("Team name").fill("Summit seekers")
    captain.get_by_label("The team's target, in pounds").fill("500")
    captain.get_by_label("The team's story").fill("Friends from the group, roped together.")
    captain.get_by_role("button", name="Start the team").click()
    expect(captain.get_by_role("heading", name="Summit seekers", level=1)).to_be_visible()
    assert axe(captain) == []

    # Callum joins it.
    member = chromium.new_context(locale="en-GB").new_page()
    log_in(member, live_server, "callum@example.org")
    member.goto(live_server + "/t/summit-seekers")
    member.get_by_role("button", name="Join Summit seekers").click()
    expect(member.get_by_text("You're in Summit seekers.")).to_be_visible()
    members = member.locator("#team-members")
    expect(members).to_contain_text("Callum MacLeod")
    assert axe(member) == []

    # Someone watches the team page, someone else the event page.
    watcher = chromium.new_context(locale="en-GB").new_page()
    watcher.goto(live_server + "/t/summit-seekers")
    bar = watcher.locator(".progress .raised")
    expect(bar).to_have_text("£0.00")
    assert axe(watcher) == []
    crowd = chromium.new_context(locale="en-GB").new_page()
    crowd.goto(live_server + "/")
    board = crowd.locator("#team-leaderboard")
    expect(board).to_contain_text("Summit seekers")
    expect(board).to_contain_text("£0.00 of £500.00")
    assert axe(crowd) == []

    # A donor sponsors Callum from the team page.
    donor = chromium.new_context(locale="en-GB").new_page()
    donor.goto(live_server + "/t/summit-seekers")
    donor.get_by_role("link", name="Sponsor the team").click()
    assert axe(donor) == []
    donor.get_by_label("Callum MacLeod").check()
    donor.get_by_role("button", name="Continue").click()
    expect(donor.get_by_role("heading", name="Sponsor Callum MacLeod")).to_be_visible()
    donor.get_by_label("£10", exact=True).check()
    donor.get_by_label("Your name").fill("Fiona Campbell")
    donor.get_by_label("Your email address").fill("fiona@example.org")
    donor.get_by_role("button", name="Continue to secure payment").click()
    pay_with(donor, "4242 4242 4242 4242")
    expect(donor.get_by_role("heading", name="Thank you, Fiona Campbell!")).to_be_visible()

    # Both move without a reload.
    expect(bar).to_have_text("£10.00", timeout=10_000)
    expect(board).to_contain_text("£10.00 of £500.00", timeout=10_000)
    expect(watcher.locator(".progress .supporters")).to_have_text("1 supporter")
    assert axe(watcher) == []
    assert axe(crowd) == []
