"""The demo's checklist: a second organiser, an instructor, and participants at every stage."""

from sqlalchemy import select

from app.extensions import db
from app.models import (
    HistoryAction,
    ItemKind,
    Role,
    SafetyAnswer,
    SafetyHistory,
    SafetySignOff,
    User,
)
from app.safety import checklist

ANSWERS = {
    ItemKind.DATE_OF_BIRTH: {"date_of_birth": "1999-05-14"},
    ItemKind.EMERGENCY_CONTACT: {
        "name": "Sam Rahman",
        "relationship": "brother",
        "phone": "07700 900123",
    },
    ItemKind.MEDICAL: {"conditions": [], "none_apply": True, "details": "", "consent": True},
    ItemKind.WEIGHT: {"within_limit": True, "limit_kg": 120},
    ItemKind.CONFIRMATION: {"agree": True},
}


def seed_safety(password_hash: str) -> None:
    """Aisha is cleared, Callum has answered but waits for sign-off, Morag (17) waits for her
    guardian, Tomasz has started; everyone else has not begun."""
    checklist.ensure_checklist()
    instructor = User(
        email="instructor@example.org",
        name="Iain Instructor",
        role=Role.INSTRUCTOR,
        password_hash=password_hash,
    )
    db.session.add(instructor)
    organiser = db.session.scalar(select(User).where(User.role == Role.ORGANISER))
    people = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    items = checklist.items()
    for name, how_far in (("aisha", "cleared"), ("callum", "answered"), ("morag", "under-18")):
        for item in items:
            if item.kind in ANSWERS:
                data = dict(ANSWERS[item.kind])
                if name == "morag" and item.kind == ItemKind.DATE_OF_BIRTH:
                    data = {"date_of_birth": "2010-01-20"}
                _answer(people[name], item, data)
                if how_far == "cleared":
                    _sign(people[name], item, organiser)
            elif item.kind == ItemKind.CHECK and how_far == "cleared":
                _sign(people[name], item, organiser)
    first = next(i for i in items if i.kind == ItemKind.DATE_OF_BIRTH)
    _answer(people["tomasz"], first, {"date_of_birth": "2001-11-02"})


def _answer(user: User, item, data: dict) -> None:
    db.session.add(
        SafetyAnswer(
            participant_id=user.id,
            item_id=item.id,
            item_version=item.version,
            wording_seen=f"{item.label}\n\n{item.wording}",
            data=data,
        )
    )


def _sign(user: User, item, organiser: User) -> None:
    db.session.add(
        SafetySignOff(participant_id=user.id, item_id=item.id, signed_by_id=organiser.id)
    )
    db.session.add(
        SafetyHistory(
            participant_id=user.id,
            item_id=item.id,
            item_label=item.label,
            action=HistoryAction.SIGN_OFF,
            actor_id=organiser.id,
        )
    )
