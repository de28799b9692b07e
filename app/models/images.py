"""Images kept in the database (sponsor page photos), so every host serves the same ones."""

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class StoredImage(db.Model):
    """A cleaned image, named by the SHA-256 of its bytes: the same bytes are one row, and a
    new image is a new name, so its URL can be cached for ever."""

    __tablename__ = "images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    # Deferred: listing or checking images never reads their bytes.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShareImage(db.Model):
    """The link-preview picture for one totals scope, drawn for one version of its totals:
    drawn again only when the total (or anything else it shows) has moved."""

    __tablename__ = "share_images"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(80))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    render_ms: Mapped[int] = mapped_column(Integer, default=0)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
