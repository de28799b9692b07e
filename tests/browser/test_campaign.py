"""The campaign pages in a real browser: at a laptop's and a phone's size the total and the
Sponsor button are above the fold and nothing scrolls sideways; every request stays on our
own site; the event page is light; sharing, celebration and no-JavaScript all work; axe-clean.

Screenshots of each page at each size go to $PLUNGE_SCREENSHOTS (default: a temporary folder
named in the test output), to be looked at by a person."""

import gzip
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.images import service as images
from app.models import Event, SponsorPage
from app.teams import membership
from app.teams import service as teams
from tests.test_page_photos import image_bytes

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"laptop": LAPTOP, "phone": PHONE}
MAX_EVENT_PAGE_BYTES = 40_000  # HTML + CSS + JS, gzipped; images apart
SHOTS = Path(os.environ.get("PLUNGE_SCREENSHOTS") or tempfile.mkdtemp(prefix="plunge-shots-"))
STORY = "\n\n".join(
    ["I'm abseiling down the tower for the carers' group, who kept my mum going last winter."] * 6
)


@pytest.fixture
def campaign(make, live_server):
    """Aisha's page with a tall photo, a long story and donations; Callum without a photo;
    the event with its image and the charity's logo; both in Aisha's team, which has a wide
    photo and a long story; Summit seekers, a team without a photo."""
    page_id = make.participant(target_pence=40_000)
    callum_id = make.participant("Callum Baird", "callum")
    for amount in (2500, 1000, 5000):
        make.donation(amount, page_id=page_id)
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        page.photo = images.store(image_bytes(size=(900, 1200), color="#2a6f97"))
        page.photo_alt, page.story = "Aisha in a climbing helmet", STORY
        event = db.session.get(Event, 1)
        event.image_sha256 = images.store(image_bytes(size=(1200, 675), color="#6a994e")).sha256
        event.image_alt = "The tower we abseil"
        event.logo_sha256 = images.store(image_bytes(size=(300, 100), color="#bc4749")).sha256
        team = teams.create_team("Carers' group", captain=page, slug="carers-group", story=STORY)
        team.photo = images.store(image_bytes(size=(1200, 800), color="#386641"))
        team.photo_alt = "The carers' group at the top of the tower"
        membership.join(db.session.get(SponsorPage, callum_id), team, by_organiser=True)
        teams.create_team("Summit seekers", slug="summit")
        db.session.commit()
    return live_server


def _open(chromium, url, viewport, **options):
    """A tab at `viewport` that records every request it makes; (context, tab, requests)."""
    context = chromium.new_context(
        locale="en-GB", timezone_id="Europe/London", viewport=viewport, **options
    )
    tab = context.new_page()
    requests = []
    tab.on("request", lambda request: requests.append(request))
    tab.goto(url)
    tab.wait_for_load_state("load")
    return context, tab, requests


def _weight(requests) -> int:
    """Gzipped bytes of the document, stylesheets and scripts the page fetched."""
    total = 0
    for request in requests:
        if request.resource_type in ("document", "stylesheet", "script"):
            response = request.response()
            total += len(gzip.compress(response.body(), 6, mtime=0)) if response else 0
    return total


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("name", "path", "button"),
    [
        ("event", "/", "Donate to the event"),
        ("team", "/t/carers-group", "Sponsor the team"),
        ("sponsor", "/p/aisha", "Sponsor Aisha"),
    ],
)
def test_the_page_fits_keeps_to_our_site_and_shows_the_button(
    chromium, campaign, axe, name, path, button, size
):
    context, tab, requests = _open(chromium, campaign + path, SIZES[size])
    try:
        origin = urlsplit(campaign).netloc
        elsewhere = [r.url for r in requests if urlsplit(r.url).netloc != origin]
        assert elsewhere == [], "requests to other sites"
        assert not tab.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        box = tab.get_by_role("link", name=button).bounding_box()
        if size == "laptop":
            assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
            assert box["x"] + box["width"] <= LAPTOP["width"]
        # Below-the-fold images wait until scrolled to, and every image has its size set.
        for image in tab.locator("main img").all():
            assert image.get_attribute("width") and image.get_attribute("height")
        weight = _weight(requests)
        tab.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=False)
        tab.screenshot(path=SHOTS / f"{name}-{size}-full.png", full_page=True)
        with (SHOTS / "weights.txt").open("a") as weights:
            weights.write(f"{name} at {size}: {weight / 1000:.1f} kB gzipped HTML+CSS+JS\n")
        if name in ("event", "team"):
            assert weight <= MAX_EVENT_PAGE_BYTES
        assert axe(tab) == []
    finally:
        context.close()


