"""Refunds from the dashboard: card donations through Stripe (the total follows Stripe's
`charge.refunded` webhook, never this request), cash and cheques by recording them."""

from collections import defaultdict

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
    """The most that can still be refunded in one go: what is left of the payment a refund
    would go to (with any fee the donor covered) for a card donation, the gift for cash;
    nothing unless it is paid and not disputed."""
    if donation.status != DonationStatus.PAID:
        return 0
    if donation.dispute_status in (DisputeStatus.OPEN, DisputeStatus.LOST):
        return 0
    if donation.source == DonationSource.ONLINE:
        return _payment_to_refund(donation)[1]
    return donation.net_pence


def _payment_to_refund(donation: Donation) -> tuple[str | None, int]:
    """Which payment a refund goes to, and how much of it is left: the latest with money left,
    so a donation paid twice refunds the second payment first. Refunds asked of Stripe and not
    failed count as gone: a pending one will still take its money."""
    asked = defaultdict(int)
    for intent, pence in db.session.execute(
        select(Refund.payment_intent_id, Refund.amount_pence).where(
            Refund.donation_id == donation.id,
            Refund.status.not_in([RefundStatus.FAILED, RefundStatus.CANCELED]),
        )
    ):
        asked[intent] += pence
    first = donation.stripe_payment_intent_id
    paid = db.session.execute(
        select(
            CheckoutSession.payment_intent_id,
            CheckoutSession.amount_total_pence,
            CheckoutSession.paid_at,
        ).where(CheckoutSession.donation_id == donation.id, CheckoutSession.paid_at.is_not(None))
    ).all()
    # Latest first; Stripe's times are whole seconds, so of two paid in the same second the
    # one that is not the donation's first payment is the later.
    paid = sorted(paid, key=lambda p: (p.paid_at, p.payment_intent_id != first), reverse=True)
    payments_made = [(p.payment_intent_id, p.amount_total_pence) for p in paid]
    if not payments_made and first:  # paid before sessions were kept
        payments_made = [(first, donation.amount_pence + donation.fee_cover_pence)]
    for intent, taken in payments_made:
        left = taken - asked[intent]
        if intent and left > 0:
            return intent, left
    return None, 0


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
        # A form sent again goes to the payment its first sending refunded, to be found there.
        intent = already.payment_intent_id if already else _payment_to_refund(donation)[0]
        stripe_refund = payments.create_refund(donation, intent, amount_pence, key, reason)
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
