"""Layout in a real browser, at a laptop's width and a phone's: the safety board and the
organiser pages fit the window (a wide table may scroll inside its own box, never the page),
the organiser header lines up with the site header, and each page stays axe-clean."""

import pytest

from app.extensions import db
from app.models import ItemKind, Role
from app.safety import checklist
from tests.accounts import AuthActions
from tests.browser.test_accessibility import session_cookie
from tests.safety.helpers import answer, section_data

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PAGE_WIDER_THAN_WINDOW = "document.documentElement.scrollWidth > window.innerWidth"


@pytest.fixture
def board(make, live_server):
    """An organiser, an instructor and three participants, two with answers to sign off."""
    ids = {
        "organiser": make.user(),
        "instructor": make.user("Iain Instructor", "iain@example.org", Role.INSTRUCTOR),
    }
    make.participant()
    make.participant("Callum MacLeod-Fitzwilliam-Ramsbottom", "callum")
    make.participant("Morag Fraser", "morag")
    with make.app.app_context():
        checklist.ensure_checklist()
        db.session.commit()
        items = {item.kind: item.id for item in checklist.items()}
    for email in ("aisha@example.org", "callum@example.org"):
        auth = AuthActions(make.app.test_client())
        auth.login(email=email)
        for kind in (ItemKind.EMERGENCY_CONTACT, ItemKind.WEIGHT, ItemKind.DATE_OF_BIRTH):
            answer(auth, items[kind], section_data(kind))
    return ids


def _tab(chromium, live_server, app, user_id, viewport):
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London", viewport=viewport)
    value = session_cookie(app, user_id)
    context.add_cookies([{"name": "session", "value": value, "url": live_server}])
    return context, context.new_page()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("role", ["organiser", "instructor"])
def test_the_safety_board_fits_the_window(chromium, live_server, make, board, axe, viewport, role):
    context, tab = _tab(chromium, live_server, make.app, board[role], viewport)
    try:
        tab.goto(live_server + "/safety/board")
        tab.wait_for_load_state("load")
        assert not tab.evaluate(f"() => {PAGE_WIDER_THAN_WINDOW}")
        assert axe(tab) == []
    finally:
        context.close()


ORGANISER_PAGES = [
    "/organiser",
    "/organiser/donations",
    "/organiser/participants",
    "/organiser/moderation",
    "/organiser/gift-aid/attention",
    "/organiser/settings",
]
LEFT_EDGES = """() => [
    document.querySelector('.site-header .site-name').getBoundingClientRect().left,
    document.querySelector('.organiser-nav a').getBoundingClientRect().left,
    document.querySelector('main h1').getBoundingClientRect().left,
]"""


def test_the_organiser_header_lines_up_with_the_site_header(chromium, live_server, make, board):
    context, tab = _tab(chromium, live_server, make.app, board["organiser"], LAPTOP)
    try:
        for path in ORGANISER_PAGES:
            tab.goto(live_server + path)
            site, organiser, heading = tab.evaluate(LEFT_EDGES)
            assert site == organiser == heading, path
    finally:
        context.close()


def test_organiser_pages_fit_a_phone(chromium, live_server, make, board, axe):
    context, tab = _tab(chromium, live_server, make.app, board["organiser"], PHONE)
    try:
        for path in ORGANISER_PAGES:
            tab.goto(live_server + path)
            tab.wait_for_load_state("load")
            assert not tab.evaluate(f"() => {PAGE_WIDER_THAN_WINDOW}"), path
        assert axe(tab) == []
    finally:
        context.close()
