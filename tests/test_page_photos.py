"""Sponsor page photos: only real images, shrunk, upright, and stripped of location data;
kept in the database and served by content hash to those who may see the page."""

import hashlib
import re
import struct
import zlib
from io import BytesIO

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import SponsorPage, StoredImage


def image_bytes(fmt="JPEG", size=(2400, 1600), color="teal", exif=None, mode="RGB") -> bytes:
    """An image file as a phone might send it."""
    out = BytesIO()
    options = {"exif": exif} if exif is not None else {}
    Image.new(mode, size, color).save(out, fmt, **options)
    return out.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF naming a camera and the spot in Glasgow where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 51.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 17.0, 19.0)
    return exif


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb."""
    data = bytearray(image_bytes("PNG", (10, 10), mode="L"))
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _upload(auth, data: bytes, filename="me.jpg", alt="Aisha in a helmet", **kwargs):
    return auth.post(
        "/me/page/photo",
        {"photo-file": (BytesIO(data), filename), "photo-alt": alt},
        prefix="photo",
        content_type="multipart/form-data",
        **kwargs,
    )


def _opened(data: bytes) -> Image.Image:
    """The stored photo, read fully."""
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image


def _photo(app, slug="aisha") -> tuple[SponsorPage, StoredImage | None]:
    """The page and its stored photo (bytes loaded), detached from the session."""
    with app.app_context():
        page = db.session.query(SponsorPage).filter_by(slug=slug).one()
        image = None
        if page.photo_sha256 is not None:
            image = db.session.get(StoredImage, page.photo_sha256, options=[undefer("*")])
            db.session.expunge(image)
        db.session.expunge(page)
    return page, image


def _stored_images(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(StoredImage.sha256).order_by(StoredImage.sha256)))


@pytest.fixture
def participant(make, auth):
    """Aisha, logged in, with a published page and no photo."""
    make.participant()
    auth.login()
    return make.app


def test_a_photo_is_shrunk_re_encoded_and_stored_in_the_database(client, auth, participant):
    response = _upload(auth, image_bytes("PNG", (2400, 1600)), filename="holiday.png")
    assert response.status_code == 303
    assert response.headers["Location"] == "/me/page#photo"
    page, image = _photo(participant)
    assert page.photo_alt == "Aisha in a helmet"
    assert image.sha256 == hashlib.sha256(image.content).hexdigest()
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 1200, 800)
    stored = _opened(image.content)
    assert stored.format == "JPEG" and stored.size == (1200, 800)
    assert image.created_at.tzinfo is not None

    html = client.get("/p/aisha").get_data(as_text=True)
    assert (
        f'<img class="page-photo campaign-photo" src="/images/{image.sha256}.jpg" '
        'width="1200" height="800" alt="Aisha in a helmet"'
    ) in html
    assert f'src="/images/{image.sha256}.jpg"' in client.get("/me/page").text


def test_a_photo_is_served_by_its_hash_cached_for_a_year(client, auth, participant):
    _upload(auth, image_bytes())
    _, image = _photo(participant)
    url = f"/images/{image.sha256}.jpg"
    visitor = participant.test_client()
    served = visitor.get(url)
    assert served.status_code == 200 and served.data == image.content
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Content-Length"] == str(len(image.content))
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["ETag"] == f'"{image.sha256}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert visitor.head(url).status_code == 200

    for sent in (f'"{image.sha256}"', f'W/"{image.sha256}"', f'"other", "{image.sha256}"', "*"):
        again = visitor.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.data == b""
        assert again.headers["ETag"] == f'"{image.sha256}"'
        assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    other = visitor.get(url, headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert other.status_code == 200 and other.data == image.content


def test_lists_show_a_small_square_of_the_photo_not_the_whole_one(client, auth, participant):
    _upload(auth, image_bytes(size=(2400, 1600)))
    _, image = _photo(participant)
    html = client.get("/").get_data(as_text=True)
    thumbnail = f"/images/{image.sha256}.jpg?size=96"
    assert f'src="{thumbnail}" width="48" height="48"' in html  # the leaderboard
    visitor = participant.test_client()
    served = visitor.get(thumbnail)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert _opened(served.data).size == (96, 96)
    assert len(served.data) < len(image.content) / 4
    assert served.headers["ETag"] == f'"{image.sha256}-96"'
    assert (
        visitor.get(thumbnail, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    )
    for size in ("97", "0", "-96", "big", "9" * 40):
        assert visitor.get(f"/images/{image.sha256}.jpg?size={size}").status_code == 404, size


def test_link_previews_show_the_photo_in_the_share_image(client, auth, participant):
    # The preview is the share image drawn with the photo (tests/test_previews.py); a new
    # photo is a new image address, so previews fetch it afresh.
    before = re.search(r'property="og:image" content="([^"]+)"', client.get("/p/aisha").text)[1]
    _upload(auth, image_bytes())
    html = client.get("/p/aisha").text
    url = re.search(r'property="og:image" content="([^"]+)"', html)[1]
    assert url.startswith("http://127.0.0.1:5000/p/aisha/share.png?v=") and url != before
    assert '<meta property="og:image:width" content="1200">' in html
    assert f'<meta name="twitter:image" content="{url}">' in html


def test_location_and_camera_details_are_removed(auth, participant):
    for fmt in ("PNG", "JPEG", "WEBP"):
        original = image_bytes(fmt, (800, 600), exif=gps_exif())
        assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
        _upload(auth, original, filename=f"x.{fmt.lower()}")
        _, image = _photo(participant)
        cleaned = _opened(image.content)
        assert dict(cleaned.getexif()) == {}, fmt
        assert b"SpyCam" not in image.content
        assert "exif" not in cleaned.info and "xmp" not in cleaned.info


def test_a_sideways_phone_photo_is_turned_upright(auth, participant):
    # Orientation 6: the camera was turned, stored landscape, shown portrait.
    _upload(auth, image_bytes("JPEG", (1600, 1200), exif=gps_exif(orientation=6)))
    _, image = _photo(participant)
    assert _opened(image.content).size == (900, 1200) == (image.width, image.height)


def test_a_transparent_png_gets_a_white_background(auth, participant):
    _upload(auth, image_bytes("PNG", (100, 100), color=(0, 0, 0, 0), mode="RGBA"))
    _, image = _photo(participant)
    assert _opened(image.content).convert("RGB").getpixel((50, 50)) == (255, 255, 255)


def test_a_new_photo_replaces_the_old_one_in_the_database(client, auth, participant):
    _upload(auth, image_bytes())
    _, first = _photo(participant)
    _upload(auth, image_bytes(color="orange"))
    _, second = _photo(participant)
    assert second.sha256 != first.sha256
    assert _stored_images(participant) == [second.sha256]
    assert client.get(f"/images/{first.sha256}.jpg").status_code == 404
    assert client.get(f"/images/{second.sha256}.jpg").status_code == 200


def test_the_same_photo_again_is_kept(client, auth, participant):
    _upload(auth, image_bytes())
    _, first = _photo(participant)
    assert _upload(auth, image_bytes(), alt="Aisha again").status_code == 303
    page, again = _photo(participant)
    assert again.sha256 == first.sha256 and page.photo_alt == "Aisha again"
    assert _stored_images(participant) == [first.sha256]
    assert client.get(f"/images/{first.sha256}.jpg").status_code == 200


def test_a_photo_two_pages_share_stays_until_neither_shows_it(app, client, auth, make):
    make.participant()
    make.participant("Callum MacLeod", "callum")
    same = image_bytes(color="purple")
    for email in ("aisha@example.org", "callum@example.org"):
        auth.login(email=email)
        _upload(auth, same)
        auth.logout()
    _, shared = _photo(app)
    assert _photo(app, "callum")[1].sha256 == shared.sha256
    assert _stored_images(app) == [shared.sha256]

    auth.login(email="aisha@example.org")
    _upload(auth, image_bytes(color="orange"))  # Callum's page still shows the shared one
    _, own = _photo(app)
    assert _stored_images(app) == sorted([shared.sha256, own.sha256])
    assert app.test_client().get(f"/images/{shared.sha256}.jpg").status_code == 200
    auth.logout()

    auth.login(email="callum@example.org")
    assert auth.post("/me/page/photo/delete").status_code == 303
    assert _stored_images(app) == [own.sha256]
    assert app.test_client().get(f"/images/{shared.sha256}.jpg").status_code == 404


def test_removing_the_photo_deletes_it(client, auth, participant):
    _upload(auth, image_bytes())
    _, image = _photo(participant)
    assert auth.post("/me/page/photo/delete").status_code == 303
    page, gone = _photo(participant)
    assert gone is None and page.photo_alt == ""
    assert _stored_images(participant) == []
    assert client.get(f"/images/{image.sha256}.jpg").status_code == 404
    assert "page-photo" not in client.get("/p/aisha").text


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"Just some text, honest.\n" * 20, "notes.jpg", "That file isn&#39;t a photo we can read"),
        (image_bytes()[:3000], "cut-off.jpg", "That file isn&#39;t a photo we can read"),
        (b"", "empty.jpg", "That file isn&#39;t a photo we can read"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "scan.jpg", "That file isn&#39;t a photo we can read"),
        (image_bytes("BMP", (50, 50)), "old.bmp", "That file isn&#39;t a photo we can read"),
        (png_claiming(30_000, 30_000), "bomb.png", "far too large in pixels"),
        (png_claiming(10_000, 10_000), "bomb.png", "far too large in pixels"),  # warning zone
        (png_claiming(8_000, 8_000), "big.png", "far too large in pixels"),  # our own limit
    ],
)
def test_files_that_are_not_usable_photos_are_refused_beside_the_field(
    auth, participant, data, filename, message
):
    response = _upload(auth, data, filename=filename)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="photo-file-error"' in html and 'aria-invalid="true"' in html
    _, image = _photo(participant)
    assert image is None
    assert _stored_images(participant) == []


def test_a_photo_must_be_chosen(auth, participant):
    response = auth.post("/me/page/photo", {"photo-alt": "Me"}, prefix="photo")
    assert response.status_code == 422
    assert "Choose a photo to upload" in response.get_data(as_text=True)


def test_the_photo_needs_a_description(auth, participant):
    response = _upload(auth, image_bytes(), alt="  ")
    assert response.status_code == 422
    assert "Describe your photo in a few words" in response.get_data(as_text=True)
    assert _stored_images(participant) == []


def test_a_file_over_the_size_limit_gets_a_clear_message_not_a_bare_413(auth, participant):
    # Small enough that the test client keeps the body in memory.
    participant.config["MAX_CONTENT_LENGTH"] = 100_000
    response = _upload(auth, b"\xff" * 100_001)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<h1>Edit your sponsor page</h1>" in html
    assert "That file is too big. Choose a photo smaller than 0.1 MB." in html
    assert 'id="photo-file-error"' in html
    assert _stored_images(participant) == []


def test_too_large_elsewhere_is_a_friendly_page(client, auth, participant):
    participant.config["MAX_CONTENT_LENGTH"] = 1024
    response = auth.post("/me/updates", {"update-body": "x" * 5000}, prefix="update")
    assert response.status_code == 413
    assert b"That file is too big" in response.data and b"<html" in response.data


def test_without_a_page_there_is_nowhere_to_upload(client, auth, make):
    from app.models import Role

    make.user(name="Morag", email="morag@example.org", role=Role.PARTICIPANT)
    auth.login(email="morag@example.org")
    assert _upload(auth, image_bytes()).status_code == 404
    assert auth.post("/me/page/photo/delete").status_code == 404


def test_a_draft_pages_photo_is_served_only_to_who_sees_the_draft(app, client, auth, make):
    make.participant(published=False)
    make.user()  # Sandra, an organiser
    auth.login()
    _upload(auth, image_bytes())
    _, image = _photo(app)
    url = f"/images/{image.sha256}.jpg"
    owner_view = client.get(url)
    assert owner_view.status_code == 200 and owner_view.data == image.content
    # Not for shared caches, and asked again each time, so logging out or hiding it counts.
    assert owner_view.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={"If-None-Match": owner_view.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"
    auth.logout()
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"If-None-Match": f'"{image.sha256}"'}).status_code == 404
    assert image.content not in client.get("/p/aisha").data

    auth.login(email="sandra@example.org")
    assert client.get(url).status_code == 200
    auth.logout()
    make.participant("Callum MacLeod", "callum")
    auth.login(email="callum@example.org")
    assert client.get(url).status_code == 404


def test_a_hidden_pages_photo_stops_being_served(app, client, auth, make):
    make.participant()
    make.user()
    auth.login()
    _upload(auth, image_bytes())
    auth.logout()
    _, image = _photo(app)
    url = f"/images/{image.sha256}.jpg"
    assert client.get(url).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    auth.login(email="sandra@example.org")
    hidden = {"moderate-action": "hide", "moderate-reason": "Photo not allowed"}
    assert auth.post("/p/aisha/moderation", hidden, prefix="moderate").status_code == 303
    assert client.get(url).headers["Cache-Control"] == "private, no-cache"  # organisers see it
    auth.logout()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["../../config.py", "x.jpg", "%2e%2e%2fconfig.py", "0" * 64, "A" * 64 + ".jpg", "0" * 63],
)
def test_only_a_stored_photo_is_served(client, auth, participant, name):
    _upload(auth, image_bytes())
    _, image = _photo(participant)
    assert client.get(f"/images/{name}").status_code == 404
    assert client.get(f"/images/{image.sha256.upper()}.jpg").status_code == 404
    assert client.get(f"/images/{image.sha256}.png").status_code == 404
