"""News on the day: short updates on the event page's live feed."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class NewsKind(enum.StrEnum):
    """An organiser's news, safety news (instructors may post it), or a participant's "Done
    it!" (written when they are checked out as completed)."""

    NEWS = "news"
    SAFETY = "safety"
    DONE_IT = "done_it"


class NewsItem(db.Model):
    """One update in the event page's feed. Organisers hide one rather than delete it."""

    __tablename__ = "news_items"
    __table_args__ = (Index("ix_news_items_visible", "hidden_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NewsKind] = mapped_column(
        Enum(NewsKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    body: Mapped[str] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("images.sha256"), nullable=True, index=True
    )
    photo_alt: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The participant a "Done it!" item is about.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    photo: Mapped["StoredImage | None"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    participant: Mapped["User | None"] = relationship(foreign_keys=[participant_id])  # noqa: F821
