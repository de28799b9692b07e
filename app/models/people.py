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

    def get_id(self) -> str:
        """Flask-Login's session key: the id plus the password fingerprint (see `load_user`)."""
        return f"{self.id}:{self.password_fingerprint}"


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
