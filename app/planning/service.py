"""Decisions: proposing one to every group, each person's say, closing it, and decisions taken
alone that wait to be reported back. Everything here only adds rows (see app.models.planning)."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.database import begin_write
from app.extensions import db
from app.models import (
    Decision,
    DecisionGroup,
    DecisionOutcome,
    DecisionResponse,
    PlanningGroup,
    PlanningMember,
    Role,
    Stance,
    User,
)

ORGANISING_ROLES = (Role.ORGANISER, Role.PLANNER)


class PlanningRefused(Exception):
    """Why something can't be done, in plain words for the person who tried."""


class AlreadyDecided(PlanningRefused):
    """Someone else closed the decision first; `outcome` is what they recorded."""

    def __init__(self, outcome: DecisionOutcome):
        super().__init__(
            f"{outcome.decided_by.name} closed this decision a moment ago. "
            "Your words were not saved. Read what they decided below."
        )
        self.outcome = outcome


def in_organising_group(user) -> bool:
    """True for organisers and planners: the people who plan the event together."""
    return user.is_authenticated and user.role in ORGANISING_ROLES


def active_groups() -> list[PlanningGroup]:
    """The groups asked about new decisions, in the order they were made."""
    return list(
        db.session.scalars(
            select(PlanningGroup)
            .where(PlanningGroup.retired_at.is_(None))
            .order_by(PlanningGroup.id)
        )
    )


def group_ids_of(user_id: int) -> set[int]:
    """The groups someone is in now."""
    return set(
        db.session.scalars(select(PlanningMember.group_id).where(PlanningMember.user_id == user_id))
    )


def groups_of(user_id: int) -> list[PlanningGroup]:
    """The groups someone is in now, by name: what their account shows."""
    return list(
        db.session.scalars(
            select(PlanningGroup)
            .join(PlanningMember, PlanningMember.group_id == PlanningGroup.id)
            .where(PlanningMember.user_id == user_id)
            .order_by(PlanningGroup.name)
        )
    )


def _put_to_every_group(decision: Decision) -> None:
    groups = active_groups()
    if not groups:
        raise PlanningRefused("There are no groups yet. Ask an organiser to add them first.")
    db.session.flush()
    db.session.add_all(
        DecisionGroup(decision_id=decision.id, group_id=g.id, group_name=g.name) for g in groups
    )


def propose(user: User, title: str, details: str, options: str, decide_by: date | None):
    """Put a decision to every group; returns it."""
    decision = Decision(
        title=title,
        details=details,
        options=options,
        decide_by=decide_by,
        proposed_by_id=user.id,
    )
    db.session.add(decision)
    _put_to_every_group(decision)
    db.session.commit()
    return decision


def record_alone(user: User, title: str, decided: str, why: str, alone_reason: str, publish):
    """Record a decision one person took without asking the groups: it is flagged "to report
    back" until every group has had its say."""
    decision = Decision(
        title=title, taken_alone=True, alone_reason=alone_reason, proposed_by_id=user.id
    )
    db.session.add(decision)
    _put_to_every_group(decision)
    db.session.add(
        DecisionOutcome(
            decision_id=decision.id,
            decided=decided,
            why=why,
            decided_by_id=user.id,
            published=bool(publish),
        )
    )
    db.session.commit()
    return decision


def get_decision(decision_id: int) -> Decision | None:
    """A decision with its groups and outcome."""
    return db.session.scalar(
        select(Decision)
        .where(Decision.id == decision_id)
        .options(selectinload(Decision.asked), selectinload(Decision.outcome))
    )


def say(user: User, decision: Decision, stance: Stance, comment: str) -> list[str]:
    """Add someone's say, once for each group of theirs that was asked; returns the groups'
    names. A decision already made (not alone) takes no more says."""
    if decision.outcome is not None and not decision.taken_alone:
        raise PlanningRefused("This decision has been made. You cannot add your say now.")
    mine = group_ids_of(user.id)
    asked = [g for g in decision.asked if g.group_id in mine]
    if not asked:
        raise PlanningRefused(
            "You are not in a group that was asked about this. "
            "Ask an organiser to add you to a group."
        )
    db.session.add_all(
        DecisionResponse(
            decision_id=decision.id,
            group_id=g.group_id,
            user_id=user.id,
            stance=stance,
            comment=comment,
        )
        for g in asked
    )
    db.session.commit()
    return [g.group_name for g in asked]


