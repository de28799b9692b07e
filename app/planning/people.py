"""The organising group's people: its groups, who is in each, and inviting planners (people
who only plan, and see no donor, money or health data). Modelled on inviting an organiser
(app/auth/service.py): an account with no password, and an emailed link that works once."""

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from app import audit, outbox
from app.auth.service import hash_password, normalise_email, user_by_email
from app.extensions import db
from app.models import PlanningGroup, PlanningMember, Role, User, utcnow
from app.planning.service import ORGANISING_ROLES, PlanningRefused
from app.urls import absolute_url

INVITE_LINK_LIFETIME = timedelta(days=7)


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"plunge-{purpose}")


def make_token(purpose: str, data) -> str:
    """A signed link token for `purpose` ("planner-invite", "planning-reminders")."""
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age: timedelta | None = None):
    """What a token holds, or None if it is forged or out of date."""
    try:
        seconds = int(max_age.total_seconds()) if max_age else None
        return _serializer(purpose).loads(token, max_age=seconds)
    except (BadSignature, SignatureExpired):
        return None


def all_groups() -> list[PlanningGroup]:
    """Every group, retired ones last."""
    return list(
        db.session.scalars(
            select(PlanningGroup).order_by(PlanningGroup.retired_at.is_not(None), PlanningGroup.id)
        )
    )


def organising_people() -> list[User]:
    """Everyone who plans: organisers and planners, by name."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(ORGANISING_ROLES)).order_by(User.name, User.id)
        )
    )


def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(PlanningGroup.id).where(func.lower(PlanningGroup.name) == name.lower())
    if except_id is not None:
        query = query.where(PlanningGroup.id != except_id)
    return db.session.scalar(query) is not None


def add_group(name: str, about: str) -> PlanningGroup:
    """A new group, asked about every decision proposed from now on."""
    if _name_taken(name):
        raise PlanningRefused("There is already a group with that name.")
    group = PlanningGroup(name=name, about=about)
    db.session.add(group)
    db.session.commit()
    return group


def change_group(group: PlanningGroup, name: str, about: str, retired: bool) -> None:
    """Rename a group, or retire it (no longer asked) or bring it back. Past decisions keep
    the name the group had when it was asked."""
    if _name_taken(name, except_id=group.id):
        raise PlanningRefused("There is already a group with that name.")
    group.name, group.about = name, about
    if retired and group.retired_at is None:
        group.retired_at = utcnow()
    elif not retired:
        group.retired_at = None
    db.session.commit()


def set_groups(user: User, group_ids: set[int]) -> None:
    """Put someone in exactly these groups."""
    if user.role not in ORGANISING_ROLES:
        raise PlanningRefused("Only organisers and planners can be in a group.")
    known = set(db.session.scalars(select(PlanningGroup.id).where(PlanningGroup.id.in_(group_ids))))
    db.session.execute(
        delete(PlanningMember).where(
            PlanningMember.user_id == user.id, PlanningMember.group_id.not_in(known)
        )
    )
    have = set(
        db.session.scalars(select(PlanningMember.group_id).where(PlanningMember.user_id == user.id))
    )
    db.session.add_all(PlanningMember(user_id=user.id, group_id=g) for g in known - have)
    db.session.commit()


def invite_planner(name: str, address: str, group_ids: set[int], invited_by: User) -> User:
    """Make a planner account with no password, in these groups, and email a link to choose
    one. Inviting someone whose invitation is unused sends a fresh link."""
    address = normalise_email(address)
    user = user_by_email(address)
    if user is not None and user.role == Role.ORGANISER:
        raise PlanningRefused(
            "That person is already an organiser. Add them to a group in the list above."
        )
    if user is not None and not (user.role == Role.PLANNER and not user.password_hash):
        raise PlanningRefused(
            "That address already has an account. A planning account must be separate: "
            "use another address."
        )
    if user is None:
        user = User(email=address, name=name, role=Role.PLANNER, password_hash="")
        db.session.add(user)
        db.session.flush()
    token = make_token("planner-invite", {"user": user.id, "fp": user.password_fingerprint})
    from app.events.service import get_event

    event = get_event()
    outbox.queue(
        address,
        f"Help us plan {event.name if event else 'the event'}",
        "planner_invite",
        name=user.name,
        inviter=invited_by.name,
        event=event,
        accept_url=absolute_url("planning.accept_invite", token=token),
        days=INVITE_LINK_LIFETIME.days,
    )
    audit.record("planner.invited", actor=invited_by, subject_user=user)
    set_groups(user, group_ids)  # commits
    return user


def user_for_invite(token: str) -> User | None:
    """The planner an invitation is for, while it is in date and not yet used."""
    data = read_token("planner-invite", token, INVITE_LINK_LIFETIME)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or user.password_hash or user.role != Role.PLANNER:
        return None
    return user if user.password_fingerprint == data.get("fp") else None


def accept_invite(user: User, password: str) -> None:
    """The invited planner chooses a password; the invitation is used up."""
    user.password_hash = hash_password(password)
    audit.record("planner.joined", actor=user, subject_user=user)
    db.session.commit()
