"""What keeps an account safe on the server: its logged-in sessions, and an organiser's
second factor (a TOTP app and single-use recovery codes)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class LoginSession(db.Model):
    """One logged-in browser. The session cookie carries a random token; only its SHA-256 is
    stored, so a copy of the database logs nobody in. Logging out deletes the row, and a
    cookie naming a row that is gone is a visitor's."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved at most once a minute, and not by pages that poll on their own.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the password was last typed in this session: at log-in, and on "confirm your
    # password" before health answers, exports and changes to organisers.
    password_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship(  # noqa: F821
        backref=backref("login_sessions", cascade="all, delete-orphan", passive_deletes=True)
    )


class SecondFactor(db.Model):
    """An account's TOTP secret. Until `confirmed_at` it is an enrolment in progress: log-in
    does not ask for it until a code from the app has been given once."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Base32, as authenticator apps take it. The server must read it to check a code, so it
    # is not hashed; on its own it logs nobody in (the password is still needed).
    totp_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last 30-second time step whose code was accepted: each code works once.
    last_step: Mapped[int] = mapped_column(default=0)

    user: Mapped["User"] = relationship(  # noqa: F821
        backref=backref(
            "second_factor", uselist=False, cascade="all, delete-orphan", passive_deletes=True
        )
    )


class RecoveryCode(db.Model):
    """One of ten single-use codes for a lost phone, stored as its SHA-256 (each code is 60
    random bits, so a fast hash is enough and a check is one indexed lookup)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
