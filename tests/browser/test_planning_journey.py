"""Planning together in a real browser: Sandra (an organiser, in Students) asks the groups
about something, Pat (a planner, in Service users and carers) and Sandra have their say, and
Sandra writes down what was decided. Then Sandra records a decision she took alone, it waits
"to report back" until both groups have had their say, and the meeting report says so (and
prints without the menus). axe-core checks every page on the way."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role, User
from app.planning import people
from tests.accounts import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def planners(make, live_server):
    """Sandra (organiser, Students), Pat (planner, carers), Sam (planner, Students)."""
    ids = {
        "sandra": make.user(),
        "pat": make.user("Pat Planner", "pat@example.org", role=Role.PLANNER),
        "sam": make.user("Sam Student", "sam@example.org", role=Role.PLANNER),
    }
    with make.app.app_context():
        carers = people.add_group("Service users and carers", "")
        students = people.add_group("Students", "")
        for name, group in (("sandra", students), ("pat", carers), ("sam", students)):
            people.set_groups(db.session.get(User, ids[name]), {group.id})
    return live_server


def _log_in(chromium, base: str, email: str):
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London")
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
        ),
    )
    tab.goto(base + "/auth/login")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text(
        re.compile("Planning the event together|Organiser dashboard")
    )
    tab.errors = errors
    return tab


def _go_to_planning(tab):
    tab.get_by_role("navigation", name="Your account").get_by_role("link", name="Planning").click()
    expect(tab.get_by_role("heading", name="Planning the event together")).to_be_visible()


def _say(tab, stance: str, words: str = ""):
    form = tab.locator("#say-form")
    form.get_by_label(stance).check()
    if words:
        form.get_by_label(re.compile("Your words")).fill(words)
    form.get_by_role("button", name="Save my say").click()
    expect(tab.locator("#decision-says").get_by_role("status")).to_contain_text("Your say is saved")


def test_propose_consult_both_groups_and_close(planners, chromium, axe):
    sandra = _log_in(chromium, planners, "sandra@example.org")
    _go_to_planning(sandra)
    assert axe(sandra) == []
    sandra.get_by_role("link", name="Ask the groups about something").click()
    # A mistake first: nothing typed.
    sandra.get_by_role("button", name="Ask every group").click()
    expect(sandra.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe(sandra) == []
    sandra.get_by_label("What do we need to decide?").fill("Where do we meet?")
    sandra.get_by_label("Why does it matter?").fill("We need a room with a lift.")
    sandra.get_by_label(re.compile("What could we do")).fill("The library\nThe union")
    sandra.get_by_label(re.compile("When do we need to decide by")).fill("2027-03-01")
    sandra.get_by_role("button", name="Ask every group").click()
    expect(sandra.get_by_text("Thank you. Every group has been asked.")).to_be_visible()
    expect(sandra.get_by_role("heading", name="Where do we meet?")).to_be_visible()
    _say(sandra, "I agree")  # htmx: the groups' says change in place
    students = sandra.locator(".group-says", has_text="Students")
    expect(students).to_contain_text("Sandra Organiser: Agrees.")
    carers = sandra.locator(".group-says", has_text="Service users and carers")
    expect(carers).to_contain_text("No one in this group has had their say yet.")
    expect(sandra.get_by_text("Not every group has had its say.")).to_be_visible()
    assert axe(sandra) == []

    pat = _log_in(chromium, planners, "pat@example.org")  # a planner lands on planning
    expect(pat.get_by_role("heading", name="Give your say")).to_be_visible()
    pat.get_by_role("link", name="Where do we meet?").click()
    _say(pat, "I am worried about it", "The union is loud.")
    expect(pat.locator(".group-says", has_text="Service users and carers")).to_contain_text(
        "Pat Planner: Is worried. The union is loud."
    )
    assert axe(pat) == []

    sandra.reload()
    expect(sandra.get_by_text("Not every group has had its say.")).to_have_count(0)
    sandra.get_by_label("What did we decide?").fill("We meet at the library.")
    sandra.get_by_label("Why?", exact=True).fill("It is quiet and has a lift.")
    sandra.get_by_label("Show this on the public page 'How we organised this'").check()
    sandra.get_by_role("button", name="Save what we decided").click()
    expect(sandra.get_by_text("Thank you. The decision is recorded.")).to_be_visible()
    outcome = sandra.locator("section", has=sandra.get_by_role("heading", name="What we decided"))
    expect(outcome).to_contain_text("We meet at the library.")
    expect(sandra.locator("#say-form")).to_have_count(0)
    assert axe(sandra) == []

    # Pat, on the page from before the close, tries to close it too: told clearly.
    pat.reload()
    expect(pat.get_by_role("button", name="Save what we decided")).to_have_count(0)
    public = pat.context.new_page()
    public.goto(planners + "/how-we-organised-this")
    expect(public.get_by_role("heading", name="Where do we meet?")).to_be_visible()
    expect(public.get_by_text("We asked: Service users and carers, Students.")).to_be_visible()
    assert axe(public) == []
    assert sandra.errors == [] and pat.errors == []


def test_a_decision_taken_alone_is_reported_back(planners, chromium, axe):
    sandra = _log_in(chromium, planners, "sandra@example.org")
    _go_to_planning(sandra)
    sandra.get_by_role("link", name="Tell us you decided alone").click()
    sandra.get_by_label("What was it about?").fill("The date")
    sandra.get_by_label("What did you decide?").fill("We go on 17 April.")
    sandra.get_by_label("Why did you decide this?").fill("The tower is free that day.")
    sandra.get_by_label("Why could you not ask the groups first?").fill(
        "The tower wanted an answer today."
    )
    sandra.get_by_role("button", name="Tell every group").click()
    expect(sandra.get_by_text("Thank you for telling us.")).to_be_visible()
    expect(
        sandra.get_by_role("heading", name="Sandra Organiser decided this alone")
    ).to_be_visible()
    expect(sandra.locator("main .tag", has_text="To report back").first).to_be_visible()
    assert axe(sandra) == []

    pat = _log_in(chromium, planners, "pat@example.org")
    first = pat.locator("section").first
    expect(first.get_by_role("heading", name="Read what was decided alone")).to_be_visible()
    first.get_by_role("link", name="The date").click()
    expect(pat.get_by_text("The tower wanted an answer today.")).to_be_visible()
    _say(pat, "I agree")
    expect(pat.locator(".tag", has_text="To report back")).to_be_visible()  # Students have not

    sam = _log_in(chromium, planners, "sam@example.org")
    sam.get_by_role("link", name="The date").click()
    _say(sam, "I want to say something else", "Please ask us next time.")
    expect(sam.get_by_text("Every group has read this and had its say.")).to_be_visible()
    sam.goto(planners + "/planning")
    expect(sam.get_by_text("There is nothing to report back.")).to_be_visible()

    sam.get_by_role("link", name="Report for a meeting").click()
    report = sam.locator("article", has_text="The date")
    expect(report).to_contain_text("Sandra Organiser decided this alone.")
    expect(report).to_contain_text("Reported back to every group.")
    expect(report).to_contain_text("Students: Sam Student (said something).")
    expect(report).to_contain_text("Service users and carers: Pat Planner (agrees).")
    assert axe(sam) == []
    sam.emulate_media(media="print")
    expect(sam.get_by_role("navigation", name="Planning")).to_be_hidden()
    expect(sam.locator(".site-header")).to_be_hidden()
    expect(report).to_be_visible()
    assert sandra.errors == [] and pat.errors == [] and sam.errors == []
