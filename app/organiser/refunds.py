"""Refunds from the dashboard: card donations through Stripe (the total follows Stripe's
`charge.refunded` webhook, never this request), cash and cheques by recording them."""

from sqlalchemy import select

from app import audit, payments
from app.database import begin_write
from app.donations.offline import refund_offline
from app.extensions import db
from app.models import AuditEntry, DisputeStatus, Donation, DonationSource, DonationStatus, User
from app.money import format_pence
from app.payments.fulfil import lock_donation


class RefundNotPossible(Exception):
    """Why this refund can't be made, in words for the organiser."""


def refundable_pence(donation: Donation) -> int:
    """The most that can still be refunded: what the donor paid (with any fee they covered)
    for a card donation, the gift for cash; nothing unless it is paid and not disputed."""
    if donation.status != DonationStatus.PAID:
        return 0
    if donation.dispute_status in (DisputeStatus.OPEN, DisputeStatus.LOST):
        return 0
    if donation.source == DonationSource.ONLINE:
        if not donation.stripe_payment_intent_id:
            return 0
        paid = donation.amount_pence + donation.fee_cover_pence
        return max(0, paid - donation.refunded_pence)
    return donation.net_pence


def refund(donation_id: int, organiser: User, amount_pence: int, key: str, reason: str) -> str:
    """Refund `amount_pence` of a donation; returns what happened, in words."""
    if _is_card(donation_id):
        return _refund_card(donation_id, organiser, amount_pence, key, reason)
    begin_write()
    donation = lock_donation(donation_id)
    if donation is None:
        db.session.rollback()
        raise RefundNotPossible("There is no such donation")
    if amount_pence > refundable_pence(donation):
        db.session.rollback()
        raise RefundNotPossible(
            f"Only {format_pence(refundable_pence(donation))} can still be refunded"
        )
    refund_offline(donation, organiser, amount_pence, reason)
    return f"Recorded a refund of {format_pence(amount_pence)}. The totals are updated."


def _is_card(donation_id: int) -> bool:
    source = db.session.scalar(select(Donation.source).where(Donation.id == donation_id))
    db.session.commit()
    return source == DonationSource.ONLINE


def _refund_card(donation_id: int, organiser: User, amount_pence: int, key: str, reason: str):
    # No lock held while Stripe is asked: the idempotency key, not a lock, makes a double-click
    # one refund, and Stripe refuses more than is left.
    donation = db.session.get(Donation, donation_id)
    if amount_pence > refundable_pence(donation):
        raise RefundNotPossible(
            f"Only {format_pence(refundable_pence(donation))} can still be refunded"
        )
    try:
        stripe_refund = payments.create_refund(donation, amount_pence, key, reason)
    except payments.RefundRefused as exc:
        raise RefundNotPossible(str(exc)) from exc
    except payments.PaymentsUnavailable as exc:
        raise RefundNotPossible(
            "We couldn't reach Stripe, so nothing was refunded. Try again in a minute."
        ) from exc
    _note_request(donation, organiser, amount_pence, stripe_refund.id, reason)
    return (
        f"Stripe is refunding {format_pence(amount_pence)}. "
        "The totals change, and the donor is emailed, as soon as Stripe confirms it."
    )


def _note_request(donation: Donation, organiser: User, amount_pence: int, refund_id, reason):
    """One history entry per Stripe refund, however often the same form is sent."""
    begin_write()
    seen = db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.donation_id == donation.id,
            AuditEntry.action == "refund.requested",
            AuditEntry.detail == refund_id,
        )
    )
    if seen is None:
        audit.record(
            "refund.requested",
            actor=organiser,
            donation=donation,
            before_pence=donation.refunded_pence,
            after_pence=donation.refunded_pence + amount_pence,
            reason=reason,
            detail=refund_id,
        )
    db.session.commit()
