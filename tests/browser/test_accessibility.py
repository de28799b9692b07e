"""Accessibility in a real browser: axe-core on every page and every state that matters, as a
visitor, a participant, an organiser and a planner; keyboard-only journeys with visible focus;
and the announcements screen readers get when htmx changes part of a page."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role, User
from tests.accounts import PASSWORD
from tests.browser.keyboard import settled, tab_to
from tests.world import ROLES, build_world

pytestmark = pytest.mark.browser

# Password hashing is slow on purpose; allow for a busy CI machine after a log-in.
SLOW = 15_000
# Answers these tests ask for on purpose; Chrome logs each one as a console error.
EXPECTED_ERRORS = re.compile(
    r"status of (400|404|422|429|503)|Response Status Error Code (400|429)"
)


@pytest.fixture
def world(make, live_server):
    """Aisha's live page, Callum's draft, Sandra the organiser (tests/world.py), served live."""
    return build_world(make)


def session_cookie(app, user_id: int) -> str:
    """The signed session cookie a log-in as this user would set (no password hashing)."""
    from app.auth import sessions

    with app.test_request_context():
        token = sessions.start(db.session.get(User, user_id))
        serializer = app.session_interface.get_signing_serializer(app)
        return serializer.dumps({"_user_id": token, "_fresh": True})


@pytest.fixture
def browse(chromium, live_server, make):
    """Open a tab as someone (visitor, participant, other participant, organiser); fails the
    test on any JavaScript error or unexpected console error."""
    contexts, errors = [], []

    def open_tab(role: str = "visitor", world=None, **options):
        context = chromium.new_context(locale="en-GB", timezone_id="Europe/London", **options)
        if role != "visitor":
            value = session_cookie(make.app, world.users[role])
            context.add_cookies([{"name": "session", "value": value, "url": live_server}])
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and not EXPECTED_ERRORS.search(msg.text)
                else None
            ),
        )
        contexts.append(context)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert errors == [], f"the page logged errors: {errors}"


# Every page and state ------------------------------------------------------------------


def _submit(label: str) -> Callable:
    def act(tab):
        tab.get_by_role("button", name=label).click()
        expect(tab.get_by_role("heading", name="There is a problem")).to_be_visible()

    return act


def _gift_aid_open(tab):
    tab.get_by_label("Yes, add Gift Aid").check()
    expect(tab.get_by_label("First name")).to_be_visible()


def _gift_aid_with_errors(tab):
    _gift_aid_open(tab)
    tab.get_by_label("Another amount", exact=True).check()
    tab.get_by_label("Another amount, in pounds").fill("0.50")
    _submit("Continue to secure payment")(tab)


def _page_editor_with_errors(tab):
    tab.get_by_label("Title").fill("")
    tab.get_by_label("Web address").fill("Not A Slug!")
    _submit("Save changes")(tab)


def _signed_up(tab):
    tab.get_by_label("Your name").fill("Morag Fraser")
    tab.get_by_label("Email address").fill("morag@example.org")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign up").click()
    expect(tab.get_by_role("heading", name="Check your email")).to_be_visible()


def _thank_you_open(tab):
    tab.get_by_text("Say thank you to Fiona").click()
    expect(tab.get_by_label("Your reply to Fiona")).to_be_visible()


@dataclass(frozen=True)
class State:
    """A page as someone sees it, after doing something on it (or nothing)."""

    name: str
    role: str
    path: str
    act: Callable | None = None


STATES = [
    State("event page", "visitor", "/"),
    State("sponsor page", "visitor", "/p/{slug}"),
    State("sponsor page, its participant", "participant", "/p/{slug}"),
    State("sponsor page, an organiser moderating", "organiser", "/p/{slug}"),
    State("draft sponsor page, its participant", "other participant", "/p/{draft_slug}"),
    State("donation form", "visitor", "/donate"),
    State("donation form, Gift Aid open", "visitor", "/donate/{slug}", _gift_aid_open),
    State("donation form, errors", "visitor", "/donate", _gift_aid_with_errors),
    State("donation form, back from checkout", "visitor", "/donate/resume/{resume_token}"),
    State("sign-up", "visitor", "/auth/signup"),
    State("sign-up, errors", "visitor", "/auth/signup", _submit("Sign up")),
    State("sign-up, check your email", "visitor", "/auth/signup", _signed_up),
    State("sign-up, confirm", "visitor", "/auth/confirm/{signup_token}"),
    State("sign-up, link expired", "visitor", "/auth/confirm/not-a-token"),
    State("log-in", "visitor", "/auth/login"),
    State("log-in, errors", "visitor", "/auth/login", _submit("Log in")),
    State("password reset", "visitor", "/auth/reset"),
    State("password reset, errors", "visitor", "/auth/reset", _submit("Send the link")),
    State("new password", "visitor", "/auth/reset/{reset_token}"),
    State("participant home", "participant", "/me"),
    State("participant home, thanking a donor", "participant", "/me", _thank_you_open),
    State("organiser home", "organiser", "/me"),
    State("account", "participant", "/auth/account"),
    State("account, an organiser", "organiser", "/auth/account"),
    State("second factor set-up", "organiser", "/auth/two-factor"),
    State(
        "second factor set-up, errors",
        "organiser",
        "/auth/two-factor",
        _submit("Turn on the second factor"),
    ),
    State("confirm your password", "organiser", "/auth/confirm-password"),
    State(
        "confirm your password, errors",
        "organiser",
        "/auth/confirm-password",
        _submit("Confirm and continue"),
    ),
    State("page editor", "participant", "/me/page"),
    State("page editor, errors", "participant", "/me/page", _page_editor_with_errors),
    State("page editor, a new page", "organiser", "/me/page"),
    State("Gift Aid details, the donor's link", "visitor", "/gift-aid/{gift_aid_token}"),
    State(
        "Gift Aid details, errors",
        "visitor",
        "/gift-aid/{gift_aid_token}",
        _submit("Save my Gift Aid details"),
    ),
    State("Gift Aid needs attention", "organiser", "/organiser/gift-aid/attention"),
    # Planning together: a planner's pages, and the organiser's view of the groups.
    State("planning page", "planner", "/planning"),
    State("a decision to have your say on", "planner", "/planning/decisions/{decision_id}"),
    State("a decision taken alone", "planner", "/planning/decisions/{alone_decision_id}"),
    State(
        "ask the groups, errors",
        "planner",
        "/planning/decisions/new",
        _submit("Ask every group"),
    ),
    State("report for a meeting", "planner", "/planning/report"),
    State("groups, as a planner", "planner", "/planning/groups"),
    State("groups and planners", "organiser", "/planning/groups"),
    State("how we organised this", "visitor", "/how-we-organised-this"),
    State("privacy notice", "visitor", "/privacy"),
    State("accessibility statement", "visitor", "/accessibility"),
    State("page not found", "visitor", "/no-such-page"),
    State("bad request", "visitor", "/privacy?q=%01"),
]


@pytest.mark.parametrize("role", ROLES)
def test_no_accessibility_violations(live_server, world, browse, axe, role):
    """Each role's states in one tab (one world and server per role keeps this quick)."""
    tab = browse(role, world)
    found = {}
    for state in (state for state in STATES if state.role == role):
        tab.goto(live_server + state.path.format(**world.values()))
        if state.act:
            state.act(tab)
        violations = axe(tab)
        if violations:
            found[state.name] = violations
    assert found == {}


