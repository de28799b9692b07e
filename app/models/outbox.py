"""Email waiting to be sent: written in the same transaction as what caused it."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """One email. Sent after commit; on failure retried later with backoff; never dropped."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Extra headers as a JSON object (e.g. List-Unsubscribe); empty for most mail.
    headers: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender claims a message until this time, so two processes never send it twice.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # One of many copies (the message after the event): sent after service mail, throttled.
    bulk: Mapped[bool] = mapped_column(default=False, server_default=sql_false())


class OutboxThrottle(db.Model):
    """One row: when the next bulk message may go, shared by every sending process."""

    __tablename__ = "outbox_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_bulk_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
