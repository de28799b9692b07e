"""Teams: participants fundraising together, with their own page, target and totals."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class JoinApproval(enum.StrEnum):
    """Who lets a participant into a team: nobody needs to, its captain, or an organiser."""

    OPEN = "open"
    CAPTAIN = "captain"
    ORGANISER = "organiser"


class Team(db.Model):
    """A team's page at /t/<slug>: story, photo, target, members and its own live bar. Its
    totals (scope 'team:<id>') hold its members' pages' money and gifts to the team itself."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept when the team is renamed, so links already shared still work.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    story: Mapped[str] = mapped_column(Text, default="")
    photo_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("images.sha256"), nullable=True, index=True
    )
    photo_alt: Mapped[str] = mapped_column(String(200), default="")
    target_pence: Mapped[int] = mapped_column(default=100_000)
    join_approval: Mapped[JoinApproval] = mapped_column(
        Enum(
            JoinApproval,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=JoinApproval.OPEN,
    )
    # The sponsor page of the participant who leads the team (None: organisers run it).
    captain_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("sponsor_pages.id"), nullable=True
    )
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when an organiser merged this team into another: its money and members moved there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    photo: Mapped["StoredImage | None"] = relationship()  # noqa: F821
    captain_page: Mapped["SponsorPage | None"] = relationship()  # noqa: F821
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team")

    @hybrid_property
    def is_public(self):
        """Not hidden by an organiser and not merged away: in Python a bool, in SQL the
        condition every query for public teams uses (the fast path's included)."""
        # `&`, `==`/`!= None` read the same on values and on columns: one definition.
        return (self.hidden_at == None) & (self.merged_into_id == None)  # noqa: E711

    @property
    def totals_scope(self) -> str:
        """The key of this team's row in the totals table."""
        return team_scope(self.id)


def team_scope(team_id: int) -> str:
    """The totals key of a team."""
    return f"team:{team_id}"


class TeamMember(db.Model):
    """A sponsor page's place in a team (one team per page). It counts towards the team only
    once approved; until then the team's captain or an organiser is asked."""

    __tablename__ = "team_members"

    sponsor_page_id: Mapped[int] = mapped_column(ForeignKey("sponsor_pages.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    team: Mapped[Team] = relationship(back_populates="members")
    sponsor_page: Mapped["SponsorPage"] = relationship()  # noqa: F821

    @hybrid_property
    def counts(self):
        """Approved: the page's money is the team's."""
        return self.approved_at != None  # noqa: E711
