"""The campaign look: initials for people without a photo, photos in the leaderboard, and the
moments worth celebrating on the bar."""

from io import BytesIO

import pytest

from app.avatars import PALETTE, avatar_svg, colour, initials
from app.events.service import Progress
from app.extensions import db
from app.images import service as images
from app.models import Event, SponsorPage, StoredImage
from tests.test_page_photos import image_bytes


def _contrast(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize(
    ("name", "letters"),
    [("Aisha Rahman", "AR"), ("Morag", "M"), ("Jean-Luc de la Tour", "JT"), ("", "?"), ("  ", "?")],
)
def test_initials(name, letters):
    assert initials(name) == letters


def test_each_name_keeps_its_colour_and_white_initials_are_readable_on_every_one():
    assert colour("Aisha Rahman") == colour("  aisha   RAHMAN ")
    assert all(_contrast(c) >= 4.5 for c in PALETTE)


def test_the_initials_are_escaped_and_hidden_from_screen_readers():
    svg = str(avatar_svg("<b>Bob</b> <i>"))
    assert "<b>" not in svg and 'aria-hidden="true"' in svg


def test_the_leaderboard_shows_photos_and_initials(client, make):
    with_photo = make.participant("Aisha Rahman", "aisha")
    make.participant("Callum Baird", "callum")
    with make.app.app_context():
        page = db.session.get(SponsorPage, with_photo)
        page.photo, page.photo_alt = images.store(image_bytes(size=(40, 30))), "Aisha"
        sha256 = page.photo.sha256
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert (
        f'<img class="avatar" src="/images/{sha256}.jpg?size=96" width="48" height="48" alt=""'
        in html
    )
    assert 'loading="lazy"' in html
    assert ">CB</text></svg>" in html


def test_a_page_without_a_photo_shows_big_initials(client, make):
    make.participant()
    assert ">AR</text></svg>" in client.get("/p/aisha").get_data(as_text=True)


def _progress(raised, supporters, target=10_000):
    return Progress("event", raised, 0, supporters, target, 1, False)


@pytest.mark.parametrize(
    ("raised", "supporters", "milestone"),
    [(0, 0, None), (500, 1, "first"), (1000, 2, None), (5000, 3, "halfway"), (10_000, 9, "target")],
)
def test_milestones(raised, supporters, milestone):
    assert _progress(raised, supporters).milestone == milestone


def test_the_bar_says_when_the_first_donation_is_in(client, make):
    make.donation(1000)
    html = client.get("/progress").get_data(as_text=True)
    assert '<p class="milestone" data-milestone="first">The first donation is in!</p>' in html


# The event image and the charity's logo ---------------------------------------------------


def _upload_picture(organiser, kind, data, alt=""):
    return organiser.post(
        f"/organiser/settings/pictures/{kind}",
        {f"{kind}-file": (BytesIO(data), "pic.png"), f"{kind}-alt": alt},
        prefix=kind,
        content_type="multipart/form-data",
    )


def test_an_organiser_uploads_the_event_image_and_logo_cleaned_like_photos(client, organiser):
    answer = _upload_picture(organiser, "image", image_bytes("PNG", (2400, 1200)), "The tower")
    assert answer.status_code == 303
    assert _upload_picture(organiser, "logo", image_bytes("PNG", (300, 100))).status_code == 303
    with organiser.client.application.app_context():
        event = db.session.get(Event, 1)
        image, logo = event.image, event.logo
        assert (image.width, image.height, image.content_type) == (1200, 600, "image/jpeg")
        assert event.image_alt == "The tower"
    organiser.logout()
    html = client.get("/").get_data(as_text=True)
    assert f'src="/images/{image.sha256}.jpg" width="1200" height="600" alt="The tower"' in html
    assert (
        f'src="/images/{logo.sha256}.jpg" width="300" height="100" alt="Carers Voice logo"' in html
    )
    # Everyone may see them, cached like any public photo.
    response = client.get(f"/images/{image.sha256}.jpg")
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]


def test_the_event_image_needs_a_description_and_a_real_picture(organiser):
    answer = _upload_picture(organiser, "image", image_bytes("PNG", (40, 40)))
    assert answer.status_code == 422
    assert "Describe the picture in a few words" in answer.get_data(as_text=True)
    answer = _upload_picture(organiser, "logo", b"not an image")
    assert answer.status_code == 422 and "isn&#39;t a photo we can read" in answer.get_data(
        as_text=True
    )


def test_removing_a_picture_deletes_it(organiser):
    _upload_picture(organiser, "logo", image_bytes("PNG", (300, 100)))
    response = organiser.post("/organiser/settings/pictures/logo/delete")
    assert response.status_code == 303
    with organiser.client.application.app_context():
        assert db.session.get(Event, 1).logo_sha256 is None
        assert db.session.query(StoredImage).count() == 0
