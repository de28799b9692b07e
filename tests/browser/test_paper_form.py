"""A returned paper sponsorship form typed in by an organiser in a real browser, from the
keyboard alone: 25 lines, Tab along each, Enter for the next (the grid grows past its first
10), each line checked as it is left, the running total against the money handed in. The grid
is axe-clean with errors showing."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import EVENT_SCOPE, Donation, SponsorPage, Totals
from app.paper import printing_service
from tests.accounts import PASSWORD

pytestmark = pytest.mark.browser

LINES = 25


@pytest.fixture
def reference(make, live_server, event) -> str:
    make.user()
    page_id = make.participant()
    with event.app_context():
        return printing_service.print_sheets(db.session.get(SponsorPage, page_id), 1)[0]


def line(n: int) -> list[str]:
    """Line n as typed: every third sponsor ticks Gift Aid, every fifth only promises."""
    promised = n % 5 == 0
    gift_aid = n % 3 == 0
    return [
        "Mr" if gift_aid else "",
        f"John{n}",
        "Smith",
        str(n) if gift_aid else "",
        "g12 8qq" if gift_aid else "",
        "10" if promised else "",
        "" if promised else "5",
        "",
        "tick" if gift_aid else "",
    ]


def test_a_sheet_of_25_lines_typed_from_the_keyboard(reference, live_server, page, axe, event):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("sandra@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server + "/paper/enter")
    page.get_by_label("Sheet reference").focus()
    page.keyboard.type(reference.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Sheet {reference}: Aisha Rahman")).to_be_visible()

    page.locator("#r-0-title").focus()
    for n in range(LINES):
        for column, value in enumerate(line(n)):
            if column == 8:
                if value:
                    page.keyboard.press("Space")
            elif value:
                page.keyboard.type(value)
            if column < 8:
                page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator(f"#r-{n + 1}-title")).to_be_focused()

    paid = sum(5 for n in range(LINES) if n % 5)
    expect(page.locator("#sheet-totals")).to_contain_text(f"{LINES} lines: £{paid}.00 paid")
    expect(page.locator("#sheet-totals")).to_contain_text("£50.00 promised")

    # A mistake, marked beside its field as the line is left, then put right.
    page.locator("#r-3-postcode").fill("nowhere")
    page.keyboard.press("Tab")
    expect(page.locator("#r-3-postcode-error")).to_contain_text("Enter a UK postcode")
    assert axe(page) == []
    page.locator("#r-3-postcode").fill("G12 8QQ")
    page.keyboard.press("Tab")
    expect(page.locator("#r-3-postcode-error")).to_be_empty()

    page.get_by_label("Money handed in with the sheet, in pounds").fill("95")
    page.keyboard.press("Tab")
    expect(page.locator("#sheet-totals")).to_contain_text("That is £5.00 less than the sheet")
    page.get_by_role("button", name="Save the sheet and count it").click()
    expect(page.get_by_text(f"Saved {LINES} lines: £{paid}.00 counted")).to_be_visible()
    with event.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).raised_pence == paid * 100
        gift_aided = db.session.query(Donation).filter_by(gift_aid=True).count()
        assert gift_aided == sum(1 for n in range(LINES) if n % 3 == 0 and n % 5)


def test_a_participant_prints_their_form_from_me(make, live_server, page, axe, event):
    make.participant()
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("aisha@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server + "/me")
    page.get_by_role("link", name="print your sponsorship form").click()
    page.get_by_label("How many sheets?").fill("2")
    page.get_by_label("Print as").select_option("html")
    page.get_by_role("button", name="Make my form").click()
    expect(page.locator(".paper-sheet")).to_have_count(2)
    expect(page.locator(".paper-sheet svg")).to_have_count(2)
    assert axe(page) == []
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Make my form")).to_be_hidden()


def test_a_captain_prints_the_teams_form_from_the_team_page(make, live_server, page, axe, event):
    from app.teams import service as teams

    page_id = make.participant()
    with event.app_context():
        teams.create_team(
            "Summit seekers", captain=db.session.get(SponsorPage, page_id), slug="summit"
        )
        db.session.commit()
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("aisha@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server + "/t/summit")
    page.get_by_role("link", name="Print the team's sponsorship form").click()
    page.get_by_label("How many sheets?").fill("1")
    page.get_by_label("Print as").select_option("html")
    page.get_by_role("button", name="Make the team's form").click()
    sheet = page.locator(".paper-sheet")
    expect(sheet).to_have_count(1)
    expect(sheet.locator(".paper-reference")).to_have_text(re.compile(r"^T-"))
    expect(sheet).to_contain_text("Sponsoring the team: Summit seekers")
    assert axe(page) == []
