"""Refunds from the dashboard: card donations through Stripe (the total follows Stripe's
`charge.refunded` webhook, never this request), cash and cheques by recording them."""

from sqlalchemy import select

from app import audit, payments
from app.database import begin_write
from app.donations.offline import refund_offline
from app.extensions import db
from app.models import (
    AuditEntry,
    CheckoutSession,
    DisputeStatus,
    Donation,
    DonationSource,
    DonationStatus,
    Refund,
    RefundStatus,
    User,
)
from app.money import format_pence
from app.payments import facts
from app.payments.fulfil import lock_donation
from app.payments.reversals import apply_refund


class RefundNotPossible(Exception):
    """Why this refund can't be made, in words for the organiser."""


def refundable_pence(donation: Donation) -> int:
    """The most that can still be refunded: what Stripe took (with any fee the donor covered)
    for a card donation, the gift for cash; nothing unless it is paid and not disputed."""
    if donation.status != DonationStatus.PAID:
        return 0
    if donation.dispute_status in (DisputeStatus.OPEN, DisputeStatus.LOST):
        return 0
    if donation.source == DonationSource.ONLINE:
        if not donation.stripe_payment_intent_id:
            return 0
        taken = donation.taken_pence or donation.amount_pence + donation.fee_cover_pence
        return max(0, taken - _asked_pence(donation))
    return donation.net_pence


def _asked_pence(donation: Donation) -> int:
    """Refunds already asked of Stripe and not failed: pending ones will still take money."""
    return sum(
        db.session.scalars(
            select(Refund.amount_pence).where(
                Refund.donation_id == donation.id,
                Refund.status.not_in([RefundStatus.FAILED, RefundStatus.CANCELED]),
            )
        )
    )


def _payment_to_refund(donation: Donation) -> str:
    """Which payment to refund: the latest one, so a donation paid twice refunds the second."""
    latest = db.session.scalar(
        select(CheckoutSession.payment_intent_id)
        .where(CheckoutSession.donation_id == donation.id, CheckoutSession.paid_at.is_not(None))
        .order_by(CheckoutSession.paid_at.desc())
    )
    return latest or donation.stripe_payment_intent_id


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
    already = db.session.scalar(
        select(Refund).where(Refund.donation_id == donation_id, Refund.request_key == key[:100])
    )
    if already is None and amount_pence > refundable_pence(donation):
        raise RefundNotPossible(
            f"Only {format_pence(refundable_pence(donation))} can still be refunded"
        )
    try:
        stripe_refund = payments.create_refund(
            donation, _payment_to_refund(donation), amount_pence, key, reason
        )
        found = facts.refund(stripe_refund)
    except payments.RefundRefused as exc:
        raise RefundNotPossible(str(exc)) from exc
    except (payments.RefundOutcomeUnknown, facts.Malformed) as exc:
        raise RefundNotPossible(
            "Stripe did not answer, so we don't know yet whether it refunded. Send the same "
            "form again in a minute: it never refunds twice."
        ) from exc
    except payments.PaymentsUnavailable as exc:
        raise RefundNotPossible(
            "We couldn't reach Stripe, so nothing was refunded. Try again in a minute."
        ) from exc
    _note_request(donation, organiser, amount_pence, found, reason)
    if found.status == RefundStatus.SUCCEEDED:
        return (
            f"Refunded {format_pence(amount_pence)}. "
            "The totals are updated and the donor is emailed."
        )
    return (
        f"Stripe is refunding {format_pence(amount_pence)} (status: {found.status}). "
        "The totals change, and the donor is emailed, once Stripe says it succeeded."
    )


def _note_request(donation: Donation, organiser: User, amount_pence: int, found, reason):
    """Record the refund as Stripe has it, and one history entry per Stripe refund, however
    often the same form is sent."""
    begin_write()
    seen = db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.donation_id == donation.id,
            AuditEntry.action == "refund.requested",
            AuditEntry.detail == found.id,
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
            detail=found.id,
        )
    apply_refund(found, requested_by=organiser)
    db.session.commit()
