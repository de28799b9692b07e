"""Money going back: refunds and disputes, recorded as Stripe has them.

A refund counts only once its status is `succeeded`, and stops counting if it fails later (the
money is then still the charity's, and the organiser is told). A dispute moves money only when
Stripe withdraws or reinstates funds, by the dispute's own amount; an inquiry moves none. The
caller has begun a write transaction and commits."""

import logging

from sqlalchemy import select

from app import audit, outbox, totals
from app.extensions import db
from app.models import (
    CheckoutSession,
    Dispute,
    DisputeStatus,
    Donation,
    Refund,
    RefundStatus,
    User,
    utcnow,
)
from app.models.stripe_records import DISPUTE_RANK, REFUND_RANK
from app.money import format_pence
from app.payments.facts import DisputeFacts, RefundFacts
from app.payments.fulfil import lock_donation

log = logging.getLogger(__name__)


def donation_for(donation_id: int | None, payment_intent_id: str | None) -> Donation | None:
    """Trace a refund, charge or dispute to its donation (locked): our id in its metadata, or
    the PaymentIntent we recorded for one of the donation's sessions."""
    if donation_id is None and payment_intent_id:
        donation_id = db.session.scalar(
            select(CheckoutSession.donation_id).where(
                CheckoutSession.payment_intent_id == payment_intent_id
            )
        ) or db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == payment_intent_id)
        )
    return lock_donation(donation_id)


def apply_refund(facts: RefundFacts, *, requested_by: User | None = None) -> Donation | None:
    """Record a refund's latest status; the totals and the donor's email follow `succeeded`."""
    donation = donation_for(facts.donation_id, facts.payment_intent_id)
    if donation is None:
        return None
    record = db.session.get(Refund, facts.id)
    fresh = record is None
    if fresh:
        record = Refund(
            id=facts.id,
            donation_id=donation.id,
            payment_intent_id=facts.payment_intent_id,
            amount_pence=facts.amount,
            status=RefundStatus.PENDING,
            created_at=facts.created,
            request_key=facts.request_key,
            requested_by_id=requested_by.id if requested_by else None,
        )
        db.session.add(record)
    elif requested_by is not None and record.requested_by_id is None:
        record.requested_by_id = requested_by.id  # its event beat the organiser's request
    if not fresh and REFUND_RANK[facts.status] <= REFUND_RANK[RefundStatus(record.status)]:
        return donation  # an older or repeated snapshot: Stripe has moved on since
    was_succeeded = record.succeeded
    record.status = facts.status
    record.failure_reason = facts.failure_reason
    record.updated_at = utcnow()
    db.session.flush()
    _settle_refunds(donation)
    if record.succeeded and record.donor_told_at is None:
        record.donor_told_at = utcnow()
        _tell_donor(donation, record.amount_pence)
    elif was_succeeded and not record.succeeded:
        _refund_undone(donation, record)
    return donation


def _settle_refunds(donation: Donation) -> None:
    succeeded = db.session.scalars(
        select(Refund.amount_pence).where(
            Refund.donation_id == donation.id, Refund.status == RefundStatus.SUCCEEDED
        )
    ).all()
    before = donation.refunded_pence
    with totals.tracking(donation):
        donation.refunded_pence = sum(succeeded)
    if donation.refunded_pence != before:
        audit.record(
            "refund.recorded",
            donation=donation,
            before_pence=before,
            after_pence=donation.refunded_pence,
        )


def _refund_undone(donation: Donation, record: Refund) -> None:
    """A refund that failed after it had succeeded: the money stayed, so say so."""
    from app.events.service import get_event

    audit.record(
        "refund.failed",
        donation=donation,
        after_pence=donation.refunded_pence,
        reason=record.failure_reason,
        detail=record.id,
    )
    log.warning("refund %s of donation %s %s", record.id, donation.id, record.status)
    organiser = db.session.get(User, record.requested_by_id) if record.requested_by_id else None
    to = organiser.email if organiser else get_event().contact_email
    if to:
        outbox.queue(
            to,
            f"A refund did not go through: donation PLG-{donation.id:06d}",
            "refund_failed",
            donation=donation,
            refund=record,
            amount=format_pence(record.amount_pence),
            event=get_event(),
        )


def record_cash_refund(donation: Donation, refunded_pence: int, actor=None, reason="") -> bool:
    """Record the cumulative amount of cash or a cheque given back (no Stripe involved)."""
    if refunded_pence <= donation.refunded_pence:
        return False
    before = donation.refunded_pence
    with totals.tracking(donation):
        donation.refunded_pence = refunded_pence
    audit.record(
        "refund.recorded",
        actor=actor,
        donation=donation,
        before_pence=before,
        after_pence=refunded_pence,
        reason=reason,
    )
    _tell_donor(donation, refunded_pence - before)
    return True


def _tell_donor(donation: Donation, refunded_now: int) -> None:
    from app.events.service import get_event

    if not donation.donor_email:
        return
    event = get_event()
    outbox.queue(
        donation.donor_email,
        f"Your refund from {event.charity_name}",
        "refund",
        donation=donation,
        event=event,
        refunded=format_pence(refunded_now),
        refunded_in_all=format_pence(donation.refunded_pence),
        kept=format_pence(donation.net_pence),
        amount=format_pence(donation.amount_pence),
    )


def apply_dispute(facts: DisputeFacts) -> Donation | None:
    """Record a dispute's latest status and funds; the totals follow the money that moved."""
    donation = donation_for(facts.donation_id, facts.payment_intent_id)
    if donation is None:
        return None
    record = db.session.get(Dispute, facts.id)
    if record is None:
        record = Dispute(
            id=facts.id,
            donation_id=donation.id,
            amount_pence=facts.amount,
            status=facts.status,
            reason=facts.reason,
            created_at=facts.created,
        )
        db.session.add(record)
    elif DISPUTE_RANK[facts.status] > DISPUTE_RANK.get(record.status, 0):
        record.status = facts.status
    record.amount_pence = facts.amount
    # Stripe withdraws at most once and reinstates at most once: the order they arrive in
    # does not matter.
    record.funds_withdrawn = record.funds_withdrawn or facts.withdrawn
    record.funds_reinstated = record.funds_reinstated or facts.reinstated
    record.updated_at = utcnow()
    db.session.flush()
    _settle_disputes(donation)
    return donation


def _settle_disputes(donation: Donation) -> None:
    disputes = db.session.scalars(select(Dispute).where(Dispute.donation_id == donation.id)).all()
    before_pence, before_status = donation.disputed_pence, donation.dispute_status
    with totals.tracking(donation):
        donation.disputed_pence = sum(d.withdrawn_pence for d in disputes)
        donation.dispute_status = _summary(disputes)
    if donation.disputed_pence != before_pence:
        action = (
            "dispute.withdrawn" if donation.disputed_pence > before_pence else "dispute.reinstated"
        )
        audit.record(
            action,
            donation=donation,
            before_pence=before_pence,
            after_pence=donation.disputed_pence,
        )
    if donation.dispute_status != before_status:
        audit.record(f"dispute.{donation.dispute_status.value}", donation=donation)


def _summary(disputes) -> DisputeStatus:
    if any(d.status == "lost" for d in disputes):
        return DisputeStatus.LOST
    if any(not d.closed for d in disputes):
        return DisputeStatus.OPEN
    return DisputeStatus.WON if disputes else DisputeStatus.NONE
