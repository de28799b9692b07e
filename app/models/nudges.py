"""Fundraiser nudges: which were sent to whom (once each), and which a participant turned off."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class NudgeKind(enum.StrEnum):
    """The moments a fundraiser hears about: their first donation, halfway to their target,
    the target reached, and a quiet week before the event."""

    FIRST_DONATION = "first_donation"
    HALFWAY = "halfway"
    TARGET_REACHED = "target_reached"
    QUIET_WEEK = "quiet_week"


def _kind_column():
    return Enum(
        NudgeKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class NudgeSent(db.Model):
    """One nudge queued for one participant. The unique key is what makes "once" hold when two
    webhooks for the same page, or two timer runs, arrive at the same moment."""

    __tablename__ = "nudges_sent"
    __table_args__ = (UniqueConstraint("participant_id", "kind", name="uq_nudges_sent_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NudgeKind] = mapped_column(_kind_column())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NudgeOptOut(db.Model):
    """A kind of nudge a participant asked not to get (on /me/emails)."""

    __tablename__ = "nudge_opt_outs"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NudgeKind] = mapped_column(_kind_column(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
