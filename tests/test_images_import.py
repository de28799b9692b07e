"""`flask images import-files`: photos from the upload folder of old into the database, cleaned
as an upload is, reported, and never moved twice; `flask images prune`; and the migration that
makes room for them on a database that already has pages."""

from io import BytesIO

import pytest
from flask_migrate import upgrade
from PIL import ExifTags, Image
from sqlalchemy import select, text
from sqlalchemy.orm import undefer

from app import create_app
from app.extensions import db
from app.images import service as images
from app.models import SponsorPage, StoredImage
from tests.test_page_photos import gps_exif, image_bytes

# Names as the old upload code made them: random, nothing from the upload.
AISHA_FILE = "Vh3nQ0k1bq0Yw2m3T7xP9aZc.jpg"
CALLUM_FILE = "p0Lk8sQw2Xe4Rt6Yu8Io0PaS.jpg"


@pytest.fixture
def folder(tmp_path):
    """The old upload folder."""
    path = tmp_path / "uploads"
    path.mkdir()
    return path


@pytest.fixture
def old_pages(make, folder):
    """Aisha's live page and Callum's draft, each naming a photo file in the old folder; Aisha's
    file still carries the GPS EXIF of a phone (as a file put there by hand might)."""
    pages = {"aisha": make.participant(), "callum": make.participant("Callum MacLeod", "callum")}
    (folder / AISHA_FILE).write_bytes(image_bytes("JPEG", (1600, 1200), exif=gps_exif()))
    (folder / CALLUM_FILE).write_bytes(image_bytes("JPEG", (300, 200), color="orange"))
    _name_files(make.app, {"aisha": AISHA_FILE, "callum": CALLUM_FILE})
    return pages


def _name_files(app, files: dict[str, str]) -> None:
    with app.app_context():
        for slug, filename in files.items():
            page = db.session.scalar(select(SponsorPage).where(SponsorPage.slug == slug))
            page.old_photo_filename = filename
        db.session.commit()


def _state(app) -> dict:
    """Every page's photo columns and every stored image, as they are now."""
    with app.app_context():
        pages = db.session.execute(
            select(
                SponsorPage.slug, SponsorPage.photo_sha256, SponsorPage.old_photo_filename
            ).order_by(SponsorPage.slug)
        ).all()
        stored = db.session.scalars(
            select(StoredImage).options(undefer(StoredImage.content)).order_by(StoredImage.sha256)
        ).all()
        return {
            "pages": {slug: (sha256, old) for slug, sha256, old in pages},
            "images": [
                (i.sha256, i.content, i.width, i.height, i.content_type, i.created_at)
                for i in stored
            ],
        }


def _import(runner, folder, *options):
    return runner.invoke(args=["images", "import-files", "--folder", str(folder), *options])


def test_each_file_moves_into_the_database_and_a_second_run_changes_nothing(
    app, runner, folder, old_pages
):
    result = _import(runner, folder)
    assert result.exit_code == 0, result.output
    state = _state(app)
    aisha, callum = state["pages"]["aisha"][0], state["pages"]["callum"][0]
    assert state["pages"] == {"aisha": (aisha, None), "callum": (callum, None)}
    assert f"Moved aisha's photo ({AISHA_FILE}) as /images/{aisha}.jpg" in result.output
    assert f"Moved callum's photo ({CALLUM_FILE}) as /images/{callum}.jpg" in result.output
    assert f"Moved 2 photos from {folder} into the database." in result.output
    assert list(folder.iterdir()) == []  # moved, not copied

    by_hash = {row[0]: row for row in state["images"]}
    assert set(by_hash) == {aisha, callum}
    _, content, width, height, content_type, _ = by_hash[aisha]
    assert (width, height, content_type) == (1200, 900, "image/jpeg")  # cleaned as uploads are
    with Image.open(BytesIO(content)) as cleaned:
        assert not cleaned.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"SpyCam" not in content

    client = app.test_client()
    assert f'src="/images/{aisha}.jpg"' in client.get("/p/aisha").text
    served = client.get(f"/images/{aisha}.jpg")
    assert served.status_code == 200 and served.data == content

    again = _import(runner, folder)
    assert again.exit_code == 0, again.output
    assert again.output == "Nothing to move: every photo is in the database.\n"
    assert _state(app) == state


def test_keep_files_leaves_them_and_they_are_not_moved_again(app, runner, folder, old_pages):
    assert _import(runner, folder, "--keep-files").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([AISHA_FILE, CALLUM_FILE])
    state = _state(app)
    assert len(state["images"]) == 2

    again = _import(runner, folder, "--keep-files")
    assert again.exit_code == 0
    assert "Nothing to move" in again.output
    assert f"Left in {folder}, as no page names them: " in again.output
    assert AISHA_FILE in again.output and CALLUM_FILE in again.output
    assert _state(app) == state


