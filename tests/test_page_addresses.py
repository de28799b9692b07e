"""A page's old addresses: after a participant changes their page's web address, posters
printed and links shared with the old one still lead to the page, and nobody else can take it."""

import re

import pytest
import requests

from app.extensions import db
from app.models import Donation, DonationStatus, PreviousSlug, Role, SponsorPage, utcnow
from tests.accounts import AuthActions
from tests.test_checkout import form_token
from tests.test_donations import GOOD

HTMX = {"HX-Request": "true"}
PAGE = {"title": "Aisha abseils", "target": "300", "story": "Up and over."}


def _rename(auth: AuthActions, slug: str, email: str = "aisha@example.org"):
    """The participant changes their page's address in the editor."""
    auth.login(email=email)
    response = auth.post("/me/page", {**PAGE, "slug": slug})
    auth.logout()
    return response


def _previous_slugs(app) -> dict[str, int]:
    with app.app_context():
        return {row.slug: row.sponsor_page_id for row in db.session.query(PreviousSlug)}


def _hide(app, page_id: int) -> None:
    with app.app_context():
        db.session.get(SponsorPage, page_id).hidden_at = utcnow()
        db.session.commit()


@pytest.fixture
def renamed(make, auth) -> int:
    """Aisha's live page, once at /p/aisha, now at /p/aisha-abseils; returns its id."""
    page_id = make.participant()
    assert _rename(auth, "aisha-abseils").status_code == 303
    return page_id


@pytest.fixture
def donor(live_server, stripe_sandbox):
    """A donor's browser session on the live app."""
    session = requests.Session()
    session.base = live_server
    return session


# Old links and posters keep working -----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/p/aisha", "/p/aisha-abseils"),
        ("/p/aisha/qr.svg", "/p/aisha-abseils/qr.svg"),
        ("/p/aisha/qr.png", "/p/aisha-abseils/qr.png"),
        ("/p/aisha/progress", "/p/aisha-abseils/progress"),
        ("/donate/aisha", "/donate/aisha-abseils"),
        ("/p/AISHA", "/p/aisha-abseils"),
    ],
)
def test_the_old_address_redirects_permanently_to_the_new_one(client, renamed, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new
    # Not cached for ever: if Aisha moves back to "aisha", a remembered redirect would loop.
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.get(old, follow_redirects=True).status_code == 200
    assert client.head(old).status_code == 301


def test_the_old_address_shows_the_page_and_its_qr_code_has_the_new_address(client, renamed):
    page = client.get("/p/aisha", follow_redirects=True)
    assert page.request.path == "/p/aisha-abseils"
    assert "<h1>Aisha abseils</h1>" in page.text
    svg = client.get("/p/aisha/qr.svg", follow_redirects=True).text
    assert "<title>QR code for http://127.0.0.1:5000/p/aisha-abseils</title>" in svg


def test_the_progress_bar_polled_at_the_old_address_still_updates(htmx_client, make, renamed):
    make.donation(1234, page_id=renamed)
    response = htmx_client.get("/p/aisha/progress", follow_redirects=True)
    assert response.status_code == 200
    assert response.text.startswith(f'<div id="progress-page-{renamed}"')
    assert "£12.34" in response.text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/p/aisha?older_than=123", "/p/aisha-abseils?older_than=123"),
        (
            "/p/aisha?utm_source=poster&utm_medium=qr&utm_source=again",
            "/p/aisha-abseils?utm_source=poster&utm_medium=qr&utm_source=again",
        ),
        ("/p/aisha/qr.png?download=1", "/p/aisha-abseils/qr.png?download=1"),
        ("/donate/aisha?amount=20", "/donate/aisha-abseils?amount=20"),
    ],
)
def test_query_strings_survive_the_redirect(client, renamed, old, new):
    assert client.get(old).headers["Location"] == new


def test_every_old_address_leads_straight_to_the_current_one(client, make, auth):
    make.participant()
    _rename(auth, "aisha-abseils")
    _rename(auth, "aisha-rahman")
    for old in ("/p/aisha", "/p/aisha-abseils"):
        assert client.get(old).headers["Location"] == "/p/aisha-rahman"  # no chain of hops
    assert client.get("/p/aisha-rahman").status_code == 200


def test_a_donation_sent_from_a_form_loaded_before_the_rename_lands_on_the_page(
    make, auth, donor, stripe_sandbox, event
):
    page_id = make.participant()
    fields = {**form_token(donor, "/donate/aisha"), **GOOD}  # the form is open in a browser
    _rename(auth, "aisha-abseils")

    response = donor.post(donor.base + "/donate/aisha", data=fields, allow_redirects=False)
    # 308, not 303: the browser sends the same form to the new address, so the donor's
    # details, Gift Aid declaration and attempt key are not lost to a blank form.
    assert response.status_code == 308
    assert response.headers["Location"] == "/donate/aisha-abseils"

    response = donor.post(donor.base + "/donate/aisha", data=fields)
    assert [r.status_code for r in response.history] == [308, 303]
    assert response.url.startswith(stripe_sandbox.url + "/checkout/")
    with event.app_context():
        [donation] = db.session.query(Donation).all()
        assert (donation.sponsor_page_id, donation.status) == (page_id, DonationStatus.PENDING)
        assert donation.amount_pence == 2000


