"""The campaign's pictures: the event image and the charity's logo, uploaded by an organiser
and cleaned exactly as sponsor page photos are (app/pages/photos.py), kept in the images table."""

from typing import IO

from app.extensions import db
from app.images import service as images
from app.models import Event
from app.pages import photos

# Each picture's column on the event, and its description's (the logo's is the charity name).
KINDS = {"image": ("image_sha256", "image_alt"), "logo": ("logo_sha256", None)}


def replace_picture(event: Event, kind: str, upload: IO[bytes], alt: str = "") -> None:
    """Check, clean and store the picture, then drop the old one unless something else shows
    it. Raises PhotoError."""
    column, alt_column = KINDS[kind]
    image = images.store(photos.clean_jpeg(upload))
    old = getattr(event, column)
    setattr(event, column, image.sha256)
    if alt_column:
        setattr(event, alt_column, alt)
    if old != image.sha256:
        images.release(old)
    db.session.commit()


def remove_picture(event: Event, kind: str) -> None:
    """Take the picture off the site, and out of the database unless something else shows it."""
    column, alt_column = KINDS[kind]
    old = getattr(event, column)
    setattr(event, column, None)
    if alt_column:
        setattr(event, alt_column, "")
    images.release(old)
    db.session.commit()


def is_event_picture(event: Event | None, sha256: str) -> bool:
    """Whether the event shows this image (everyone may see it)."""
    return event is not None and sha256 in (event.image_sha256, event.logo_sha256)
