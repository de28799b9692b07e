"""What Stripe holds about a donation, as Stripe last told us: its Checkout Sessions, refunds
and disputes, and each reconcile run that compared our records with Stripe's.

Times here are Stripe's own (`created` on the object or its event), never when we heard."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CheckoutSession(db.Model):
    """One Checkout Session made for a donation. A donation can have several (a retry after a
    lost reply, a late second try); each payment on any of them is counted once."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (Index("ix_checkout_sessions_donation", "donation_id"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"))
    amount_total_pence: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    payment_status: Mapped[str] = mapped_column(String(30), default="unpaid")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once the money Stripe took on this session is in the donation's `taken_pence`.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RefundStatus(enum.StrEnum):
    """A Stripe refund's `status`. Only `succeeded` is money that went back."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# Stripe moves a refund forward only: pending to succeeded, and either to failed or canceled.
# An older snapshot arriving late (events are unordered) must not undo a later one.
REFUND_RANK = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 0,
    RefundStatus.SUCCEEDED: 1,
    RefundStatus.FAILED: 2,
    RefundStatus.CANCELED: 2,
}


class Refund(db.Model):
    """One Stripe refund of a donation's payment, with the status Stripe last gave it."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_donation", "donation_id"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    amount_pence: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    failure_reason: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The organiser's refund form that asked for it, so a resend finds it instead of refunding
    # again (Stripe forgets idempotency keys after 24 hours).
    request_key: Mapped[str] = mapped_column(String(100), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The donor hears "refunded" once, and only for a refund that succeeded.
    donor_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def succeeded(self) -> bool:
        """True while this refund's money has gone back to the donor."""
        return self.status == RefundStatus.SUCCEEDED


# Inquiries (`warning_*`) move no money; chargebacks withdraw it and may reinstate it.
DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
    "prevented",
)
DISPUTE_RANK = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "warning_closed": 4,
    "needs_response": 2,
    "under_review": 3,
    "won": 4,
    "lost": 4,
    "prevented": 4,
}
DISPUTE_KEPT = frozenset({"won", "prevented", "warning_closed"})


class Dispute(db.Model):
    """One card dispute on a donation's charge, and whether its funds have left."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_donation", "donation_id"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"))
    amount_pence: Mapped[int]
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    funds_withdrawn: Mapped[bool] = mapped_column(default=False)
    funds_reinstated: Mapped[bool] = mapped_column(default=False)

    @property
    def closed(self) -> bool:
        """True once Stripe has closed the dispute either way."""
        return DISPUTE_RANK.get(self.status, 0) == 4

    @property
    def withdrawn_pence(self) -> int:
        """What this dispute takes out of the donation now, by its own amount."""
        if self.status in DISPUTE_KEPT:
            return 0
        if self.status == "lost":
            return self.amount_pence
        return self.amount_pence if self.funds_withdrawn and not self.funds_reinstated else 0


class ReconcileRun(db.Model):
    """One `flask stripe reconcile`: what it compared with Stripe and what it found."""

    __tablename__ = "reconcile_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    days: Mapped[int]
    checked: Mapped[int] = mapped_column(default=0)
    fixed: Mapped[int] = mapped_column(default=0)
    # Each finding: {"donation_id": int | None, "stripe_id": str, "what": str}.
    findings: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
