"""Log-in sessions kept on the server, so that logging out really ends them.

Flask-Login stores `User.get_id()` in the signed session cookie; here that is a random token
naming a `LoginSession` row (Flask-Login's "alternative id"), and the user loader accepts it
only while the row exists and is in date. Logging out deletes the row: the same cookie,
replayed, is a visitor's. Organisers' and instructors' sessions also end after
STAFF_SESSION_IDLE_MINUTES unused and STAFF_SESSION_MAX_HOURS after log-in.

Flask-Login's session protection ("basic") marks a session whose client address or browser
changed as not fresh; pages of health data, exports and changes to organisers then ask for the
password again, as they do once it was given more than PASSWORD_RECONFIRM_MINUTES ago."""

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_fresh
from sqlalchemy import delete, select, update

from app.database import begin_write
from app.extensions import db
from app.models import LoginSession, User, utcnow

# A participant's session has no idle limit (it lasts until the browser closes), but one not
# seen for this long is forgotten, so the table does not keep closed browsers forever.
FORGOTTEN_AFTER = timedelta(days=30)
# Moving last_seen_at is a write; once a minute is precise enough for a two-hour limit.
TOUCH_EVERY = timedelta(minutes=1)
# Pages that poll by themselves (htmx `every 5s`): an open tab is not someone using the site.
POLLED_ENDPOINTS = frozenset(
    {"events.show_progress", "pages.show_progress", "organiser.show_totals", "news.show_feed"}
)
ENDED_MESSAGES = {
    "idle": "You were logged out after {minutes} minutes without using the site. "
    "Please log in again.",
    "max": "You were logged out: organisers' and instructors' sessions last at most {hours} "
    "hours. Please log in again.",
    "gone": "You have been logged out. Please log in again.",
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    """How long a staff session may go unused."""
    return timedelta(minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"])


def max_age() -> timedelta:
    """How long a staff session may last from log-in."""
    return timedelta(hours=current_app.config["STAFF_SESSION_MAX_HOURS"])


def reconfirm_after() -> timedelta:
    """How long a typed password counts as recent."""
    return timedelta(minutes=current_app.config["PASSWORD_RECONFIRM_MINUTES"])


def start(user: User) -> str:
    """A new server-side session for `user` (committed); returns the token for its cookie.
    Called as the last step of a log-in, once the caller has committed its own changes."""
    # What was read so far (the account, its password hash) is done with: a fresh write
    # transaction, or SQLite refuses the write if another request wrote meanwhile.
    begin_write()
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(LoginSession.last_seen_at < now - FORGOTTEN_AFTER)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_hash(token),
            started_at=now,
            last_seen_at=now,
            password_confirmed_at=now,
        )
    )
    db.session.commit()
    user.session_token = token
    return token


def load(token: str) -> User | None:
    """Flask-Login's user loader: the user of a session that exists and is in date. Reads
    only (the loader may run mid-request); `keep_alive` writes, at the start of a request."""
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _hash(token)))
    if row is None:
        g.session_ended = "gone"
        return None
    ended = _why_ended(row)
    if ended:
        g.session_ended = ended
        g.expired_session_id = row.id
        return None
    g.login_session = row
    row.user.session_token = token
    return row.user


def _why_ended(row: LoginSession) -> str | None:
    now = utcnow()
    if now - row.last_seen_at > FORGOTTEN_AFTER:
        return "idle"
    if not row.user.is_staff:
        return None
    if now - row.started_at > max_age():
        return "max"
    if now - row.last_seen_at > idle_limit():
        return "idle"
    return None


def current() -> LoginSession | None:
    """This request's session row, if someone is logged in."""
    return g.get("login_session") if current_user.is_authenticated else None


def keep_alive():
    """Before each request: note that a logged-in session was used, or, if it has ended,
    delete it, clear the cookie's log-in and say why on the log-in page."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    if current_user.is_authenticated:
        row = g.login_session
        now = utcnow()
        if request.endpoint not in POLLED_ENDPOINTS and now - row.last_seen_at >= TOUCH_EVERY:
            row_id = row.id
            begin_write()  # the request has only read so far; see `start`
            db.session.execute(
                update(LoginSession).where(LoginSession.id == row_id).values(last_seen_at=now)
            )
            db.session.commit()
        return None
    reason = g.pop("session_ended", "gone")
    expired = g.pop("expired_session_id", None)
    if expired is not None:
        begin_write()
        db.session.execute(delete(LoginSession).where(LoginSession.id == expired))
        db.session.commit()
    session.pop("_user_id", None)
    session.pop("_fresh", None)
    config = current_app.config
    flash(
        ENDED_MESSAGES[reason].format(
            minutes=config["STAFF_SESSION_IDLE_MINUTES"], hours=config["STAFF_SESSION_MAX_HOURS"]
        ),
        "info",
    )
    return None


def end_this() -> None:
    """Log-out: this browser's session ends on the server too."""
    row = current()
    if row is not None:
        row_id = row.id
        begin_write()
        db.session.execute(delete(LoginSession).where(LoginSession.id == row_id))
        db.session.commit()


def end_all(user: User, keep: LoginSession | None = None) -> int:
    """End every session of `user` (but `keep`), in the caller's transaction; how many."""
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep is not None:
        query = query.where(LoginSession.id != keep.id)
    return db.session.execute(query).rowcount


def sessions_of(user: User) -> list[LoginSession]:
    """Every session `user` has open, newest first."""
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.started_at.desc(), LoginSession.id.desc())
        )
    )


def password_is_recent() -> bool:
    """True if this session is fresh and its password was typed within the last few minutes."""
    row = current()
    if row is None or not login_fresh():
        return False
    return utcnow() - row.password_confirmed_at <= reconfirm_after()


def confirm_password() -> None:
    """The password was typed again in this session: it counts as recent from now."""
    row_id = current().id
    begin_write()
    db.session.execute(
        update(LoginSession).where(LoginSession.id == row_id).values(password_confirmed_at=utcnow())
    )
    db.session.commit()


def recent_password_required(back: str | None = None):
    """Ask for the password again (then come back) unless it was given recently in this
    session. A GET comes back to itself; a form post comes back to the page `back` names,
    since what it sent can't be carried through the password page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or password_is_recent():
                return view(*args, **kwargs)
            if request.method == "GET" or back is None:
                target = request.full_path.rstrip("?")
            else:
                target = url_for(back)
                flash("Nothing was changed yet: confirm your password, then try again.", "info")
            confirm_url = url_for("auth.confirm_password", next=target)
            if request.htmx:
                return "", 204, {"HX-Redirect": confirm_url}
            return redirect(confirm_url, 303)

        return wrapped

    return decorator
