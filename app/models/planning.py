"""Planning the event together: the organising group's groups, its decisions, who was asked,
what each person said, and what was decided (with or without consulting).

A decision's record is append-only: the decision, the groups it was put to, every say and its
outcome are only ever inserted, and the database refuses UPDATE and DELETE on them
(`app.models.append_only`). Closing a decision is inserting its one outcome row: its primary key
is the decision's id, so of two people closing it at once exactly one wins, on any database.
Groups, who is in them and reminder settings are the current state and may change."""

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.models import append_only
from app.models.types import UTCDateTime, utcnow


class PlanningGroup(db.Model):
    """One group of the organising group, e.g. "Service users and carers" or "Students"."""

    __tablename__ = "planning_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    about: Mapped[str] = mapped_column(String(300), default="")
    # A retired group is not asked about new decisions; its past say stays on the record.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanningMember(db.Model):
    """Someone (an organiser or a planner) in a group, now."""

    __tablename__ = "planning_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("planning_groups.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[PlanningGroup] = relationship()
    user: Mapped["User"] = relationship()  # noqa: F821


class Decision(db.Model):
    """Something the organising group decides: proposed to every group, or taken alone by one
    person (`taken_alone`, with the reason) and then reported back. Append-only."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # What is being decided and why it matters.
    details: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[str] = mapped_column(Text, default="")
    decide_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    taken_alone: Mapped[bool] = mapped_column(default=False)
    alone_reason: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    proposed_by: Mapped["User"] = relationship()  # noqa: F821
    asked: Mapped[list["DecisionGroup"]] = relationship(order_by="DecisionGroup.id", viewonly=True)
    outcome: Mapped["DecisionOutcome | None"] = relationship(viewonly=True)


class DecisionGroup(db.Model):
    """A group a decision was put to, with its name as it was then. Append-only."""

    __tablename__ = "decision_groups"
    __table_args__ = (UniqueConstraint("decision_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("planning_groups.id"))
    group_name: Mapped[str] = mapped_column(String(80))


class Stance(enum.StrEnum):
    """What someone thinks of a decision."""

    AGREE = "agree"
    CONCERNS = "concerns"
    COMMENT = "comment"


class DecisionResponse(db.Model):
    """One say by one person, for one group they are in (someone in two groups speaks in
    both). A later say by the same person replaces the earlier one on the page; both stay on
    the record. Append-only."""

    __tablename__ = "decision_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("planning_groups.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stance: Mapped[Stance] = mapped_column(
        Enum(Stance, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship()  # noqa: F821


class DecisionOutcome(db.Model):
    """What was decided and why, by whom and when: one per decision (the primary key), so a
    decision is closed once. Append-only."""

    __tablename__ = "decision_outcomes"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), primary_key=True)
    decided: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Shown on the public "How we organised this" page.
    published: Mapped[bool] = mapped_column(default=False)

    decided_by: Mapped["User"] = relationship()  # noqa: F821


class PlanningReminders(db.Model):
    """Someone's weekly reminder: turned off (and when), and the last week it was sent."""

    __tablename__ = "planning_reminders"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    off_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # ISO week, e.g. "2027-W14": one reminder a week however often the command runs.
    last_week: Mapped[str] = mapped_column(String(8), default="")


APPEND_ONLY = (Decision, DecisionGroup, DecisionResponse, DecisionOutcome)
for _model in APPEND_ONLY:
    append_only.protect(_model.__table__)


class DecisionRecordChanged(RuntimeError):
    """Raised when code tries to change or delete part of a decision's record."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    """A decision's record is only ever added to: an update or delete is a bug."""
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, APPEND_ONLY) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise DecisionRecordChanged(f"{instance.__tablename__} is append-only")
