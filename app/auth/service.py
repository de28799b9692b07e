"""Accounts: passwords, emailed links (sign-up confirmation, password reset) and sessions.

Every answer is the same whether or not an address has an account: sign-up and reset always
say "check your email", and log-in always says the same thing when it fails."""

from datetime import timedelta
from functools import cache

from flask import current_app, flash, g, session
from flask_login import login_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit, outbox
from app.auth import sessions, two_factor
from app.extensions import db
from app.models import PendingSignup, Role, User, utcnow
from app.urls import absolute_url

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
RESET_LINK_LIFETIME = timedelta(hours=1)
SIGNUP_LINK_LIFETIME = timedelta(hours=24)
INVITE_LINK_LIFETIME = timedelta(days=3)


@cache
def _dummy_hash() -> str:
    # Checked when an address has no account, so a failed log-in takes as long either way.
    return generate_password_hash("plunge-timing-equaliser")


def normalise_email(address: str | None) -> str:
    """Email addresses compare without case or surrounding spaces."""
    return (address or "").strip().lower()


def hash_password(password: str) -> str:
    """A salted hash with werkzeug's current default algorithm (scrypt)."""
    return generate_password_hash(password)


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the user of the server-side session the cookie names, while it
    exists and is in date (see `app.auth.sessions`)."""
    return sessions.load(token)


def user_by_email(address: str) -> User | None:
    """The account for an address, if there is one."""
    return db.session.scalar(select(User).where(User.email == normalise_email(address)))


def authenticate(address: str, password: str) -> User | None:
    """The user whose address and password these are, or None, in about the same time."""
    user = user_by_email(address)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def log_in(user: User) -> None:
    """Start a fresh session for `user`: nothing from before log-in survives (session
    fixation), and the server keeps a record of it, which logging out deletes."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the old token per request
    sessions.start(user)
    login_user(user)


# How long the code step of a log-in waits after the password was given.
SECOND_FACTOR_WAIT = timedelta(minutes=5)


def password_accepted(user: User, next_url: str) -> bool:
    """The password was right: log in now (True), or, with a second factor, remember in this
    browser that only the code is missing (False) and let the code step finish it."""
    if two_factor.confirmed(user) is None:
        log_in(user)
        return True
    session.clear()
    g.pop("csrf_token", None)
    session["second_factor"] = {
        "user": user.id,
        "fp": user.password_fingerprint,
        "at": int(utcnow().timestamp()),
        "next": next_url,
    }
    return False


def waiting_for_code() -> User | None:
    """The account whose password this browser gave in the last few minutes, waiting for
    its second-factor code (and whose password has not changed since)."""
    pending = session.get("second_factor")
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None
    if utcnow().timestamp() - pending["at"] > SECOND_FACTOR_WAIT.total_seconds():
        return None
    user_id = pending.get("user")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.password_fingerprint != pending.get("fp"):
        return None
    return user if two_factor.confirmed(user) is not None else None


def finish_second_factor(user: User, code: str) -> str | None:
    """A right code logs in (returns where to go next); a wrong one returns None."""
    kind = two_factor.check_code(user, code)
    if kind is None:
        return None
    next_url = session.get("second_factor", {}).get("next", "")
    log_in(user)
    if kind == "recovery":
        left = two_factor.codes_left(user)
        flash(
            f"You used a recovery code: it won't work again. You have {left} left.",
            "info",
        )
    return next_url


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"plunge-{purpose}")


def _load_token(purpose: str, token: str, max_age: timedelta):
    try:
        return _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except (BadSignature, SignatureExpired):
        return None


