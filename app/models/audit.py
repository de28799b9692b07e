"""The organisers' audit history: who changed what about money and moderation, and when."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.models import append_only
from app.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One thing that happened. Append-only: entries are written once and never changed."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_donation_id", "donation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Empty when Stripe (a webhook) or a command did it rather than someone logged in.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # A dotted name, e.g. "offline.confirmed", "refund.requested", "message.hidden".
    action: Mapped[str] = mapped_column(String(40))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), nullable=True)
    sponsor_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("sponsor_pages.id"), nullable=True
    )
    # No foreign key: a participant may delete their own update, and its history stays.
    sponsor_update_id: Mapped[int | None] = mapped_column(nullable=True)
    # The account an entry is about (an invited organiser), when it is not the actor.
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Money before and after, in pence, for changes to what a donation counts or refunds.
    before_pence: Mapped[int | None] = mapped_column(nullable=True)
    after_pence: Mapped[int | None] = mapped_column(nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])  # noqa: F821
    subject_user: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[subject_user_id]
    )
    donation: Mapped["Donation | None"] = relationship()  # noqa: F821
    sponsor_page: Mapped["SponsorPage | None"] = relationship()  # noqa: F821


# The database refuses UPDATE and DELETE too, for raw SQL that never reaches the ORM.
append_only.protect(AuditEntry.__table__)


class AuditEntryChanged(Exception):
    """Raised when code tries to change or delete an audit entry."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    """The history is only ever added to: an update or delete of an entry is a bug."""
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEntry) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditEntryChanged("audit entries are append-only")
