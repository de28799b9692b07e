"""A page's old addresses: after a participant changes their page's web address, posters
printed and links shared with the old one still lead to the page, and nobody else can take it."""

import pytest

from app.extensions import db
from app.models import PreviousSlug, Role, SponsorPage
from tests.accounts import AuthActions

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


@pytest.fixture
def renamed(make, auth) -> int:
    """Aisha's live page, once at /p/aisha, now at /p/aisha-abseils; returns its id."""
    page_id = make.participant()
    assert _rename(auth, "aisha-abseils").status_code == 303
    return page_id


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


def test_a_new_participant_is_not_offered_an_old_address(client, auth, make, renamed):
    make.user(name="Aisha", email="aisha.two@example.org", role=Role.PARTICIPANT)
    auth.login(email="aisha.two@example.org")
    assert 'value="aisha"' not in client.get("/me/page").text


def test_the_owner_can_move_back_to_an_old_address(client, auth, make, renamed):
    assert _rename(auth, "aisha").status_code == 303
    assert client.get("/p/aisha").status_code == 200
    assert _previous_slugs(make.app) == {"aisha-abseils": renamed}


def test_the_owner_is_told_their_old_address_is_free_for_them(client, auth, renamed):
    auth.login()
    status = client.get("/me/page/slug?slug=aisha", headers=HTMX).text
    assert "slug-problem" not in status and "Your page will be at" in status


def test_saving_without_changing_the_address_keeps_no_old_one(auth, make):
    make.participant()
    _rename(auth, "aisha")
    assert _previous_slugs(make.app) == {}


def test_old_addresses_are_stored_with_their_page_and_when(make, renamed):
    with make.app.app_context():
        [row] = db.session.query(PreviousSlug).all()
        assert (row.slug, row.sponsor_page_id) == ("aisha", renamed)
        assert row.created_at.tzinfo is not None
        assert [p.slug for p in db.session.get(SponsorPage, renamed).previous_slugs] == ["aisha"]