# Keyboard only -------------------------------------------------------------------------


def test_donating_with_the_keyboard_alone(live_server, stripe_sandbox, world, browse):
    tab = browse()
    tab.goto(live_server + "/p/aisha")
    tab.keyboard.press("Tab")
    expect(tab.get_by_role("link", name="Skip to main content")).to_be_focused()
    tab.keyboard.press("Enter")
    expect(tab.locator("#main")).to_be_focused()

    tab_to(tab, tab.get_by_role("link", name="Sponsor Aisha"))
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Sponsor Aisha Rahman")).to_be_visible()

    tab_to(tab, tab.get_by_label("£20", exact=True))  # the chosen amount holds the group's stop
    tab.keyboard.press("ArrowLeft")
    expect(tab.get_by_label("£10", exact=True)).to_be_checked()
    tab_to(tab, tab.get_by_label("Your name"))
    tab.keyboard.type("Fiona Campbell")
    tab_to(tab, tab.get_by_label("Your email address"))
    tab.keyboard.type("fiona@example.org")
    tab_to(tab, tab.get_by_label("Yes, add Gift Aid"))
    tab.keyboard.press("Space")
    expect(tab.get_by_label("First name")).to_be_visible()
    for label, typed in [
        ("First name", "Fiona"),
        ("Last name", "Campbell"),
        ("House name or number", "12"),
        ("Postcode", "g12 8qq"),
    ]:
        tab_to(tab, tab.get_by_label(label))
        tab.keyboard.type(typed)
    tab_to(tab, tab.get_by_label("I confirm"))
    tab.keyboard.press("Space")

    # A step back with Shift+Tab, and its mistake fixed, still by keyboard.
    tab_to(tab, tab.get_by_label("Postcode"), backwards=True)
    expect(tab.get_by_label("Postcode")).to_have_value("g12 8qq")
    tab_to(tab, tab.get_by_role("button", name="Continue to secure payment"))
    tab.keyboard.press("Enter")
    expect(tab.get_by_text("TEST MODE").first).to_be_visible()
    assert tab.url.startswith(stripe_sandbox.url)