def start_signup(name: str, address: str, password: str) -> None:
    """Email a confirmation link for a new address, or a "you already have an account" note
    to the owner of an existing one; the caller shows the same page either way."""
    address = normalise_email(address)
    password_hash = hash_password(password)  # on both paths, so both take as long
    _forget_stale_signups()
    if user_by_email(address) is not None:
        outbox.queue(
            address,
            "You already have an account",
            "account_exists",
            login_url=absolute_url("auth.login"),
            reset_url=absolute_url("auth.request_reset"),
        )
    else:
        pending = PendingSignup(email=address, name=name.strip(), password_hash=password_hash)
        db.session.add(pending)
        db.session.flush()
        token = _serializer("signup").dumps(pending.id)
        outbox.queue(
            address,
            "Confirm your email address",
            "confirm_signup",
            name=pending.name,
            confirm_url=absolute_url("auth.confirm_signup", token=token),
            hours=int(SIGNUP_LINK_LIFETIME.total_seconds() // 3600),
        )
    db.session.commit()


def _forget_stale_signups() -> None:
    cutoff = utcnow() - SIGNUP_LINK_LIFETIME
    db.session.execute(delete(PendingSignup).where(PendingSignup.created_at < cutoff))


def pending_signup(token: str) -> PendingSignup | None:
    """The sign-up a confirmation link is for, while the link is valid and unused."""
    signup_id = _load_token("signup", token, SIGNUP_LINK_LIFETIME)
    return db.session.get(PendingSignup, signup_id) if isinstance(signup_id, int) else None


def confirm_signup(pending: PendingSignup) -> User | None:
    """Turn a confirmed sign-up into a participant's account. None if the address got an
    account meanwhile (an earlier link was followed first)."""
    existing = user_by_email(pending.email)
    db.session.execute(delete(PendingSignup).where(PendingSignup.email == pending.email))
    if existing is not None:
        db.session.commit()
        return None
    user = User(
        email=pending.email,
        name=pending.name,
        password_hash=pending.password_hash,
        role=Role.PARTICIPANT,
    )
    db.session.add(user)
    db.session.commit()
    return user


def request_password_reset(address: str) -> None:
    """Email a reset link if the address has an account; do nothing visible otherwise."""
    user = user_by_email(address)
    if user is None:
        return
    token = _serializer("reset").dumps({"user": user.id, "fp": user.password_fingerprint})
    outbox.queue(
        user.email,
        "Reset your password",
        "password_reset",
        name=user.name,
        reset_url=absolute_url("auth.reset_password", token=token),
        minutes=int(RESET_LINK_LIFETIME.total_seconds() // 60),
    )
    db.session.commit()


def user_for_reset(token: str) -> User | None:
    """The user a reset link is for, while it is in date and the password is unchanged:
    setting a new password changes the fingerprint, so each link works once."""
    data = _load_token("reset", token, RESET_LINK_LIFETIME)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or user.password_fingerprint != data.get("fp"):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Store a new password hash; every session of the account ends and reset links stop
    working."""
    user.password_hash = hash_password(password)
    sessions.end_all(user)
    db.session.commit()


def create_organiser(address: str, name: str, password: str) -> User:
    """Create an organiser account (from the command line: there is no sign-up for one)."""
    user = User(
        email=normalise_email(address),
        name=name.strip(),
        password_hash=hash_password(password),
        role=Role.ORGANISER,
    )
    db.session.add(user)
    db.session.commit()
    return user


class InviteRefused(Exception):
    """Why someone can't be invited, in words for the organiser."""


def invite_organiser(name: str, address: str, invited_by: User) -> User:
    """Create an organiser account with no password yet and email a link to choose one.
    Inviting an address whose invitation is still unused sends a fresh link."""
    address = normalise_email(address)
    user = user_by_email(address)
    if user is not None and not (user.is_organiser and not user.password_hash):
        raise InviteRefused(
            "That address already has an account. Organisers see donors' details and health "
            "data, so an organiser's account must be separate: use another address."
        )
    if user is None:
        user = User(email=address, name=name.strip(), role=Role.ORGANISER, password_hash="")
        db.session.add(user)
        db.session.flush()
    token = _serializer("invite").dumps({"user": user.id, "fp": user.password_fingerprint})
    from app.events.service import get_event

    event = get_event()
    outbox.queue(
        address,
        f"You're invited to help organise {event.name if event else 'the event'}",
        "organiser_invite",
        name=user.name,
        inviter=invited_by.name,
        event=event,
        accept_url=absolute_url("auth.accept_invite", token=token),
        days=INVITE_LINK_LIFETIME.days,
    )
    audit.record("organiser.invited", actor=invited_by, subject_user=user)
    db.session.commit()
    return user


def user_for_invite(token: str) -> User | None:
    """The organiser an invitation is for, while it is in date and not yet used (choosing a
    password changes the fingerprint, so each link works once)."""
    data = _load_token("invite", token, INVITE_LINK_LIFETIME)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or user.password_hash or not user.is_organiser:
        return None
    return user if user.password_fingerprint == data.get("fp") else None


def accept_invite(user: User, password: str) -> None:
    """The invited organiser chooses a password; the invitation is used up."""
    user.password_hash = hash_password(password)
    audit.record("organiser.joined", actor=user, subject_user=user)
    db.session.commit()
