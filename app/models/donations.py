"""Donations, online by card or offline in cash and cheques, and what each adds to the totals."""

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.donations.gift_aid import (
    MAX_NAME,
    MAX_TITLE,
    claim_pence,
    claim_problems,
    gift_aid_on,
)
from app.extensions import db
from app.models.types import UTCDateTime, utcnow


def _enum(cls):
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class DonationStatus(enum.StrEnum):
    """Where a donation is in its life. Only ever moves forward (see `Donation.advance`)."""

    PENDING = "pending"  # created, donor sent to Checkout / offline cash awaiting confirmation
    PROCESSING = "processing"  # Checkout complete, bank debit still settling
    PAID = "paid"  # money received (online) or confirmed by an organiser (offline)
    FAILED = "failed"
    EXPIRED = "expired"


# A status may move to any status of a higher rank, never back.
_RANK = {
    DonationStatus.PENDING: 0,
    DonationStatus.PROCESSING: 1,
    DonationStatus.PAID: 2,
    DonationStatus.FAILED: 2,
    DonationStatus.EXPIRED: 2,
}


class DonationSource(enum.StrEnum):
    """How the money came in."""

    ONLINE = "online"
    OFFLINE = "offline"


class DisputeStatus(enum.StrEnum):
    """A summary of the donation's card disputes (each is a `Dispute` record): money moves
    only when Stripe withdraws or reinstates it, not when a dispute or inquiry opens."""

    NONE = "none"
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class Contribution:
    """What one donation adds to a totals row; the difference of two is applied atomically."""

    raised_pence: int = 0
    online_pence: int = 0
    offline_pence: int = 0
    gift_aid_eligible_pence: int = 0
    # Gift Aid declared but not claimable (gift_aid.claim_problems): not in the figure above.
    gift_aid_attention: int = 0
    gift_aid_attention_pence: int = 0
    fees_covered_pence: int = 0
    refunded_pence: int = 0
    disputed_pence: int = 0
    held_pence: int = 0
    supporters: int = 0

    def __add__(self, other: "Contribution") -> "Contribution":
        return Contribution(
            **{f: getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__}
        )

    def __sub__(self, other: "Contribution") -> "Contribution":
        return Contribution(
            **{f: getattr(self, f) - getattr(other, f) for f in self.__dataclass_fields__}
        )