# The old address stays Aisha's ----------------------------------------------------------


def test_another_participant_cannot_take_an_old_address(client, auth, make, renamed):
    make.participant("Callum MacLeod", "callum")
    auth.login(email="callum@example.org")
    response = auth.post("/me/page", {**PAGE, "slug": "aisha"})
    assert response.status_code == 422
    assert "Another page had that address before" in response.text
    assert 'id="slug-error"' in response.text
    as_typed = client.get("/me/page/slug?slug=aisha", headers=HTMX).text
    assert "Another page had that address before" in as_typed and "slug-problem" in as_typed
    assert client.get("/p/aisha").headers["Location"] == "/p/aisha-abseils"


def test_a_new_participant_is_not_offered_an_old_address(client, auth, make, renamed):
    make.user(name="Aisha", email="aisha.two@example.org", role=Role.PARTICIPANT)
    auth.login(email="aisha.two@example.org")
    assert 'value="aisha"' not in client.get("/me/page").text


def test_the_owner_can_move_back_to_an_old_address(client, auth, make, renamed):
    assert _rename(auth, "aisha").status_code == 303
    assert client.get("/p/aisha").status_code == 200
    assert client.get("/p/aisha-abseils").headers["Location"] == "/p/aisha"
    assert _previous_slugs(make.app) == {"aisha-abseils": renamed}


def test_the_owner_is_told_their_old_address_is_free_for_them(client, auth, renamed):
    auth.login()
    status = client.get("/me/page/slug?slug=aisha", headers=HTMX).text
    assert "slug-problem" not in status and "Your page will be at" in status


def test_saving_without_changing_the_address_keeps_no_old_one(auth, make):
    make.participant()
    _rename(auth, "aisha")
    assert _previous_slugs(make.app) == {}


def test_the_editor_says_old_links_and_qr_codes_keep_working(client, auth, make):
    make.participant()
    auth.login()
    editor = client.get("/me/page").text
    assert "links and printed QR codes you have already shared keep working" in editor
    assert "breaks" not in editor


# Pages the public cannot see ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/p/aisha", "/p/aisha/progress", "/p/aisha/qr.svg", "/donate/aisha"]
)
def test_a_hidden_pages_old_address_reveals_nothing(client, make, renamed, path):
    _hide(make.app, renamed)
    client.get("/")  # shows Aisha's "You have logged out" once, so neither answer has it
    never_existed = client.get(path.replace("aisha", "nobody"))
    response = client.get(path)
    assert response.status_code == 404 and "Location" not in response.headers
    assert "aisha-abseils" not in response.text
    assert _without_csrf(response.text) == _without_csrf(never_existed.text)


def _without_csrf(html: str) -> str:
    # A CSRF token carries the second it was made: two answers a second apart differ there.
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)


def test_a_drafts_old_address_leads_only_its_participant_to_it(client, auth, make):
    make.participant(published=False)
    _rename(auth, "aisha-draft")
    assert client.get("/p/aisha").status_code == 404
    assert "aisha-draft" not in client.get("/p/aisha").text
    auth.login()
    assert client.get("/p/aisha").headers["Location"] == "/p/aisha-draft"
    assert client.get("/donate/aisha").status_code == 404  # nobody donates to a draft


def test_an_organiser_follows_a_hidden_pages_old_address(client, auth, make, renamed):
    _hide(make.app, renamed)
    make.user()
    auth.login(email="sandra@example.org")
    assert client.get("/p/aisha").headers["Location"] == "/p/aisha-abseils"
    assert client.get("/p/aisha", follow_redirects=True).status_code == 200


def test_old_addresses_are_stored_with_their_page_and_when(make, renamed):
    with make.app.app_context():
        [row] = db.session.query(PreviousSlug).all()
        assert (row.slug, row.sponsor_page_id) == ("aisha", renamed)
        assert row.created_at.tzinfo is not None
        assert [p.slug for p in db.session.get(SponsorPage, renamed).previous_slugs] == ["aisha"]


def test_moderation_forms_sent_to_an_old_address_keep_their_method(client, auth, make, renamed):
    make.user()
    auth.login(email="sandra@example.org")
    response = auth.post("/p/aisha/moderation", {"moderate-action": "hide"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/p/aisha-abseils/moderation"


def test_a_query_string_cannot_add_a_header_to_the_redirect(client, renamed):
    response = client.get("/p/aisha", environ_overrides={"QUERY_STRING": "x=1\r\nSet-Cookie:a=b"})
    assert response.headers["Location"] == "/p/aisha-abseils?x=1%0D%0ASet-Cookie:a=b"
    assert "Set-Cookie" not in response.headers or "a=b" not in response.headers["Set-Cookie"]
