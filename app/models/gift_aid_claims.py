"""Gift Aid claims as records: which donations went to HMRC in which claim, the cells exactly
as they were written, and the tax over-claimed on earlier claims that a later one repays.

A donation is in at most one claim: `gift_aid_claim_lines.donation_id` is unique, so two
claims started at the same moment cannot both take it, whatever the app does. A line never
changes once written; a claim that was submitted to HMRC, its lines and what it repaid are
never deleted (HMRC: keep what was claimed, and when, for 6 years)."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.models import claim_records
from app.models.types import UTCDateTime, utcnow

# HMRC: keep Gift Aid declarations, and what was claimed when, for 6 years.
YEARS_KEPT = 6


class ClaimStatus(enum.StrEnum):
    """Where a claim is: started (its file made, not yet sent), submitted, or discarded."""

    STARTED = "started"
    SUBMITTED = "submitted"
    DISCARDED = "discarded"


class GiftAidClaim(db.Model):
    """One claim to HMRC for the donations received in a period (UK dates, inclusive)."""

    __tablename__ = "gift_aid_claims"
    __table_args__ = (
        CheckConstraint("period_from <= period_to", name="period_ordered"),
        CheckConstraint("overclaimed_pence >= 0", name="box_2_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    status: Mapped[ClaimStatus] = mapped_column(
        Enum(
            ClaimStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ClaimStatus.STARTED,
    )
    # Frozen when the claim is started, so the list still says what a discarded claim held.
    line_count: Mapped[int] = mapped_column(default=0)
    amount_pence: Mapped[int] = mapped_column(default=0)
    gift_aid_pence: Mapped[int] = mapped_column(default=0)
    # Box 2: tax over-claimed on earlier claims that this claim repays (see settlements).
    overclaimed_pence: Mapped[int] = mapped_column(default=0)

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The UK date the organiser says it went to HMRC, and HMRC's reference if they have it.
    submitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    hmrc_reference: Mapped[str] = mapped_column(String(60), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list["GiftAidClaimLine"]] = relationship(
        back_populates="claim", order_by="GiftAidClaimLine.position"
    )
    settlements: Mapped[list["OverclaimSettlement"]] = relationship(
        back_populates="claim",
        foreign_keys="OverclaimSettlement.claim_id",
        order_by="OverclaimSettlement.id",
    )
    started_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def keep_until(self) -> date | None:
        """The day HMRC's 6 years of keeping this claim's records end (None: not submitted)."""
        if self.submitted_on is None:
            return None
        day = self.submitted_on
        try:
            return day.replace(year=day.year + YEARS_KEPT)
        except ValueError:  # submitted on 29 February
            return day.replace(year=day.year + YEARS_KEPT, day=28)


class GiftAidClaimLine(db.Model):
    """One donation in a claim: the cells as they were written to HMRC's schedule."""

    __tablename__ = "gift_aid_claim_lines"
    __table_args__ = (
        # A donation is claimed once: never in two claims, even two started at once.
        UniqueConstraint("donation_id", name="uq_gift_aid_claim_lines_donation"),
        UniqueConstraint("claim_id", "position", name="uq_gift_aid_claim_lines_position"),
        CheckConstraint("amount_pence > 0", name="claimed_amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claims.id"))
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"))
    position: Mapped[int]  # 1, 2, ... in the order the files list them
    title: Mapped[str] = mapped_column(String(4), default="")
    first_name: Mapped[str] = mapped_column(String(35))
    last_name: Mapped[str] = mapped_column(String(35))
    house: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8))
    donated_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int]
    gift_aid_pence: Mapped[int]

    claim: Mapped[GiftAidClaim] = relationship(back_populates="lines")
    donation: Mapped["Donation"] = relationship()  # noqa: F821


class OverclaimSettlement(db.Model):
    """Tax over-claimed on one line (its donation refunded or lost in a dispute after it was
    claimed) put in Box 2 of a later claim.

    `overclaimed_to_pence` is the line's whole over-claim as it stood then; `tax_pence` is the
    part not repaid before. A later partial refund raises the whole and the next claim repays
    the difference. Unique per line and figure, so two claims started at once cannot both
    repay the same over-claim."""

    __tablename__ = "gift_aid_overclaim_settlements"
    __table_args__ = (
        UniqueConstraint("line_id", "overclaimed_to_pence", name="uq_overclaim_settled_once"),
        CheckConstraint("tax_pence > 0", name="settlement_positive"),
        Index("ix_overclaim_settlements_claim", "claim_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claims.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claim_lines.id"))
    tax_pence: Mapped[int]
    overclaimed_to_pence: Mapped[int]

    claim: Mapped[GiftAidClaim] = relationship(back_populates="settlements")
    line: Mapped[GiftAidClaimLine] = relationship()


# The database keeps them too, for raw SQL that never reaches the ORM guard below.
for _table in (GiftAidClaim, GiftAidClaimLine, OverclaimSettlement):
    claim_records.protect(_table.__table__)


class ClaimRecordChanged(Exception):
    """Raised when code tries to change a claim's line, or delete what a submitted claim holds."""


@sa_event.listens_for(Session, "before_flush")
def _claims_are_records(session: Session, _context, _instances) -> None:
    """Lines are written once; what a submitted claim holds is kept (6 years, HMRC)."""
    for instance in session.dirty:
        if isinstance(instance, GiftAidClaimLine) and session.is_modified(instance):
            raise ClaimRecordChanged("a claim's lines are written once, never changed")
    for instance in session.deleted:
        claim = _claim_of(instance)
        if claim is not None and claim.status == ClaimStatus.SUBMITTED:
            raise ClaimRecordChanged("a submitted claim and its lines are kept")


def _claim_of(instance) -> GiftAidClaim | None:
    if isinstance(instance, GiftAidClaim):
        return instance
    if isinstance(instance, GiftAidClaimLine | OverclaimSettlement):
        return instance.claim
    return None
