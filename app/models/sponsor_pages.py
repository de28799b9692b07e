"""A participant's sponsor page."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class PageStatus(enum.StrEnum):
    """Draft pages are seen only by their participant and organisers."""

    DRAFT = "draft"
    PUBLISHED = "published"


class SponsorPage(db.Model):
    """Story, photo and personal target that friends donate to, at /p/<slug>."""

    __tablename__ = "sponsor_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    story: Mapped[str] = mapped_column(Text, default="")
    # The photo, in the images table; its hash is also its URL (/images/<sha256>.jpg).
    photo_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("images.sha256"), nullable=True, index=True
    )
    # A photo from before photos moved into the database: its file in the old upload folder,
    # until `flask images import-files` moves it (then None).
    old_photo_filename: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # Read aloud by screen readers and shown when the photo cannot load.
    photo_alt: Mapped[str] = mapped_column(String(200), default="")
    target_pence: Mapped[int] = mapped_column(default=25_000)
    # The ready message the share buttons send with the link; empty means the default one.
    share_message: Mapped[str] = mapped_column(String(280), default="", server_default="")
    status: Mapped[PageStatus] = mapped_column(
        Enum(
            PageStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        default=PageStatus.DRAFT,
    )
    # Set on publishing, unless the event makes new pages wait for an organiser's approval.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    participant: Mapped["User"] = relationship(back_populates="sponsor_page")  # noqa: F821
    # Its size, for the <img> (the bytes themselves are loaded only to serve them).
    photo: Mapped["StoredImage | None"] = relationship()  # noqa: F821
    updates: Mapped[list["SponsorUpdate"]] = relationship(
        back_populates="sponsor_page", order_by="SponsorUpdate.created_at.desc()"
    )
    previous_slugs: Mapped[list["PreviousSlug"]] = relationship(
        back_populates="sponsor_page",
        order_by="PreviousSlug.created_at",
        cascade="all, delete-orphan",
    )

    @hybrid_property
    def is_public(self):
        """Published, not hidden by an organiser, and approved where approval is required: in
        Python a bool, in SQL the condition every query for public pages uses (the live
        progress fast path's included), so a new rule cannot miss one of them."""
        # `&`, `==`/`!= None` read the same on values and on columns: one definition.
        return (
            (self.status == PageStatus.PUBLISHED)
            & (self.approved_at != None)  # noqa: E711
            & (self.hidden_at == None)  # noqa: E711
        )

    @property
    def totals_scope(self) -> str:
        """The key of this page's row in the totals table."""
        return f"page:{self.id}"


class SponsorUpdate(db.Model):
    """A short news item the participant posts on their page ("Training went well!")."""

    __tablename__ = "sponsor_updates"
    __table_args__ = (Index("ix_sponsor_updates_page_created", "sponsor_page_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_page_id: Mapped[int] = mapped_column(ForeignKey("sponsor_pages.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by an organiser moderating the page; the participant deletes their own instead.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sponsor_page: Mapped[SponsorPage] = relationship(back_populates="updates")


class PreviousSlug(db.Model):
    """An address the page had before its participant changed it. Posters printed and links
    shared with it still lead to the page, so nobody else may take it."""

    __tablename__ = "sponsor_page_slugs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique across old addresses; slug_problem keeps them apart from current ones too.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    sponsor_page_id: Mapped[int] = mapped_column(ForeignKey("sponsor_pages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sponsor_page: Mapped[SponsorPage] = relationship(back_populates="previous_slugs")