class Donation(db.Model):
    """One gift to a sponsor page, to a team itself (`team_id`, no page), or to the event
    itself when both are empty."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("fee_cover_pence >= 0", name="fee_cover_not_negative"),
        CheckConstraint("refunded_pence >= 0", name="refund_not_negative"),
        # A gift to a member counts for their team through their page, never twice.
        CheckConstraint("sponsor_page_id IS NULL OR team_id IS NULL", name="page_or_team"),
        # The recent-donations lists and per-page donor lists read newest-first by these.
        Index("ix_donations_status_paid_at", "status", "paid_at"),
        Index("ix_donations_page_status_paid_at", "sponsor_page_id", "status", "paid_at"),
        # The few donations held for review, found without reading the rest (the dashboard).
        Index(
            "ix_donations_held",
            "id",
            sqlite_where=text("review_reason != ''"),
            postgresql_where=text("review_reason != ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("sponsor_pages.id"), nullable=True
    )
    # A gift to the team as a whole (app/teams); a member's page's gifts leave it empty.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True, index=True)
    source: Mapped[DonationSource] = mapped_column(_enum(DonationSource))
    status: Mapped[DonationStatus] = mapped_column(
        _enum(DonationStatus), default=DonationStatus.PENDING
    )
    amount_pence: Mapped[int]
    fee_cover_pence: Mapped[int] = mapped_column(default=0)
    # Succeeded refunds only (for cash, what an organiser recorded); pending ones are not money.
    refunded_pence: Mapped[int] = mapped_column(default=0)
    # What Stripe withdrew for disputes and has not reinstated.
    disputed_pence: Mapped[int] = mapped_column(default=0)
    # What Stripe took on every paid Checkout Session of this donation (`amount_total`).
    taken_pence: Mapped[int] = mapped_column(default=0)
    # Non-empty: what Stripe took disagrees with the form (or was taken twice), so the
    # donation counts nothing until an organiser decides. Says why, for the organiser.
    review_reason: Mapped[str] = mapped_column(String(300), default="")
    dispute_status: Mapped[DisputeStatus] = mapped_column(
        _enum(DisputeStatus), default=DisputeStatus.NONE
    )

    donor_name: Mapped[str] = mapped_column(String(100), default="")
    donor_email: Mapped[str] = mapped_column(String(254), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    message_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    # The participant's public reply under the donation; only the page's owner writes it.
    thank_you: Mapped[str] = mapped_column(Text, default="")
    thanked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hide_amount: Mapped[bool] = mapped_column(default=False)

    # Gift Aid declaration, as the donor gave it, with the wording version they saw.
    gift_aid: Mapped[bool] = mapped_column(default=False)
    gift_aid_declaration_version: Mapped[str] = mapped_column(String(20), default="")
    gift_aid_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    gift_aid_title: Mapped[str] = mapped_column(String(MAX_TITLE), default="")
    gift_aid_first_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    gift_aid_last_name: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    gift_aid_house: Mapped[str] = mapped_column(String(100), default="")
    gift_aid_postcode: Mapped[str] = mapped_column(String(8), default="")

    gift_aid_confirmed_sponsorship: Mapped[bool] = mapped_column(default=False)
    # Which sponsorship wording the donor confirmed (gift_aid.SPONSORSHIP_WORDINGS).
    gift_aid_sponsorship_version: Mapped[str] = mapped_column(String(40), default="")
    # Non-empty: why Gift Aid may not be claimed though the donor declared it (the
    # participant's own gift to their own page, say), until an organiser decides otherwise.
    gift_aid_flag: Mapped[str] = mapped_column(String(300), default="")
    # When the donor was last emailed to complete their Gift Aid details.
    gift_aid_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # One key per filled-in form, so a retried or double-clicked submit never makes two donations.
    attempt_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # The latest Checkout Session made for this donation (every one is in checkout_sessions).
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    # Set while one request asks Stripe for the session, so a second submit waits for it.
    checkout_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    # Offline money: who recorded it and which organiser confirmed it.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When Stripe took the money (the charge's or its event's time), never when we heard.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the receipt went to the outbox, so a donation is never thanked twice.
    receipt_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sponsor_page: Mapped["SponsorPage | None"] = relationship()  # noqa: F821
    team: Mapped["Team | None"] = relationship()  # noqa: F821

    @property
    def net_pence(self) -> int:
        """The gift still held after refunds and disputes (they come off the gift before the
        fee cover)."""
        return max(0, self.amount_pence - self._gone_pence)

    @property
    def _gone_pence(self) -> int:
        # Unsaved donations have None for columns whose default the database fills in.
        return (self.refunded_pence or 0) + (self.disputed_pence or 0)

    @property
    def kept_pence(self) -> int:
        """Everything the charity still has of this donation: gift and fee cover."""
        return max(0, self.amount_pence + (self.fee_cover_pence or 0) - self._gone_pence)

    @property
    def gift_aid_adds_pence(self) -> int:
        """The Gift Aid the charity can claim on this donation as it stands (0: none, or its
        declaration cannot be claimed yet)."""
        if not self.gift_aid or self.net_pence <= 0 or claim_problems(self):
            return 0
        return gift_aid_on(claim_pence(self))

    @property
    def held_for_review(self) -> bool:
        """True while an organiser must decide what this donation counts."""
        return bool(self.review_reason)

    @property
    def public_name(self) -> str:
        """The name shown to the public."""
        return "Anonymous" if self.anonymous or not self.donor_name else self.donor_name

    def contribution(self) -> Contribution:
        """What this donation adds to the totals in its present state."""
        if self.status != DonationStatus.PAID:
            return Contribution()
        if self.held_for_review:
            return Contribution(held_pence=max(0, (self.taken_pence or 0) - self._gone_pence))
        net = self.net_pence
        if net == 0:
            # Refunds come off the gift first: any fee cover left is still the charity's.
            return Contribution(
                fees_covered_pence=self.kept_pence,
                refunded_pence=self.refunded_pence,
                disputed_pence=self.disputed_pence,
            )
        online = self.source == DonationSource.ONLINE
        claimable = self.gift_aid and not claim_problems(self)
        attention = self.gift_aid and not claimable
        return Contribution(
            raised_pence=net,
            online_pence=net if online else 0,
            offline_pence=0 if online else net,
            gift_aid_eligible_pence=claim_pence(self) if claimable else 0,
            gift_aid_attention=1 if attention else 0,
            gift_aid_attention_pence=claim_pence(self) if attention else 0,
            fees_covered_pence=self.kept_pence - net,
            refunded_pence=self.refunded_pence,
            disputed_pence=self.disputed_pence,
            supporters=1,
        )

    def can_move_to(self, status: DonationStatus) -> bool:
        """True when `status` is later in a donation's life than where it is now."""
        return _RANK[status] > _RANK[self.status]

    @property
    def counted_at(self) -> datetime:
        """When the donation counted (paid), for lists; falls back to when it was made."""
        return self.paid_at or self.created_at
