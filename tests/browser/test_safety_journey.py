"""The safety journey in a real browser: a participant fills in the checklist section by
section (with a mistake first), an organiser signs everything off on the board, and the
participant sees "Cleared to take part". axe-core checks every page on the way. Then the same
sign-off by keyboard alone, and with JavaScript turned off."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import ItemKind, User
from app.safety import checklist
from tests.accounts import PASSWORD, AuthActions
from tests.browser.keyboard import tab_to
from tests.safety.helpers import answer, on_the_day, section_data

pytestmark = pytest.mark.browser


def _log_in(tab, base: str, email: str) -> None:
    tab.goto(base + "/auth/login")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    # Participants land on their home, organisers on the dashboard.
    expect(tab.get_by_role("heading", level=1)).to_contain_text(
        re.compile("Hello|Organiser dashboard")
    )


@pytest.fixture
def items(make):
    """Aisha and an organiser, and the checklist's item ids by label."""
    make.participant()
    make.user()
    with make.app.app_context():
        checklist.ensure_checklist()
        db.session.commit()
        return {item.label: item.id for item in checklist.items()}


def test_complete_sign_off_and_be_cleared(live_server, page, chromium, axe, make, items):
    _log_in(page, live_server, "aisha@example.org")
    page.get_by_role("link", name="My safety checklist").click()
    expect(page.get_by_role("heading", name="Your safety checklist")).to_be_visible()
    expect(page.locator("#safety-overview")).to_contain_text("0 of 6 done.")
    assert axe(page) == []

    def section(label):
        return page.locator(f"#item-{items[label]}")

    # A mistake first: the error comes back beside the field, without a reload.
    contact = section("Emergency contact")
    contact.get_by_label("Their phone number").fill("call me")
    contact.get_by_role("button", name="Save Emergency contact").click()
    expect(page.locator(f"#item-{items['Emergency contact']}-name-error")).to_contain_text(
        "Enter your emergency contact"
    )
    expect(contact.get_by_role("alert")).to_contain_text("There is a problem")
    expect(contact.get_by_label("Their phone number")).to_have_attribute("aria-invalid", "true")
    assert axe(page) == []  # the checklist with errors

    contact.get_by_label("Their name").fill("Sam Rahman")
    contact.get_by_label("Their relationship to you").fill("brother")
    contact.get_by_label("Their phone number").fill("07700 900123")
    contact.get_by_role("button", name="Save Emergency contact").click()
    expect(contact.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator("#safety-overview")).to_contain_text("1 of 6 done.")

    dob = section("Your date of birth")
    dob.get_by_label("Date of birth").fill("1995-06-01")
    dob.get_by_role("button", name="Save Your date of birth").click()
    expect(dob.get_by_role("status")).to_contain_text("Saved.")

    medical = section("Medical declaration")
    medical.get_by_label("None of these apply to me").check()
    medical.get_by_label("I consent to the organisers using this health information").check()
    medical.get_by_role("button", name="Save Medical declaration").click()
    expect(medical.get_by_role("status")).to_contain_text("Saved.")

    weight = section("Weight")
    weight.get_by_label("Yes", exact=True).check()
    weight.get_by_role("button", name="Save Weight").click()
    expect(weight.get_by_role("status")).to_contain_text("Saved.")

    for label in ("Risks of taking part", "The event's terms"):
        part = section(label)
        part.get_by_label("I have read this and I agree").check()
        part.get_by_role("button", name=f"Save {label}").click()
        expect(part.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator("#safety-overview")).to_contain_text("6 of 6 done.")
    expect(page.locator("#safety-overview")).to_contain_text("Not cleared to take part yet.")

    # An organiser signs everything off in place on the board.
    organiser = chromium.new_context(locale="en-GB", timezone_id="Europe/London")
    board = organiser.new_page()
    _log_in(board, live_server, "sandra@example.org")
    board.get_by_role("link", name="Safety board").click()
    expect(board.get_by_role("heading", name="Safety board")).to_be_visible()
    assert axe(board) == []
    row = board.locator("tr", has=board.get_by_role("link", name="Aisha Rahman"))
    to_sign = row.locator("summary", has_text="Sign off")
    # Months before the event: the briefing, kit and harness wait for the day.
    expect(board.locator("#on-the-day-window")).to_contain_text("on the day only")
    expect(row.get_by_text("On the day only")).to_have_count(3)
    assert to_sign.count() == 8
    with on_the_day(make.app):
        board.reload()
        remaining = to_sign.count()
        assert remaining == 11
        while remaining:
            to_sign.first.click()
            row.locator("details[open] button").click()
            remaining -= 1
            expect(to_sign).to_have_count(remaining)
        expect(row.get_by_text("Cleared", exact=True)).to_be_visible()
        assert axe(board) == []
    organiser.close()

    page.reload()
    expect(page.locator("#safety-overview")).to_contain_text("Cleared to take part.")
    page.get_by_role("link", name="My page").click()
    expect(page.locator("#safety")).to_contain_text("Cleared to take part.")


