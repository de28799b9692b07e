"""Where each participant stands: what is answered, what is signed off, what rules them out,
and whether they are cleared to take part. Computed, never stored, so it can't go stale."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from app.events.service import get_event
from app.extensions import db
from app.models import (
    ChecklistItem,
    ItemKind,
    Role,
    SafetyAnswer,
    SafetyRecord,
    SafetySettings,
    SafetySignOff,
    User,
    utcnow,
)
from app.safety import checklist
from app.safety.checklist import CONDITIONS, EXCLUDING, GUARDIAN_AGE
from app.timefmt import LONDON, to_london


def age_on(born: date, day: date) -> int:
    """Age in whole years on `day`: a birthday on the day counts (29 February: 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def event_day() -> date:
    """The day of the abseil in the UK (today, until an event is configured)."""
    event = get_event()
    return to_london(event.starts_at).date() if event else utcnow().astimezone(LONDON).date()


@dataclass
class ItemStatus:
    """One item for one participant."""

    item: ChecklistItem
    answer: SafetyAnswer | None
    sign_off: SafetySignOff | None
    applicable: bool = True
    stale: bool = False  # answered, but the item or its limit changed: answer again

    @property
    def answered(self) -> bool:
        """The participant's part is done (always true for an organiser's check)."""
        if not self.item.by_participant:
            return True
        return self.answer is not None and not self.stale

    @property
    def signed(self) -> bool:
        """An organiser (or instructor) has signed it off."""
        return self.sign_off is not None

    @property
    def complete(self) -> bool:
        """Answered and signed off, or not needed for this participant."""
        return not self.applicable or (self.answered and self.signed)


@dataclass
class PersonStatus:
    """Everything the checklist knows about one participant."""

    user: User
    record: SafetyRecord | None
    items: list[ItemStatus]
    age: int | None = None
    # What rules them out, in words for them, and in short for the organisers.
    blockers: list[str] = field(default_factory=list)
    ruled_out: list[str] = field(default_factory=list)
    # Not able to take part at all, in short ("under 16"): nothing is asked, signed off or
    # checked in. Empty for everyone who may still take part.
    unable: str = ""

    def rule_out(self, for_them: str, for_organisers: str) -> None:
        """Record something that stops them being cleared."""
        self.blockers.append(for_them)
        self.ruled_out.append(for_organisers)

    def item(self, kind: ItemKind) -> ItemStatus | None:
        """The first item of a kind (date of birth, medical, ...), if the list has one."""
        return next((s for s in self.items if s.item.kind == kind), None)

    @property
    def yours(self) -> list[ItemStatus]:
        """The participant's own, applicable, required items."""
        return [s for s in self.items if s.item.by_participant and s.applicable and s.item.required]

    @property
    def done_count(self) -> int:
        """How many of the participant's own required items are answered."""
        return sum(s.answered for s in self.yours)

    @property
    def missing(self) -> list[ItemStatus]:
        """The participant's own required items still to answer."""
        return [s for s in self.yours if not s.answered]

    @property
    def consent_withdrawn(self) -> bool:
        """They withdrew consent to process their health data (their answers are deleted)."""
        return bool(self.record and self.record.consent_withdrawn_at)

    @property
    def cleared(self) -> bool:
        """Cleared to take part: nothing rules them out, and every required item is done and
        signed off."""
        required = [s for s in self.items if s.item.required]
        return not self.blockers and all(s.complete for s in required)

    @property
    def cleared_but_on_the_day(self) -> bool:
        """Everything but the on-the-day items is done: what an instructor needs to know."""
        rest = [s for s in self.items if s.item.required and not s.item.on_the_day]
        return not self.blockers and all(s.complete for s in rest)

    @property
    def needs_guardian(self) -> bool:
        """Under 18 on the day, with the guardian's consent not yet given."""
        guardian = self.item(ItemKind.GUARDIAN)
        return bool(guardian and guardian.applicable and not guardian.answered)

    @property
    def medical_conditions(self) -> list[str]:
        """The conditions they declared, in words (organisers and the participant only)."""
        medical = self.item(ItemKind.MEDICAL)
        if medical is None or medical.answer is None:
            return []
        return [CONDITIONS[c] for c in medical.answer.data.get("conditions", []) if c in CONDITIONS]

    @property
    def medical_to_review(self) -> bool:
        """A medical declaration is in and no organiser has signed it off yet."""
        medical = self.item(ItemKind.MEDICAL)
        return bool(medical and medical.answered and not medical.signed)


def _rules(settings: SafetySettings, status: PersonStatus, day: date) -> None:
    dob = status.item(ItemKind.DATE_OF_BIRTH)
    if dob and dob.answer:
        status.age = age_on(date.fromisoformat(dob.answer.data["date_of_birth"]), day)
    too_young = status.age is not None and status.age < settings.min_age
    guardian = status.item(ItemKind.GUARDIAN)
    if guardian:
        # Until we know the age we can't say; a guardian is needed only for under-18s, and
        # not at all for someone too young to take part.
        guardian.applicable = status.age is not None and status.age < GUARDIAN_AGE and not too_young
    if too_young:
        status.unable = f"under {settings.min_age}"
        status.rule_out(
            f"You will be {status.age} on the day of the abseil. The minimum age is "
            f"{settings.min_age}, so you can't take part this time.",
            f"under the minimum age ({status.age} on the day)",
        )
    weight = status.item(ItemKind.WEIGHT)
    if weight and weight.answer:
        if weight.answer.data.get("limit_kg") != settings.weight_limit_kg:
            weight.stale = True  # they answered against a limit that has since changed
        elif not weight.answer.data.get("within_limit"):
            status.rule_out(
                f"The weight limit is {settings.weight_limit_kg} kg, so you can't take part "
                "this time. Please talk to the organisers.",
                "over the weight limit",
            )
    medical = status.item(ItemKind.MEDICAL)
    if medical and medical.answer and EXCLUDING & set(medical.answer.data.get("conditions", [])):
        status.rule_out(
            "You told us you are pregnant, so you can't take part this time. "
            "Thank you for telling us.",
            "an excluding medical condition",
        )
    if status.consent_withdrawn and (medical is None or medical.answer is None):
        status.rule_out(
            "You withdrew your consent to us using your health information, so you can't be "
            "cleared. Fill in the medical declaration again if you change your mind.",
            "consent to use health information withdrawn",
        )


def _build(user, record, items, answers, sign_offs, settings, day) -> PersonStatus:
    states = []
    for item in items:
        answer = answers.get((user.id, item.id))
        stale = bool(answer and answer.item_version < item.answers_valid_from)
        states.append(ItemStatus(item, answer, sign_offs.get((user.id, item.id)), stale=stale))
    status = PersonStatus(user=user, record=record, items=states)
    _rules(settings, status, day)
    return status


def statuses(users: list[User]) -> list[PersonStatus]:
    """Status for many participants in a handful of queries."""
    items = checklist.items()
    settings = checklist.settings()
    ids = [u.id for u in users]
    if not ids:
        return []
    answers = {
        (a.participant_id, a.item_id): a
        for a in db.session.scalars(
            select(SafetyAnswer).where(SafetyAnswer.participant_id.in_(ids))
        )
    }
    sign_offs = {
        (s.participant_id, s.item_id): s
        for s in db.session.scalars(
            select(SafetySignOff).where(SafetySignOff.participant_id.in_(ids))
        )
    }
    records = {
        r.participant_id: r
        for r in db.session.scalars(
            select(SafetyRecord).where(SafetyRecord.participant_id.in_(ids))
        )
    }
    day = event_day()
    return [_build(u, records.get(u.id), items, answers, sign_offs, settings, day) for u in users]


def status_of(user: User) -> PersonStatus:
    """One participant's status."""
    return statuses([user])[0]


def participants() -> list[User]:
    """Everyone taking part: participants, and anyone else (an organiser, say) who has started
    the checklist."""
    started = select(SafetyAnswer.participant_id)
    query = select(User).where(or_(User.role == Role.PARTICIPANT, User.id.in_(started)))
    return list(db.session.scalars(query.order_by(User.name, User.id)))
