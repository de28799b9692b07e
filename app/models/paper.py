"""Paper sponsorship forms: the series of sheets printed for a sponsor page or a team, each
sheet typed back in by an organiser, and each sponsor's line on it (a pledge until it is
paid)."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.donations.gift_aid import MAX_NAME, MAX_TITLE
from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class SheetStatus(enum.StrEnum):
    """A sheet being typed in (a draft anyone may finish) or saved as donations."""

    DRAFT = "draft"
    SAVED = "saved"


class PaperSeries(db.Model):
    """The reference code printed on every sheet of one sponsor page's forms (references
    `P-...`) or one team's (`T-...`): each series belongs to exactly one of them."""

    __tablename__ = "paper_series"
    __table_args__ = (
        CheckConstraint(
            "(sponsor_page_id IS NOT NULL AND team_id IS NULL)"
            " OR (sponsor_page_id IS NULL AND team_id IS NOT NULL)",
            name="page_or_team_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("sponsor_pages.id"), unique=True, nullable=True
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), unique=True, nullable=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    # How many sheets have been printed: references up to this number are the page's.
    sheets: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The participant's own name and home address, asked for only when a claim uses HMRC's
    # sponsored-event method (one "Yes" line per participant), kept like a donor's Gift Aid
    # details: as HMRC will read them.
    claim_title: Mapped[str] = mapped_column(String(MAX_TITLE), default="")
    claim_first_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    claim_last_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    claim_house: Mapped[str] = mapped_column(String(100), default="")
    claim_postcode: Mapped[str] = mapped_column(String(8), default="")

    sponsor_page: Mapped["SponsorPage | None"] = relationship()  # noqa: F821
    team: Mapped["Team | None"] = relationship()  # noqa: F821

    @property
    def kind(self) -> str:
        """The letter its references start with: T for a team's sheets, P for a participant's."""
        return "T" if self.team_id is not None else "P"

    @property
    def owner_name(self) -> str:
        """Whose sheets these are, as an organiser reads it: the participant or the team."""
        if self.team is not None:
            return self.team.name
        return self.sponsor_page.participant.name if self.sponsor_page else ""

    @property
    def has_claim_address(self) -> bool:
        """The participant's name and address for a sponsored-event line are known."""
        return bool(self.claim_last_name and self.claim_house and self.claim_postcode)


class PaperClaimMethod(db.Model):
    """A Gift Aid claim whose paper sponsorship goes on one "Yes" line per participant (HMRC's
    sponsored-event method) instead of a line per sponsor. No row: a line per sponsor."""

    __tablename__ = "paper_claim_methods"

    claim_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claims.id"), primary_key=True)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperSheet(db.Model):
    """One returned sheet, typed in by organisers: a draft until it is saved, once."""

    __tablename__ = "paper_sheets"
    __table_args__ = (UniqueConstraint("series_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("paper_series.id"))
    number: Mapped[int]
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[SheetStatus] = mapped_column(
        Enum(
            SheetStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=SheetStatus.DRAFT,
    )
    # The grid as typed so far (JSON), so another organiser can finish it.
    draft: Mapped[str] = mapped_column(Text, default="")
    # The money handed in with the sheet (None: not said yet), and the day it was.
    handed_in_pence: Mapped[int | None] = mapped_column(nullable=True)
    received_on: Mapped[date | None] = mapped_column(nullable=True)
    # What the sheet's lines say was paid, when it was saved.
    sheet_paid_pence: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped[PaperSeries] = relationship()
    lines: Mapped[list["PaperLine"]] = relationship(
        back_populates="sheet", order_by="PaperLine.row"
    )

    @property
    def difference_pence(self) -> int | None:
        """Money handed in less what the sheet says was paid (None until both are known)."""
        if self.handed_in_pence is None or self.status != SheetStatus.SAVED:
            return None
        return self.handed_in_pence - self.sheet_paid_pence


class PaperLine(db.Model):
    """One sponsor's line on a saved sheet: what they pledged, what they paid, and the
    donation(s) that paid it. Pledged but unpaid money counts nothing until it is paid."""

    __tablename__ = "paper_lines"
    __table_args__ = (UniqueConstraint("sheet_id", "row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("paper_sheets.id"))
    row: Mapped[int]
    donor_name: Mapped[str] = mapped_column(String(100), default="")
    gift_aid: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(MAX_TITLE), default="")
    first_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    last_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    house: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    pledged_pence: Mapped[int] = mapped_column(default=0)
    paid_pence: Mapped[int] = mapped_column(default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The money paid when the sheet was saved, and the rest of a pledge handed in later.
    donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("donations.id"), unique=True, nullable=True
    )
    pledge_donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("donations.id"), unique=True, nullable=True
    )

    sheet: Mapped[PaperSheet] = relationship(back_populates="lines")
    pledge_donation: Mapped["Donation | None"] = relationship(  # noqa: F821
        foreign_keys=[pledge_donation_id]
    )

    @property
    def _later(self):
        """The rest of the pledge, handed in later (None if not, or an organiser refused it)."""
        donation = self.pledge_donation
        if donation is None or donation.status in ("failed", "expired"):
            return None
        return donation

    @property
    def outstanding_pence(self) -> int:
        """What was promised and not handed in (0 once the rest is reported)."""
        if self._later is not None:
            return 0
        return max(0, self.pledged_pence - self.paid_pence)

    @property
    def collected_pence(self) -> int:
        """What is counted of this line: paid on the sheet, and the rest once confirmed."""
        later = self._later
        return self.paid_pence + (later.amount_pence if later and later.status == "paid" else 0)

    @property
    def waiting_pence(self) -> int:
        """Handed in later and waiting for an organiser to confirm it."""
        later = self._later
        return later.amount_pence if later and later.status == "pending" else 0
