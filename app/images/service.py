"""Images in the database: stored once per content hash, answered with year-long caching, and
deleted as soon as nothing refers to them. Nothing here is kept on disk, so every host that
shares the database serves the same images."""

import hashlib
import re
from functools import lru_cache
from io import BytesIO

from flask import Response, abort, request
from PIL import Image, ImageOps
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import StoredImage

JPEG = "image/jpeg"
SHA256 = re.compile(r"[0-9a-f]{64}")
# The URL names the bytes, so they can never change under it: cache them for a year.
PUBLIC_CACHE = "public, max-age=31536000, immutable"
# Seen only by some people (a draft page's photo): each use asks again, answered by a 304.
PRIVATE_CACHE = "private, no-cache"
# Square thumbnails for the 48 px avatars of leaderboards and member lists (twice that, for
# high-density screens), so a list of photos does not download each one whole.
THUMBNAIL_SIZES = frozenset({96})


def content_hash(data: bytes) -> str:
    """The SHA-256 of the bytes, in hex: the image's name and its URL."""
    return hashlib.sha256(data).hexdigest()


def store(data: bytes, content_type: str = JPEG) -> StoredImage:
    """The stored image with exactly these bytes (already cleaned: app/pages/photos.py),
    added now if it is new; the caller commits. The same bytes stored twice, even at the same
    moment, are one row."""
    sha256 = content_hash(data)
    image = _find(sha256)
    if image is not None:
        return image
    with Image.open(BytesIO(data)) as opened:  # reads the header only
        width, height = opened.size
    image = StoredImage(
        sha256=sha256, content_type=content_type, width=width, height=height, content=data
    )
    try:
        with db.session.begin_nested():
            db.session.add(image)
    except IntegrityError:
        # Another request stored the same bytes a moment ago: theirs is this one.
        image = _find(sha256)
        if image is None:
            raise
    return image


def _find(sha256: str) -> StoredImage | None:
    # Locked (FOR KEY SHARE on PostgreSQL) so an image released at this moment by its last
    # page is either still there once we refer to it, or already gone and made again.
    query = select(StoredImage).where(StoredImage.sha256 == sha256)
    return db.session.scalar(query.with_for_update(read=True, key_share=True))


def release(sha256: str | None) -> bool:
    """Delete the image if nothing refers to it any more (call after changing the reference,
    before committing); True if it was deleted."""
    if sha256 is None:
        return False
    db.session.flush()
    # Locked first: of two pages letting go of one image at once, the second to get here
    # sees the first's change, so one of them deletes it and it is never left behind.
    query = select(StoredImage.sha256).where(StoredImage.sha256 == sha256)
    if db.session.scalar(query.with_for_update()) is None or in_use(sha256):
        return False
    try:
        with db.session.begin_nested():
            db.session.execute(delete(StoredImage).where(StoredImage.sha256 == sha256))
    except IntegrityError:
        return False  # another page took it up meanwhile: the foreign key keeps it
    return True


def prune() -> list[str]:
    """Delete every stored image nothing refers to; returns their hashes."""
    gone = [sha256 for sha256 in unreferenced() if release(sha256)]
    db.session.commit()
    return gone


def in_use(sha256: str) -> bool:
    """Whether any row (a sponsor page's photo, or anything later) still refers to it."""
    return any(
        db.session.scalar(select(exists().where(column == sha256))) for column in _referrers()
    )


def _referrers():
    """Every column with a foreign key to images, so a new use of images is counted too."""
    images = StoredImage.__table__
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is images:
                yield key.parent


def unreferenced() -> list[str]:
    """Hashes of stored images nothing refers to (there should be none)."""
    hashes = select(StoredImage.sha256)
    for column in _referrers():
        hashes = hashes.where(~exists().where(column == StoredImage.sha256))
    return list(db.session.scalars(hashes.order_by(StoredImage.sha256)))


def response(sha256: str, content_type: str, public: bool, size: int | None = None) -> Response:
    """The image's bytes (or its `size`-pixel square thumbnail) with its caching headers, or
    304 when the browser already has them; 404 if there is no such image of that type."""
    tag = sha256 if size is None else f"{sha256}-{size}"
    headers = {
        "Cache-Control": PUBLIC_CACHE if public else PRIVATE_CACHE,
        "ETag": f'"{tag}"',
        "X-Content-Type-Options": "nosniff",
    }
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    if size is not None:
        content = _thumbnail(sha256, size) if content_type == JPEG else None
        if content is None:
            abort(404)
        return Response(content, status=200, headers=headers, content_type=JPEG)
    query = select(StoredImage).where(StoredImage.sha256 == sha256)
    image = db.session.scalar(query.options(undefer(StoredImage.content)))
    if image is None or image.content_type != content_type:
        abort(404)
    return Response(image.content, status=200, headers=headers, content_type=content_type)


@lru_cache(maxsize=512)
def _thumbnail(sha256: str, size: int) -> bytes | None:
    """A square JPEG of the image's middle, `size` pixels a side: made once per process (an
    image's bytes never change under its hash; 512 of them are about 2 MB)."""
    query = select(StoredImage.content).where(
        StoredImage.sha256 == sha256, StoredImage.content_type == JPEG
    )
    content = db.session.scalar(query)
    if content is None:
        return None
    with Image.open(BytesIO(content)) as opened:
        square = ImageOps.fit(opened.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
    out = BytesIO()
    square.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()
