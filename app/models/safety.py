"""The safety and consent checklist: its items, participants' answers, sign-offs and history.

Answers are stored encrypted (`EncryptedJSON`): they hold health details, emergency contacts
and guardians' details. The history is append-only: the app only ever inserts into it, and the
database refuses UPDATE and DELETE on it (`app.models.append_only`)."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import append_only
from app.models.types import EncryptedJSON, UTCDateTime, utcnow

SETTINGS_ID = 1


def _enum(cls) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class CompletedBy(enum.StrEnum):
    """Who completes an item: the participant answers it, or an organiser checks it."""

    PARTICIPANT = "participant"
    ORGANISER = "organiser"


class ItemKind(enum.StrEnum):
    """What an item asks for, which decides its form and its rules."""

    DATE_OF_BIRTH = "date_of_birth"
    EMERGENCY_CONTACT = "emergency_contact"
    MEDICAL = "medical"
    WEIGHT = "weight"
    GUARDIAN = "guardian"
    # The participant ticks to accept the item's wording (risks, terms, anything added).
    CONFIRMATION = "confirmation"
    # An organiser (or, on the day, an instructor) checks it and signs it off.
    CHECK = "check"


class SafetySettings(db.Model):
    """The checklist's rules: the minimum age on the day, the weight limit, and when on the
    event day the on-the-day items may be signed off."""

    __tablename__ = "safety_settings"

    id: Mapped[int] = mapped_column(primary_key=True, default=SETTINGS_ID)
    min_age: Mapped[int] = mapped_column(default=16)
    weight_limit_kg: Mapped[int] = mapped_column(default=120)
    # Briefing, kit and harness are signed off from this many hours before the event starts
    # until the end of the event day (UK time): never months ahead.
    on_the_day_hours_before: Mapped[int] = mapped_column(default=2, server_default="2")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ChecklistItem(db.Model):
    """One thing to do before going over the edge. Rewording bumps `version`; answers keep the
    version and wording their participant saw."""

    __tablename__ = "safety_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    label: Mapped[str] = mapped_column(String(120))
    wording: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    required: Mapped[bool] = mapped_column(default=True)
    completed_by: Mapped[CompletedBy] = mapped_column(_enum(CompletedBy))
    # Briefing, kit, harness: checked at the tower, and the only items instructors sign off.
    on_the_day: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    # Answers to versions before this one must be given again (the organiser asked for that).
    answers_valid_from: Mapped[int] = mapped_column(default=1)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def by_participant(self) -> bool:
        """True if the participant completes it (and an organiser then signs it off)."""
        return self.completed_by == CompletedBy.PARTICIPANT


class SafetyAnswer(db.Model):
    """A participant's answer to one item, encrypted, with the wording they answered."""

    __tablename__ = "safety_answers"
    __table_args__ = (UniqueConstraint("participant_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("safety_items.id"))
    item_version: Mapped[int] = mapped_column()
    wording_seen: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ChecklistItem] = relationship()


class SafetySignOff(db.Model):
    """An item signed off for a participant, now. Revoking deletes this row; the history keeps
    every sign-off and revocation."""

    __tablename__ = "safety_sign_offs"
    __table_args__ = (UniqueConstraint("participant_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("safety_items.id"))
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")

    signed_by: Mapped["User"] = relationship(foreign_keys=[signed_by_id])  # noqa: F821


class SafetyRecord(db.Model):
    """Per participant: consent withdrawn, checked in on the day, answers purged."""

    __tablename__ = "safety_records"

    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Checked out at the end of their go, having done it (app/news: "Done it!").
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    checked_in_by: Mapped["User | None"] = relationship(foreign_keys=[checked_in_by_id])  # noqa: F821


class HistoryAction(enum.StrEnum):
    """What happened to a participant's checklist."""

    SIGN_OFF = "sign_off"
    REVOKE = "revoke"
    ANSWER_CHANGED = "answer_changed"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CHECK_IN = "check_in"
    UNDO_CHECK_IN = "undo_check_in"
    COMPLETED = "completed"
    UNDO_COMPLETED = "undo_completed"
    PURGED = "purged"


class SafetyHistory(db.Model):
    """One thing that happened, by whom (None: the system) and when, in UTC. Append-only."""

    __tablename__ = "safety_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("safety_items.id"), nullable=True)
    # The item's name when it happened: it may be reworded later.
    item_label: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[HistoryAction] = mapped_column(_enum(HistoryAction))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")

    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])  # noqa: F821


# The database refuses UPDATE and DELETE too, for raw SQL that never reaches the ORM.
append_only.protect(SafetyHistory.__table__)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a line of the safety history."""


@sa_event.listens_for(SafetyHistory, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise AppendOnlyError(f"safety history {target.id} is append-only: it cannot be changed")


@sa_event.listens_for(SafetyHistory, "before_delete")
def _refuse_delete(_mapper, _connection, target):
    raise AppendOnlyError(f"safety history {target.id} is append-only: it cannot be deleted")