def test_building_a_sponsor_page_with_the_keyboard_alone(live_server, make, browse):
    make.user("Morag Fraser", "morag@example.org", Role.PARTICIPANT)
    tab = browse()
    tab.goto(live_server + "/")
    tab_to(tab, tab.get_by_role("link", name="Log in"))
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    tab_to(tab, tab.get_by_label("Email address"))
    tab.keyboard.type("morag@example.org")
    tab_to(tab, tab.get_by_label("Password"))
    tab.keyboard.type(PASSWORD)
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Hello, Morag Fraser")).to_be_visible(timeout=SLOW)

    tab_to(tab, tab.locator(".next-step a"))
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Create your sponsor page")).to_be_visible()
    slug = tab.get_by_label("Web address")
    tab_to(tab, slug)
    tab.keyboard.press("Control+A")
    tab.keyboard.type("morag-goes-over")
    expect(tab.locator(".slug-live")).to_have_attribute("aria-live", "polite")
    expect(tab.locator("#slug-status")).to_contain_text("/p/morag-goes-over")
    tab_to(tab, tab.get_by_label("Your story"))
    tab.keyboard.type("Seventy metres, for the carers' group.")
    tab_to(tab, tab.get_by_role("button", name="Create my page"))
    tab.keyboard.press("Enter")
    expect(tab.get_by_text("Your page is saved as a draft.")).to_be_visible()

    # Saving again through htmx: the page stays, and the change is announced.
    tab_to(tab, tab.get_by_label("Title"))
    tab.keyboard.type(" (and back)")
    tab_to(tab, tab.get_by_role("button", name="Save changes"))
    tab.keyboard.press("Enter")
    expect(tab.locator("#announcer")).to_have_text("Your changes are saved.")

    tab_to(tab, tab.get_by_role("button", name="Publish my page"), backwards=True)
    tab.keyboard.press("Enter")
    expect(tab.get_by_text("Your page is live! Now share it.")).to_be_visible()

    # An update for sponsors, posted through htmx and announced.
    tab_to(tab, tab.get_by_label("Post an update"))
    tab.keyboard.type("Training at the climbing wall tonight.")
    tab_to(tab, tab.get_by_role("button", name="Post update"))
    tab.keyboard.press("Enter")
    expect(tab.locator("#announcer")).to_have_text("Your update is posted.")
    expect(tab.locator("#sponsor-updates")).to_contain_text("Training at the climbing wall")


def test_the_error_summary_takes_a_keyboard_user_to_each_field(live_server, world, browse):
    tab = browse("participant", world)
    tab.goto(live_server + "/me/page")
    _page_editor_with_errors(tab)
    summary = tab.get_by_role("alert")
    expect(summary).to_contain_text("Give your page a title")
    settled(tab)
    expect(summary).to_be_focused()  # it takes focus as it arrives
    tab_to(tab, summary.get_by_role("link", name="Give your page a title"))
    tab.keyboard.press("Enter")
    title = tab.get_by_label("Title")
    expect(title).to_be_focused()
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(re.compile("Give your page a title"))
    address = tab.get_by_label("Web address")
    expect(address).to_have_accessible_description(re.compile("Use only lowercase letters"))


