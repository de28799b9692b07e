"""Limits per account, on top of the limits per client address (Flask-Limiter, counted in
RATELIMIT_STORAGE_URI like every other limit): someone with many addresses still gets only
LOGIN_FAILURES_PER_ACCOUNT wrong passwords for one email address, CODE_FAILURES_PER_ACCOUNT
wrong second-factor codes for one account, and can have only EMAILS_PER_ADDRESS sign-up or
reset emails sent to one address.

An address is limited whether or not it has an account, so a lock-out says nothing about
who has one; only a real owner is emailed, once per lock-out."""

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy.exc import SQLAlchemyError

from app import outbox
from app.database import begin_write
from app.extensions import db, limiter
from app.models import User, utcnow
from app.urls import absolute_url

log = logging.getLogger(__name__)


def _form_email() -> str:
    from app.auth.service import normalise_email

    return normalise_email(request.form.get("email"))[:254]


def pending_user_id() -> int | None:
    """The account waiting for its second-factor code in this browser, if any."""
    pending = session.get("second_factor")
    user_id = pending.get("user") if isinstance(pending, dict) else None
    return user_id if isinstance(user_id, int) else None


def _failed(response) -> bool:
    # Set by the view when the password (or the code) was wrong; other answers don't count.
    return bool(g.get("attempt_failed"))


def count_failure() -> None:
    """Tell the per-account limit that this request's password or code was wrong."""
    g.attempt_failed = True


def _window_started(breach) -> datetime:
    # When the locked window began, a second early: storage reports its reset time to the
    # whole second (Redis TTLs), and an email sent in this window must count as sent.
    reset_at = datetime.fromtimestamp(breach.window[0], UTC)
    return reset_at - timedelta(seconds=breach.limit.get_expiry() + 1)


def _tell_owner(user: User | None, breach, column: str, template: str, subject: str) -> None:
    """Email the account's owner the first time this lock-out refuses a try."""
    if user is None:
        return
    try:
        begin_write()
        mailed = getattr(user, column)
        if mailed is not None and mailed >= _window_started(breach):
            return
        setattr(user, column, utcnow())
        outbox.queue(
            user.email,
            subject,
            template,
            name=user.name,
            reset_url=absolute_url("auth.request_reset"),
            wait=_wait(breach),
        )
        db.session.commit()
    except SQLAlchemyError:  # the lock-out holds either way; the email is what is lost
        db.session.rollback()
        log.exception("could not queue the lock-out email")


def _wait(breach) -> str:
    from app.errors import wait_in_words

    seconds = max(1, int(breach.reset_at - utcnow().timestamp()))
    return wait_in_words(seconds)


def _login_locked(breach):
    from app.auth.service import user_by_email

    g.account_locked = "login"
    _tell_owner(
        user_by_email(_form_email()),
        breach,
        "login_lockout_mailed_at",
        "login_lockout",
        "Someone is trying to log in to your account",
    )


def _code_locked(breach):
    g.account_locked = "code"
    user_id = pending_user_id()
    _tell_owner(
        db.session.get(User, user_id) if user_id else None,
        breach,
        "code_lockout_mailed_at",
        "code_lockout",
        "Someone has your password: change it now",
    )


def _emails_limited(_breach):
    g.account_locked = "emails"


def login_failures():
    """Limit failed log-ins per email address (only wrong passwords count)."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
        key_func=lambda: "account:" + _form_email(),
        methods=["POST"],
        exempt_when=lambda: not _form_email(),
        deduct_when=_failed,
        on_breach=_login_locked,
    )


def code_failures():
    """Limit wrong second-factor codes per account (only wrong codes count)."""
    return limiter.limit(
        lambda: current_app.config["CODE_FAILURES_PER_ACCOUNT"],
        key_func=lambda: f"user:{pending_user_id()}",
        methods=["POST"],
        exempt_when=lambda: pending_user_id() is None,
        deduct_when=_failed,
        on_breach=_code_locked,
    )


def emails_sent():
    """Limit the sign-up or reset emails one address can be sent (only sent ones count)."""
    return limiter.limit(
        lambda: current_app.config["EMAILS_PER_ADDRESS"],
        key_func=lambda: "email:" + _form_email(),
        methods=["POST"],
        exempt_when=lambda: not _form_email(),
        deduct_when=lambda _response: bool(g.get("emailed")),
        on_breach=_emails_limited,
    )


def count_email() -> None:
    """Tell the per-address email limit that this request asked for an email."""
    g.emailed = True