def close(user: User, decision_id: int, decided: str, why: str, publish: bool) -> None:
    """Record what was decided and why. Of two people closing at once, one wins; the other
    gets AlreadyDecided with the winner's outcome."""
    begin_write()  # SQLite: closers queue here; PostgreSQL: the row lock below
    decision = db.session.scalar(
        select(Decision).where(Decision.id == decision_id).with_for_update()
    )
    if decision is None:
        db.session.rollback()
        raise LookupError(decision_id)
    existing = db.session.get(DecisionOutcome, decision_id)
    if existing is not None:
        db.session.rollback()
        raise AlreadyDecided(db.session.get(DecisionOutcome, decision_id))
    db.session.add(
        DecisionOutcome(
            decision_id=decision_id,
            decided=decided,
            why=why,
            decided_by_id=user.id,
            published=publish,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another process inserted the outcome between our check and our insert.
        db.session.rollback()
        raise AlreadyDecided(db.session.get(DecisionOutcome, decision_id)) from None


# Reading ---------------------------------------------------------------------------------


@dataclass
class GroupSay:
    """One group asked about one decision: its members now, and who has had their say."""

    group_id: int
    name: str
    says: list[DecisionResponse] = field(default_factory=list)  # the latest per person
    waiting: list[User] = field(default_factory=list)  # members with no say yet

    @property
    def has_had_its_say(self) -> bool:
        """At least one member has said what they think (or, for a decision taken alone,
        has seen it and responded)."""
        return bool(self.says)


@dataclass
class DecisionRecord:
    """A decision as the pages show it."""

    decision: Decision
    groups: list[GroupSay]

    @property
    def outcome(self) -> DecisionOutcome | None:
        """What was decided, once it was."""
        return self.decision.outcome

    @property
    def to_report_back(self) -> bool:
        """Taken alone, and some group has not yet had its say."""
        return self.decision.taken_alone and not all(g.has_had_its_say for g in self.groups)

    @property
    def open(self) -> bool:
        """Still being decided."""
        return self.decision.outcome is None

    def waiting_for(self, user_id: int) -> bool:
        """This person is asked, in some group, and has not had their say there yet."""
        return any(user_id in {u.id for u in g.waiting} for g in self.groups) and (
            self.open or self.to_report_back
        )

    @property
    def consulted(self) -> list[str]:
        """The groups that had their say."""
        return [g.name for g in self.groups if g.has_had_its_say]


def records(decisions: list[Decision]) -> list[DecisionRecord]:
    """Who has had their say, per group, for each decision (three queries in all)."""
    ids = [d.id for d in decisions]
    responses = db.session.scalars(
        select(DecisionResponse)
        .where(DecisionResponse.decision_id.in_(ids))
        .options(selectinload(DecisionResponse.user))
        .order_by(DecisionResponse.id)
    ).all()
    members: dict[int, list[User]] = {}
    for member in db.session.scalars(
        select(PlanningMember).options(selectinload(PlanningMember.user))
    ):
        members.setdefault(member.group_id, []).append(member.user)
    latest: dict[tuple[int, int], dict[int, DecisionResponse]] = {}
    for response in responses:  # in id order: a later say replaces an earlier one
        latest.setdefault((response.decision_id, response.group_id), {})[response.user_id] = (
            response
        )
    result = []
    for decision in decisions:
        groups = []
        for asked in decision.asked:
            says = latest.get((decision.id, asked.group_id), {})
            waiting = [u for u in members.get(asked.group_id, []) if u.id not in says]
            groups.append(
                GroupSay(
                    asked.group_id,
                    asked.group_name,
                    says=sorted(says.values(), key=lambda r: r.id),
                    waiting=sorted(waiting, key=lambda u: u.name),
                )
            )
        result.append(DecisionRecord(decision, groups))
    return result


def _decisions(*where) -> list[Decision]:
    return list(
        db.session.scalars(
            select(Decision)
            .where(*where)
            .options(
                selectinload(Decision.asked),
                selectinload(Decision.outcome).selectinload(DecisionOutcome.decided_by),
                selectinload(Decision.proposed_by),
            )
            .order_by(Decision.created_at.desc(), Decision.id.desc())
        )
    )


def record_of(decision: Decision) -> DecisionRecord:
    """One decision's record."""
    return records([decision])[0]


@dataclass
class PlanningPage:
    """The planning page: decisions to report back first, then the rest."""

    to_report_back: list[DecisionRecord]
    open: list[DecisionRecord]
    decided: list[DecisionRecord]


def planning_page() -> PlanningPage:
    """Every decision, sorted for the planning page."""
    everything = records(_decisions())
    return PlanningPage(
        to_report_back=[r for r in everything if r.to_report_back],
        open=[r for r in everything if r.open],
        decided=[r for r in everything if not r.open and not r.to_report_back],
    )


def report_since(since: datetime) -> list[DecisionRecord]:
    """Decisions proposed, recorded or closed since `since`, oldest first, for a meeting."""
    touched = select(DecisionOutcome.decision_id).where(DecisionOutcome.decided_at >= since)
    found = _decisions((Decision.created_at >= since) | Decision.id.in_(touched))
    return list(reversed(records(found)))


def published() -> list[DecisionRecord]:
    """Decisions the group chose to show on the public "How we organised this" page."""
    shown = select(DecisionOutcome.decision_id).where(DecisionOutcome.published.is_(True))
    return records(_decisions(Decision.id.in_(shown)))