# Without JavaScript --------------------------------------------------------------------
# (Donating without JavaScript: test_donation_journey.py. Editing a page with a mistake:
# test_participant_journey.py.)


def test_a_page_is_made_published_and_updated_without_javascript(live_server, make, browse):
    make.user("Morag Fraser", "morag@example.org", Role.PARTICIPANT)
    tab = browse(java_script_enabled=False)
    tab.goto(live_server + "/auth/login")
    tab.get_by_label("Email address").fill("morag@example.org")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("link", name="Create your sponsor page").first.click(timeout=SLOW)
    tab.get_by_label("Web address").fill("morag-abseils")
    tab.get_by_label("Your story").fill("Seventy metres, for the carers' group.")
    tab.get_by_role("button", name="Create my page").click()
    expect(tab.get_by_text("Your page is saved as a draft.")).to_be_visible(timeout=SLOW)
    tab.get_by_label("Title").fill("Morag goes over the edge")
    tab.get_by_role("button", name="Save changes").click()
    expect(tab.get_by_text("Your changes are saved.")).to_be_visible()
    tab.get_by_role("button", name="Publish my page").click()
    expect(tab.get_by_text("Your page is live! Now share it.")).to_be_visible()
    tab.get_by_label("Post an update").fill("Training tonight.")
    tab.get_by_role("button", name="Post update").click()
    expect(tab.get_by_text("Your update is posted.")).to_be_visible()

    public = browse(java_script_enabled=False)
    public.goto(live_server + "/p/morag-abseils")
    expect(public.get_by_role("heading", name="Morag goes over the edge")).to_be_visible()
    expect(public.get_by_text("Training tonight.")).to_be_visible()


# Announcements -------------------------------------------------------------------------


def test_errors_and_the_fee_are_announced_as_a_donor_types(live_server, world, browse):
    tab = browse()
    tab.goto(live_server + "/donate")
    expect(tab.locator("#fee-note")).to_have_attribute("aria-live", "polite")
    expect(tab.locator("#other_amount-error")).to_have_attribute("aria-live", "polite")
    tab.get_by_label("Another amount", exact=True).check()
    amount = tab.get_by_label("Another amount, in pounds")
    amount.fill("0.2")
    amount.blur()
    expect(tab.locator("#other_amount-error")).to_have_text("The smallest donation is £1.00.")
    expect(amount).to_have_accessible_description(re.compile("The smallest donation is £1.00."))


def test_a_thank_you_saved_through_htmx_is_announced(live_server, world, browse):
    tab = browse("participant", world)
    tab.goto(live_server + "/me")
    _thank_you_open(tab)
    tab.get_by_label("Your reply to Fiona").fill("Thank you so much!")
    announcer = tab.locator("#announcer")  # in base.html: on every page, empty until needed
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_be_empty()
    tab.get_by_role("button", name="Save reply").first.click()
    expect(announcer).to_have_text("Reply saved and emailed to them.")


def test_a_form_left_open_too_long_shows_why_in_place_and_takes_focus_there(
    live_server, world, browse
):
    tab = browse()
    tab.goto(live_server + "/auth/signup")
    # As if the session had moved on: the token the page holds is no longer the session's.
    tab.evaluate(
        """() => {
            document.body.setAttribute("hx-headers", '{"X-CSRFToken": "stale"}');
            document.querySelector("#signup-form [name=csrf_token]").value = "stale";
        }"""
    )
    tab.get_by_label("Your name").fill("Morag Fraser")
    tab.get_by_role("button", name="Sign up").click()
    expect(tab.get_by_role("heading", name="Please try that again")).to_be_visible()
    expect(tab.locator("#main")).to_be_focused()
    expect(tab.locator("#main")).to_have_count(1)
    assert tab.title() == "Please try that again"


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without"])
def test_a_form_sent_back_with_mistakes_puts_focus_on_what_to_fix(live_server, browse, javascript):
    tab = browse(java_script_enabled=javascript)
    tab.goto(live_server + "/auth/signup")
    tab.get_by_role("button", name="Sign up").click()
    expect(tab.locator("#error-summary")).to_be_visible()
    settled(tab)
    expect(tab.locator("#error-summary")).to_be_focused()
    tab.keyboard.press("Tab")
    expect(tab.get_by_role("link", name=re.compile("Enter your name"))).to_be_focused()
