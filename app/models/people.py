"""People who log in: participants, organisers and instructors."""

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What someone may do. Organisers see money and health data; instructors see neither;
    planners are invited only to plan the event together (app/planning) and see neither."""

    PARTICIPANT = "participant"
    ORGANISER = "organiser"
    INSTRUCTOR = "instructor"
    PLANNER = "planner"


class User(UserMixin, db.Model):
    """An account. Every participant has one; so does every organiser."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.PARTICIPANT,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the owner was last told their account was locked by failed log-ins, or by wrong
    # second-factor codes: one email per lock-out, however many tries it refuses.
    login_lockout_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    code_lockout_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sponsor_page: Mapped["SponsorPage | None"] = relationship(  # noqa: F821
        back_populates="participant", uselist=False
    )

    @property
    def is_organiser(self) -> bool:
        """True for organisers, who see money, health data and every page."""
        return self.role == Role.ORGANISER

    @property
    def password_fingerprint(self) -> str:
        """A short digest of the password hash: changes whenever the password does, so reset
        links and logged-in sessions made before a change stop working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    # Set by `app.auth.sessions.start` just before Flask-Login stores it in the cookie.
    session_token = None

    @property
    def is_staff(self) -> bool:
        """Organisers and instructors: their sessions end after inactivity and a maximum."""
        return self.role in (Role.ORGANISER, Role.INSTRUCTOR)

    def get_id(self) -> str:
        """Flask-Login's alternative id: the token of this log-in's server-side session (see
        `app.auth.sessions`), never the user's id, so ending the session on the server ends
        the cookie."""
        if not self.session_token:
            raise RuntimeError("log in through app.auth.service.log_in, which starts a session")
        return self.session_token


class PendingSignup(db.Model):
    """A sign-up waiting for its emailed link to be followed; only then does a `User` exist.

    Until then nothing about the address is stored on an account, so nobody can squat on
    someone else's email, and sign-up, log-in and reset all answer alike for any address."""

    __tablename__ = "pending_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
