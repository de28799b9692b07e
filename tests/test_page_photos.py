"""Sponsor page photos: only real images, shrunk, upright, and stripped of location data."""

import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from app.extensions import db
from app.models import SponsorPage


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


def _opened(path: Path) -> Image.Image:
    """The stored photo, read fully and its file closed."""
    with Image.open(path) as image:
        image.load()
        return image


def _photo(app) -> tuple[SponsorPage, Path | None]:
    with app.app_context():
        page = db.session.query(SponsorPage).filter_by(slug="aisha").one()
        db.session.expunge(page)
    if page.photo_filename is None:
        return page, None
    return page, Path(app.config["UPLOAD_FOLDER"]) / page.photo_filename


@pytest.fixture
def participant(make, auth):
    """Aisha, logged in, with a published page and no photo."""
    make.participant()
    auth.login()
    return make.app


def test_a_photo_is_shrunk_re_encoded_and_served(client, auth, participant):
    response = _upload(auth, image_bytes("PNG", (2400, 1600)), filename="holiday.png")
    assert response.status_code == 303
    assert response.headers["Location"] == "/me/page#photo"
    page, path = _photo(participant)
    assert page.photo_alt == "Aisha in a helmet"
    assert path.exists() and "holiday" not in page.photo_filename
    stored = _opened(path)
    assert stored.format == "JPEG" and stored.size == (1200, 800)

    served = client.get(f"/p/aisha/photo/{page.photo_filename}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == path.read_bytes()
    served.close()
    assert f'src="/p/aisha/photo/{page.photo_filename}" alt="Aisha in a helmet"' in (
        client.get("/p/aisha").get_data(as_text=True)
    )


def test_location_and_camera_details_are_removed(auth, participant):
    for fmt in ("PNG", "JPEG", "WEBP"):
        original = image_bytes(fmt, (800, 600), exif=gps_exif())
        assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
        _upload(auth, original, filename=f"x.{fmt.lower()}")
        _, path = _photo(participant)
        cleaned = _opened(path)
        assert dict(cleaned.getexif()) == {}, fmt
        assert b"SpyCam" not in path.read_bytes()
        assert "exif" not in cleaned.info and "xmp" not in cleaned.info


def test_a_sideways_phone_photo_is_turned_upright(auth, participant):
    # Orientation 6: the camera was turned, stored landscape, shown portrait.
    _upload(auth, image_bytes("JPEG", (1600, 1200), exif=gps_exif(orientation=6)))
    _, path = _photo(participant)
    assert _opened(path).size == (900, 1200)


def test_a_transparent_png_gets_a_white_background(auth, participant):
    _upload(auth, image_bytes("PNG", (100, 100), color=(0, 0, 0, 0), mode="RGBA"))
    _, path = _photo(participant)
    assert _opened(path).convert("RGB").getpixel((50, 50)) == (255, 255, 255)


def test_a_new_photo_replaces_the_old_file(auth, participant):
    _upload(auth, image_bytes())
    _, first = _photo(participant)
    _upload(auth, image_bytes(color="orange"))
    _, second = _photo(participant)
    assert second != first and second.exists() and not first.exists()


def test_removing_the_photo_deletes_the_file(client, auth, participant):
    _upload(auth, image_bytes())
    page, path = _photo(participant)
    assert auth.post("/me/page/photo/delete").status_code == 303
    assert not path.exists()
    assert _photo(participant)[1] is None
    assert client.get(f"/p/aisha/photo/{page.photo_filename}").status_code == 404


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
    page, path = _photo(participant)
    assert path is None
    assert list(Path(participant.config["UPLOAD_FOLDER"]).glob("*")) == []


def test_a_photo_must_be_chosen(auth, participant):
    response = auth.post("/me/page/photo", {"photo-alt": "Me"}, prefix="photo")
    assert response.status_code == 422
    assert "Choose a photo to upload" in response.get_data(as_text=True)


def test_the_photo_needs_a_description(auth, participant):
    response = _upload(auth, image_bytes(), alt="  ")
    assert response.status_code == 422
    assert "Describe your photo in a few words" in response.get_data(as_text=True)
    assert _photo(participant)[1] is None


def test_a_file_over_the_size_limit_gets_a_clear_message_not_a_bare_413(auth, participant):
    # Small enough that the test client keeps the body in memory.
    participant.config["MAX_CONTENT_LENGTH"] = 100_000
    response = _upload(auth, b"\xff" * 100_001)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<h1>Edit your sponsor page</h1>" in html
    assert "That file is too big. Choose a photo smaller than 0.1 MB." in html
    assert 'id="photo-file-error"' in html
    assert _photo(participant)[1] is None


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


def test_a_draft_pages_photo_is_private(client, auth, make):
    make.participant(published=False)
    auth.login()
    _upload(auth, image_bytes())
    page, _ = _photo(make.app)
    url = f"/p/aisha/photo/{page.photo_filename}"
    owner_view = client.get(url)
    assert owner_view.status_code == 200
    assert "private" in owner_view.headers["Cache-Control"]
    owner_view.close()
    auth.logout()
    assert client.get(url).status_code == 404


def test_only_the_current_photo_is_served(client, auth, participant):
    for name in ("../../config.py", "x.jpg", "%2e%2e%2fconfig.py"):
        assert client.get(f"/p/aisha/photo/{name}").status_code == 404
