"""What people do to the checklist: answer, withdraw consent, sign off, revoke, check in,
remind, and, after the event, purge. Every sign-off, revocation and check-in is written to the
append-only history in the same transaction."""

from datetime import datetime, timedelta

from flask import abort, current_app
from sqlalchemy import delete, select, text

from app import outbox
from app.events.service import get_event
from app.extensions import db
from app.models import (
    ChecklistItem,
    HistoryAction,
    ItemKind,
    Role,
    SafetyAnswer,
    SafetyHistory,
    SafetyRecord,
    SafetySignOff,
    User,
    utcnow,
)
from app.safety import checklist, crypto, on_the_day
from app.safety.status import PersonStatus, participants, status_of, statuses
from app.urls import absolute_url

# Deleted by `flask safety purge` after the event: health data and emergency contacts.
PURGED_KINDS = (ItemKind.MEDICAL, ItemKind.EMERGENCY_CONTACT)


class SafetyError(Exception):
    """Something a person may not do, in words for them, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message, self.status = message, status


def item_or_404(item_id: int) -> ChecklistItem:
    """A current item of the checklist, or 404."""
    item = db.session.get(ChecklistItem, item_id)
    if item is None or item.removed_at is not None:
        abort(404)
    return item


def person_or_404(user_id: int) -> User:
    """Someone's account, for the people who may see their checklist, or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _record(user_id: int) -> SafetyRecord:
    record = db.session.get(SafetyRecord, user_id)
    if record is None:
        record = SafetyRecord(participant_id=user_id)
        db.session.add(record)
    return record


def _history(person_id, action, actor=None, item=None, note="") -> None:
    db.session.add(
        SafetyHistory(
            participant_id=person_id,
            item_id=item.id if item else None,
            item_label=item.label if item else "",
            action=action,
            actor_id=actor.id if actor else None,
            at=utcnow(),
            note=note[:500],
        )
    )


def _drop_sign_off(
    person_id: int, item: ChecklistItem, actor, note: str, action=HistoryAction.REVOKE
) -> bool:
    found = db.session.scalar(
        select(SafetySignOff).where(
            SafetySignOff.participant_id == person_id, SafetySignOff.item_id == item.id
        )
    )
    if found is None:
        return False
    db.session.delete(found)
    _history(person_id, action, actor, item, note)
    return True


# The participant ---------------------------------------------------------------------------


def wording_for(item: ChecklistItem) -> str:
    """The words a participant answers, kept with the answer (the item may be reworded)."""
    rules = checklist.settings()
    extra = {
        ItemKind.DATE_OF_BIRTH: f"Minimum age on the day: {rules.min_age}.",
        ItemKind.WEIGHT: f"Weight limit: {rules.weight_limit_kg} kg.",
    }.get(item.kind, "")
    return "\n\n".join(part for part in (item.label, item.wording, extra) if part)


def save_answer(user: User, item: ChecklistItem, data: dict) -> None:
    """Store a participant's answer (encrypted). A changed answer needs signing off again."""
    answer = db.session.scalar(
        select(SafetyAnswer).where(
            SafetyAnswer.participant_id == user.id, SafetyAnswer.item_id == item.id
        )
    )
    wording = wording_for(item)
    if answer is None:
        answer = SafetyAnswer(participant_id=user.id, item_id=item.id)
    if item.kind == ItemKind.WEIGHT:
        data = {**data, "limit_kg": checklist.settings().weight_limit_kg}
    if answer.id is not None and (answer.data != data or answer.item_version != item.version):
        _drop_sign_off(
            user.id, item, user, "Answer changed: sign off again.", HistoryAction.ANSWER_CHANGED
        )
    answer.data = data
    answer.item_version = item.version
    answer.wording_seen = wording
    answer.answered_at = utcnow()
    db.session.add(answer)
    if item.kind == ItemKind.MEDICAL:
        record = db.session.get(SafetyRecord, user.id)
        if record is not None:
            record.consent_withdrawn_at = None  # answering again is consenting again
    db.session.commit()


def withdraw_consent(user: User) -> int:
    """Withdraw consent to process health data: the medical answers are deleted (not hidden),
    their sign-offs revoked, and the participant can't be cleared. Returns answers deleted."""
    medical = [i for i in checklist.items() if i.kind == ItemKind.MEDICAL]
    deleted = 0
    for item in medical:
        _drop_sign_off(user.id, item, user, "Consent to use health information withdrawn.")
        deleted += db.session.execute(
            delete(SafetyAnswer).where(
                SafetyAnswer.participant_id == user.id, SafetyAnswer.item_id == item.id
            )
        ).rowcount
    _record(user.id).consent_withdrawn_at = utcnow()
    _history(user.id, HistoryAction.CONSENT_WITHDRAWN, user, note="Health answers deleted.")
    db.session.commit()
    return deleted


# Organisers and instructors ------------------------------------------------------------------


def may_sign(actor: User, person_id: int, item: ChecklistItem) -> str | None:
    """Why `actor` may not sign off (or revoke) this item for this person; None if they may."""
    if actor.id == person_id:
        return "Nobody signs off their own checklist: another organiser must do it."
    if actor.role == Role.ORGANISER:
        return None
    if actor.role == Role.INSTRUCTOR and item.on_the_day:
        return None
    if actor.role == Role.INSTRUCTOR:
        return "Instructors sign off only the on-the-day items: briefing, kit and harness."
    return "Only organisers sign off safety items."