def _emergency_contact_answered(make, items) -> None:
    """Aisha has saved her emergency contact (through the form, as her browser would)."""
    auth = AuthActions(make.app.test_client())
    assert auth.login(email="aisha@example.org").status_code == 303
    item = items["Emergency contact"]
    assert answer(auth, item, section_data(ItemKind.EMERGENCY_CONTACT)).status_code == 303


def test_an_organiser_signs_off_with_the_keyboard_alone(live_server, page, make, items):
    _emergency_contact_answered(make, items)
    _log_in(page, live_server, "sandra@example.org")
    page.goto(live_server + "/safety/board")
    cell = page.locator(f"#cell-{_aisha(make)}-{items['Emergency contact']}")
    sign_off = cell.locator("summary", has_text="Sign off Emergency contact for Aisha Rahman")
    tab_to(page, sign_off, limit=80)
    page.keyboard.press("Enter")  # opens the sign-off form under it
    note = cell.get_by_label("Note (optional)")
    tab_to(page, note)
    page.keyboard.type("Rang Sam to check the number")
    page.keyboard.press("Tab")
    expect(cell.get_by_role("button", name="Sign off Emergency contact")).to_be_focused()
    page.keyboard.press("Enter")

    expect(cell).to_contain_text("Signed off by Sandra")
    expect(page.locator("#announcer")).to_have_text(
        "Emergency contact signed off for Aisha Rahman."
    )
    # Focus stays where the keyboard user was: on this item, now offering to revoke it.
    expect(cell.locator("summary", has_text="Revoke Emergency contact")).to_be_focused()


def test_answering_and_signing_off_without_javascript(live_server, chromium, make, items):
    participant = chromium.new_context(java_script_enabled=False).new_page()
    _log_in(participant, live_server, "aisha@example.org")
    participant.get_by_role("link", name="My safety checklist").click()
    section = participant.locator(f"#item-{items['Emergency contact']}")
    section.get_by_label("Their name").fill("Sam Rahman")
    section.get_by_label("Their relationship to you").fill("brother")
    section.get_by_label("Their phone number").fill("07700 900123")
    section.get_by_role("button", name="Save Emergency contact").click()
    expect(participant.get_by_text("Saved: Emergency contact.")).to_be_visible()
    expect(section.get_by_label("Their name")).to_have_value("Sam Rahman")

    organiser = chromium.new_context(java_script_enabled=False).new_page()
    _log_in(organiser, live_server, "sandra@example.org")
    organiser.get_by_role("link", name="Safety board").click()
    cell = organiser.locator(f"#cell-{_aisha(make)}-{items['Emergency contact']}")
    cell.locator("summary", has_text="Sign off").click()  # <details> opens without script
    cell.get_by_label("Note (optional)").fill("Rang Sam to check the number")
    cell.get_by_role("button", name="Sign off Emergency contact").click()
    expect(organiser.get_by_text("Emergency contact signed off for Aisha Rahman.")).to_be_visible()
    expect(cell).to_contain_text("Signed off by Sandra")
    expect(cell).to_contain_text("Rang Sam to check the number")

    participant.reload()
    expect(section.get_by_role("heading")).to_contain_text("Done and signed off")


def _aisha(make) -> int:
    with make.app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(email="aisha@example.org"))


def test_a_sign_off_sent_after_the_day_is_refused_in_place(live_server, page, make, items):
    """A board left open from the event day: the refusal shows in the row, and is read out."""
    _emergency_contact_answered(make, items)
    _log_in(page, live_server, "sandra@example.org")
    with on_the_day(make.app):
        page.goto(live_server + "/safety/board")
        cell = page.locator(f"#cell-{_aisha(make)}-{items['Kit checked']}")
        cell.locator("summary", has_text="Sign off").click()
    cell.get_by_role("button", name="Sign off Kit checked").click()  # the day has passed
    expect(cell.locator(".error-message")).to_contain_text(
        "On-the-day items are signed off on the day only"
    )
    expect(cell).not_to_contain_text("Signed off by")