def test_leaderboard_photos_load_lazily(chromium, campaign):
    context, tab, _requests = _open(chromium, campaign + "/", PHONE)
    try:
        avatars = tab.locator("#leaderboard img.avatar")
        assert avatars.count() == 1 and avatars.first.get_attribute("loading") == "lazy"
        assert tab.locator("#leaderboard svg.avatar").count() == 1  # Callum's initials
        # The team leaderboard: the Carers' group's photo, Summit seekers' initials.
        teams = tab.locator("#team-leaderboard img.avatar")
        assert teams.count() == 1 and teams.first.get_attribute("loading") == "lazy"
        assert teams.first.get_attribute("width") == "48"
        assert tab.locator("#team-leaderboard svg.avatar").count() == 1
    finally:
        context.close()


def test_team_members_photos_load_lazily(chromium, campaign):
    context, tab, _requests = _open(chromium, campaign + "/t/carers-group", PHONE)
    try:
        photos = tab.locator("#team-members img.avatar")
        assert photos.count() == 1  # Aisha's
        assert photos.first.get_attribute("loading") == "lazy"
        assert (photos.first.get_attribute("width"), photos.first.get_attribute("height")) == (
            "48",
            "48",
        )
        assert tab.locator("#team-members svg.avatar").count() == 1  # Callum's initials
    finally:
        context.close()


def test_the_share_sheet_is_offered_only_where_the_browser_has_one(chromium, campaign, axe):
    context, tab, _requests = _open(chromium, campaign + "/p/aisha", PHONE)
    try:
        has_share = tab.evaluate("typeof navigator.share === 'function'")
        assert tab.get_by_role("button", name="Share…").is_visible() == has_share
    finally:
        context.close()
    # A browser with a share sheet (as phones have): the button shows and hands it the page.
    context = chromium.new_context(viewport=PHONE)
    context.add_init_script(
        "navigator.share = (data) => { window.shared = data; return Promise.resolve(); };"
    )
    tab = context.new_page()
    try:
        tab.goto(campaign + "/p/aisha")
        sheet = tab.get_by_role("button", name="Share…")
        sheet.click()
        shared = tab.evaluate("window.shared")
        assert shared["url"] == campaign + "/p/aisha"
        assert shared["text"].startswith("Please sponsor Aisha in ")
        assert axe(tab) == []
    finally:
        context.close()


def test_share_links_work_without_javascript(chromium, campaign):
    context, tab, requests = _open(chromium, campaign + "/", PHONE, java_script_enabled=False)
    try:
        links = tab.locator(".share-links a")
        assert links.count() == 6
        assert links.first.get_attribute("href").startswith("https://wa.me/?text=")
        assert not tab.get_by_role("button", name="Share…").is_visible()
        assert tab.get_by_role("link", name="Copy link").get_attribute("href") == campaign + "/"
    finally:
        context.close()


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_first_donation_is_celebrated_politely(chromium, make, live_server, axe, motion):
    page_id = make.participant()
    context, tab, _requests = _open(
        chromium, live_server + "/p/aisha", LAPTOP, reduced_motion=motion
    )
    try:
        assert tab.locator("[data-milestone]").count() == 0
        make.donation(1500, page_id=page_id)
        milestone = tab.locator("[data-milestone='first']")
        milestone.wait_for(timeout=10_000)
        assert milestone.inner_text() == "The first donation is in!"
        # Inside the bar's polite live region, so it is read out once with the new total.
        live = tab.locator(".live-progress")
        assert live.get_attribute("aria-live") == "polite"
        # plunge.js marks it once htmx has settled the swap, a moment after it appears.
        expect(milestone).to_have_class(re.compile(r"\bcelebrate\b"))
        animation = milestone.evaluate("el => getComputedStyle(el).animationName")
        assert animation == ("none" if motion == "reduce" else "celebrate")
        assert axe(tab) == []
    finally:
        context.close()