def test_a_file_that_is_missing_or_no_photo_is_reported_and_left_for_later(
    app, runner, folder, old_pages
):
    (folder / AISHA_FILE).unlink()
    (folder / CALLUM_FILE).write_bytes(b"Just some text, honest.\n")
    result = _import(runner, folder)
    assert result.exit_code == 1
    assert f"Could not move aisha's photo ({AISHA_FILE}): no such file in {folder}" in (
        result.stderr
    )
    assert f"Could not move callum's photo ({CALLUM_FILE}): it fails the checks" in result.stderr
    assert "2 photos could not be moved" in result.stderr
    assert _state(app) == {
        "pages": {"aisha": (None, AISHA_FILE), "callum": (None, CALLUM_FILE)},
        "images": [],
    }
    assert (folder / CALLUM_FILE).exists()  # nothing is deleted that was not moved

    (folder / AISHA_FILE).write_bytes(image_bytes())  # the file is put back
    later = _import(runner, folder)
    assert later.exit_code == 1
    assert "Moved aisha's photo" in later.output and "Could not move callum" in later.stderr
    assert _state(app)["pages"]["aisha"][1] is None


def test_a_name_reaching_outside_the_folder_is_refused(app, runner, folder, make, tmp_path):
    make.participant()
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(image_bytes())
    _name_files(app, {"aisha": "../secret.jpg"})
    result = _import(runner, folder)
    assert result.exit_code == 1
    assert "Could not move aisha's photo (../secret.jpg): not a plain file name" in result.stderr
    assert outside.exists() and _state(app)["images"] == []


def test_a_photo_uploaded_since_the_upgrade_is_kept(app, runner, folder, old_pages, auth):
    auth.login()
    upload = {"photo-file": (BytesIO(image_bytes(color="purple")), "new.jpg"), "photo-alt": "Me"}
    response = auth.post(
        "/me/page/photo", upload, prefix="photo", content_type="multipart/form-data"
    )
    assert response.status_code == 303
    uploaded = _state(app)["pages"]["aisha"]
    assert uploaded[0] is not None and uploaded[1] is None  # the old file is forgotten

    result = _import(runner, folder)
    assert result.exit_code == 0
    assert _state(app)["pages"]["aisha"] == uploaded
    assert f"Left in {folder}, as no page names them: {AISHA_FILE}" in result.output


def test_a_page_with_both_keeps_its_new_photo(app, runner, folder, old_pages):
    with app.app_context():
        page = db.session.get(SponsorPage, old_pages["aisha"])
        page.photo = images.store(image_bytes(size=(40, 30)))
        db.session.commit()
        newer = page.photo_sha256
    result = _import(runner, folder)
    assert result.exit_code == 0
    assert "aisha has uploaded a new photo since; the old file is not needed." in result.output
    assert _state(app)["pages"]["aisha"] == (newer, None)
    assert not (folder / AISHA_FILE).exists()


def test_the_folder_defaults_to_upload_folder(app, runner, folder, old_pages, monkeypatch):
    monkeypatch.setenv("UPLOAD_FOLDER", str(folder))
    result = runner.invoke(args=["images", "import-files"])
    assert result.exit_code == 0, result.output
    assert f"Moved 2 photos from {folder} into the database." in result.output


def test_prune_deletes_only_images_nothing_refers_to(app, runner, make):
    page_id = make.participant()
    with app.app_context():
        db.session.get(SponsorPage, page_id).photo = images.store(image_bytes(color="teal"))
        left_behind = images.store(image_bytes(color="orange")).sha256  # as by a crash
        db.session.commit()
        kept = db.session.get(SponsorPage, page_id).photo_sha256
    result = runner.invoke(args=["images", "prune"])
    assert result.output == "Deleted 1 photo that nothing refers to.\n"
    assert [row[0] for row in _state(app)["images"]] == [kept]
    assert left_behind != kept
    assert runner.invoke(args=["images", "prune"]).output == (
        "Deleted 0 photos that nothing refers to.\n"
    )


def test_an_existing_sqlite_database_upgrades_and_imports(tmp_path, folder):
    """A page that other rows refer to (an old address) and its photo file on disk: the
    upgrade must not copy the table (SQLite's foreign keys would refuse), and the photo must
    arrive."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    (folder / AISHA_FILE).write_bytes(image_bytes())
    with app.app_context():
        upgrade(revision="5c1e7a9b2d40")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO users (id, email, name, role, password_hash, created_at) "
                "VALUES (1, 'aisha@example.org', 'Aisha', 'participant', 'x', CURRENT_TIMESTAMP)",
                "INSERT INTO sponsor_pages (id, participant_id, slug, title, story, "
                "photo_filename, photo_alt, target_pence, status, approved_at, hidden_reason, "
                "created_at, updated_at) VALUES (1, 1, 'aisha', 'Aisha abseils', '', "
                f"'{AISHA_FILE}', 'Aisha', 30000, 'published', CURRENT_TIMESTAMP, '', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO sponsor_page_slugs (slug, sponsor_page_id, created_at) "
                "VALUES ('aisha-rahman', 1, CURRENT_TIMESTAMP)",
            ):
                conn.execute(text(statement))
        upgrade()
        result = app.test_cli_runner().invoke(
            args=["images", "import-files", "--folder", str(folder)]
        )
        assert result.exit_code == 0, result.output
        page = db.session.get(SponsorPage, 1)
        assert page.photo is not None and page.old_photo_filename is None
        assert db.session.scalar(text("SELECT sponsor_page_id FROM sponsor_page_slugs")) == 1
        db.session.remove()
        db.engine.dispose()