def sign_off(actor: User, person: User, item: ChecklistItem, note: str = "") -> PersonStatus:
    """Sign an item off for a participant, recording who, when (UTC) and the note."""
    refusal = may_sign(actor, person.id, item)
    if refusal:
        raise SafetyError(refusal, 403)
    status = status_of(person)
    if status.unable:
        raise SafetyError(_unable(status), 409)
    if item.on_the_day and (closed := on_the_day.refusal()):
        raise SafetyError(closed, 409)
    state = next(s for s in status.items if s.item.id == item.id)
    if not state.applicable:
        raise SafetyError(f"{item.label} is not needed for {person.name}.", 409)
    if not state.answered:
        raise SafetyError(f"{person.name} hasn't answered {item.label} yet.", 409)
    if state.sign_off is None:
        db.session.add(
            SafetySignOff(
                participant_id=person.id, item_id=item.id, signed_by_id=actor.id, note=note
            )
        )
        _history(person.id, HistoryAction.SIGN_OFF, actor, item, note)
        db.session.commit()
    return status_of(person)


def revoke(actor: User, person: User, item: ChecklistItem, note: str = "") -> PersonStatus:
    """Take back a sign-off (recorded in the history); the participant is no longer cleared."""
    refusal = may_sign(actor, person.id, item)
    if refusal:
        raise SafetyError(refusal, 403)
    if _drop_sign_off(person.id, item, actor, note):
        db.session.commit()
    return status_of(person)


def _unable(status: PersonStatus) -> str:
    return f"{status.user.name} is not able to take part: {status.unable}."


def check_in(actor: User, person: User, undo: bool = False) -> None:
    """Record that someone has arrived on the day (or take that back), by whom and when.
    Someone not able to take part (too young) is never checked in."""
    if not undo and (status := status_of(person)).unable:
        raise SafetyError(_unable(status), 409)
    record = _record(person.id)
    if undo and record.checked_in_at is not None:
        record.checked_in_at, record.checked_in_by_id = None, None
        _history(person.id, HistoryAction.UNDO_CHECK_IN, actor)
    elif not undo and record.checked_in_at is None:
        record.checked_in_at, record.checked_in_by_id = utcnow(), actor.id
        _history(person.id, HistoryAction.CHECK_IN, actor)
    db.session.commit()


def check_out_completed(actor: User, person: User, undo: bool = False) -> None:
    """Record that someone checked in has done it (their page and the event's news feed say
    "Done it!"), or take that back (the feed's item is hidden)."""
    from app.news import service as news

    record = _record(person.id)
    if not undo and record.checked_in_at is None:
        raise SafetyError(f"Check {person.name} in before checking them out as done.", 409)
    if undo and record.completed_at is not None:
        record.completed_at = None
        _history(person.id, HistoryAction.UNDO_COMPLETED, actor)
        news.withdraw_done_it(person, actor)
    elif not undo and record.completed_at is None:
        record.completed_at = utcnow()
        _history(person.id, HistoryAction.COMPLETED, actor)
        news.announce_done_it(person)
    db.session.commit()


def history(person: User) -> list[SafetyHistory]:
    """Everything that happened to someone's checklist, oldest first."""
    query = select(SafetyHistory).where(SafetyHistory.participant_id == person.id)
    return list(db.session.scalars(query.order_by(SafetyHistory.at, SafetyHistory.id)))


def to_remind(everyone: list[PersonStatus] | None = None) -> list[PersonStatus]:
    """Participants with something still to fill in (and not ruled out), from `everyone`'s
    statuses when the caller has them already."""
    everyone = statuses(participants()) if everyone is None else everyone
    return [s for s in everyone if s.missing and not s.blockers]


def send_reminders() -> int:
    """Email everyone with missing items, through the outbox; returns how many were queued."""
    people = to_remind()
    url = absolute_url("safety.show_checklist")
    event = get_event()
    for status in people:
        outbox.queue(
            status.user.email,
            "Your safety checklist: a few things still to do",
            "safety_reminder",
            name=status.user.name,
            missing=[s.item.label for s in status.missing],
            url=url,
            event=event,
        )
    db.session.commit()
    return len(people)


# After the event ------------------------------------------------------------------------------


def purge_date() -> datetime | None:
    """When health answers and emergency contacts are due for deletion."""
    event = get_event()
    if event is None:
        return None
    return event.starts_at + timedelta(days=current_app.config["SAFETY_RETENTION_DAYS"])


def purge(force: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Delete health answers and emergency contacts; returns how many of each.

    Raises SafetyError before the purge date unless `force`."""
    due = purge_date()
    if not force and (due is None or (now or utcnow()) < due):
        raise SafetyError("It is too early to delete safety answers.", 409)
    counts = {}
    people = set()
    for kind in PURGED_KINDS:
        item_ids = select(ChecklistItem.id).where(ChecklistItem.kind == kind)
        rows = db.session.execute(
            select(SafetyAnswer.id, SafetyAnswer.participant_id).where(
                SafetyAnswer.item_id.in_(item_ids)
            )
        ).all()
        people |= {participant_id for _, participant_id in rows}
        db.session.execute(delete(SafetyAnswer).where(SafetyAnswer.id.in_([r[0] for r in rows])))
        counts[kind.value] = len(rows)
    for person_id in sorted(people):
        _history(
            person_id, HistoryAction.PURGED, note="Health answers and emergency contact deleted."
        )
    db.session.commit()
    return counts


def rotate_keys() -> int:
    """Re-encrypt every stored answer under the current key; returns how many."""
    rows = db.session.execute(text("SELECT id, data FROM safety_answers")).all()
    for answer_id, token in rows:
        db.session.execute(
            text("UPDATE safety_answers SET data = :data WHERE id = :id"),
            {"data": crypto.rotate(token), "id": answer_id},
        )
    db.session.commit()
    return len(rows)
