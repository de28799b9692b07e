"""Say-so for email that is not a service message, and the one message after the event.

Consent is its own history keyed by the (normalised) email address, not columns on a donation:
it belongs to the person, who may give several times, withdraw with one click, give it again
with a later gift, or ask to be forgotten, while the donations themselves must be kept for Gift
Aid. Rows are only ever added (an ORM guard refuses changes); the latest row for an address
and kind decides. Deleting an address's rows (`app.mailing.consent.erase`) is the one removal,
for a data-rights request, and it fails safe: no record means no say-so."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ConsentRecord(db.Model):
    """One yes or no from one address about one kind of email, with the words it answered."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_email_kind", "email", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # casefolded and stripped (app.mailing.consent.normalise): one person, one history.
    email: Mapped[str] = mapped_column(String(254))
    # A kind from app.mailing.consent.KINDS, or "all" (every email that is not a service one).
    kind: Mapped[str] = mapped_column(String(40))
    given: Mapped[bool]
    # The version of the words the person saw (app.mailing.consent.WORDINGS).
    wording_version: Mapped[str] = mapped_column(String(40))
    # Where it was said: "donation form", "offline form", "unsubscribe link", "one-click".
    source: Mapped[str] = mapped_column(String(40))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), nullable=True)
    # The organiser who typed it in from a paper form (None when the person said it online).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRecordChanged(Exception):
    """Raised when code tries to change a consent record (add a new one instead)."""


@event.listens_for(Session, "before_flush")
def _consent_is_appended(session: Session, _context, _instances) -> None:
    """A consent history is only added to; erasure deletes through `consent.erase` (Core)."""
    for instance in session.dirty:
        if isinstance(instance, ConsentRecord) and session.is_modified(instance):
            raise ConsentRecordChanged("consent records are append-only: add a new one")


class AfterEventMessage(db.Model):
    """The organisers' one message after the event, from draft to sent."""

    __tablename__ = "after_event_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One message per event: a second send can never be started.
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), unique=True)
    subject: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("images.sha256"), nullable=True, index=True
    )
    photo_alt: Mapped[str] = mapped_column(String(200), default="")
    # The figures as sent, fixed when sending starts so every copy says the same.
    raised_pence: Mapped[int | None] = mapped_column(nullable=True)
    gift_aid_pence: Mapped[int | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    photo: Mapped["StoredImage | None"] = relationship()  # noqa: F821


class AfterEventDelivery(db.Model):
    """One recipient of the message: at most one per address, whatever happens."""

    __tablename__ = "after_event_deliveries"
    __table_args__ = (UniqueConstraint("message_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("after_event_messages.id"))
    email: Mapped[str] = mapped_column(String(254))
    outbox_message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
