"""Stored images on PostgreSQL with two requests at the same moment, as two instances would
make them: the same bytes stored twice are one row, an image two pages let go of together is
deleted (never left behind), and an image deleted while another page takes up the same bytes
is made again rather than failing the upload."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, select, text

from app import create_app
from app.extensions import db
from app.images import service as images
from app.models import SponsorPage, StoredImage
from tests.conftest import Factory
from tests.test_page_photos import image_bytes

pytestmark = pytest.mark.postgres

WAIT_SECONDS = 10


@pytest.fixture
def pg_app(postgres_url):
    """An app on a PostgreSQL database of this test's own, with Aisha's and Callum's pages."""
    base, name = postgres_url.rsplit("/", 1)[0], f"plunge_test_images_{os.getpid()}"
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": f"{base}/{name}"})
    with app.app_context():
        db.create_all()
    make = Factory(app)
    make.participant()
    make.participant("Callum MacLeod", "callum")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _page(slug: str) -> SponsorPage:
    return db.session.scalar(select(SponsorPage).where(SponsorPage.slug == slug))


def _set_photos(app, photos: dict[str, bytes]) -> None:
    with app.app_context():
        for slug, data in photos.items():
            _page(slug).photo = images.store(data)
        db.session.commit()


def _stored(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(StoredImage.sha256).order_by(StoredImage.sha256)))


def _photos(app) -> dict[str, str | None]:
    with app.app_context():
        rows = db.session.execute(select(SponsorPage.slug, SponsorPage.photo_sha256)).all()
        return dict(rows)


def _wait_until_someone_waits_for_a_lock(app) -> None:
    """Return once a transaction is queued behind another's lock (a row or an index entry)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with app.app_context(), db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
            if conn.scalar(text(waiting)):
                return
            time.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")


def _one_then_other(app, first, second) -> None:
    """Run `first` up to its commit, then `second` until it waits for `first`'s locks, then
    let `first` commit and `second` finish. Each runs in its own app context and session."""
    ready = threading.Event()

    def run_first():
        with app.app_context():
            first()
            db.session.flush()
            ready.set()
            _wait_until_someone_waits_for_a_lock(app)
            db.session.commit()

    def run_second():
        assert ready.wait(WAIT_SECONDS)
        with app.app_context():
            second()
            db.session.commit()

    with ThreadPoolExecutor(2) as pool:
        results = [pool.submit(run_first), pool.submit(run_second)]
        for result in results:
            result.result()


def test_the_same_bytes_stored_twice_at_once_are_one_row(pg_app):
    same = image_bytes(color="purple")

    def store_for(slug):
        return lambda: setattr(_page(slug), "photo", images.store(same))

    _one_then_other(pg_app, store_for("aisha"), store_for("callum"))
    (only,) = _stored(pg_app)
    assert _photos(pg_app) == {"aisha": only, "callum": only}


def test_an_image_two_pages_let_go_of_at_once_is_deleted(pg_app):
    shared = image_bytes(color="purple")
    _set_photos(pg_app, {"aisha": shared, "callum": shared})
    (shared_hash,) = _stored(pg_app)

    def replace(slug, color):
        def change():
            page = _page(slug)
            page.photo = images.store(image_bytes(color=color))
            images.release(shared_hash)

        return change

    _one_then_other(pg_app, replace("aisha", "orange"), replace("callum", "teal"))
    photos = _photos(pg_app)
    assert shared_hash not in _stored(pg_app)
    assert sorted(_stored(pg_app)) == sorted(photos.values())


def test_an_image_deleted_while_another_page_takes_the_same_bytes_is_made_again(pg_app):
    photo = image_bytes(color="purple")
    _set_photos(pg_app, {"aisha": photo})
    (photo_hash,) = _stored(pg_app)

    def remove():
        _page("aisha").photo = None
        assert images.release(photo_hash)

    def take_up():
        _page("callum").photo = images.store(photo)

    _one_then_other(pg_app, remove, take_up)
    assert _photos(pg_app) == {"aisha": None, "callum": photo_hash}
    with pg_app.app_context():
        assert db.session.get(StoredImage, photo_hash).width == 2400
