"""Stripe webhook events: each stored once, in the same transaction as its effect."""

import logging

from sqlalchemy.exc import IntegrityError

from app.database import begin_write
from app.extensions import db
from app.models import DisputeStatus, Donation, DonationStatus, StripeEvent
from app.payments import retrieve_payment_intent_metadata
from app.payments.fulfil import (
    advance,
    donation_id_of,
    fulfil_checkout,
    lock_donation,
    record_dispute,
    record_refund,
)

log = logging.getLogger(__name__)


def handle(event) -> str:
    """Apply one verified event; returns what happened, for the log and the response."""
    begin_write()
    try:
        db.session.add(StripeEvent(id=event.id, type=event.type))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    handler = HANDLERS.get(event.type)
    try:
        outcome = handler(event.data.object) if handler else "ignored"
    except Exception:
        # Nothing of this event is kept, so Stripe's retry applies it afresh.
        db.session.rollback()
        raise
    db.session.commit()
    log.info("stripe event %s (%s): %s", event.id, event.type, outcome)
    return outcome


def _checkout(session) -> str:
    return "applied" if fulfil_checkout(session) is not None else "unknown donation"


def _refunded(charge) -> str:
    donation = _donation_for(charge, charge.payment_intent)
    if donation is None:
        return "unknown donation"
    record_refund(donation, int(charge.amount_refunded))
    return "applied"


def _dispute_created(dispute) -> str:
    return _dispute(dispute, DisputeStatus.OPEN)


def _dispute_closed(dispute) -> str:
    # Stripe's closing statuses: won, lost, or warning_closed (an inquiry that cost nothing).
    return _dispute(dispute, DisputeStatus.LOST if dispute.status == "lost" else DisputeStatus.WON)


def _dispute(dispute, status: DisputeStatus) -> str:
    donation = _donation_for(dispute, dispute.payment_intent)
    if donation is None:
        return "unknown donation"
    record_dispute(donation, status)
    return "applied"


def _donation_for(stripe_object, payment_intent_id) -> Donation | None:
    """Trace a charge or dispute to its donation: its metadata, our record of the
    PaymentIntent, or (for an event that beat the checkout one) the PaymentIntent's metadata."""
    donation_id = donation_id_of(stripe_object)
    if donation_id is None and payment_intent_id:
        donation_id = db.session.scalar(
            db.select(Donation.id).where(Donation.stripe_payment_intent_id == payment_intent_id)
        )
        if donation_id is None:
            donation_id = retrieve_payment_intent_metadata(payment_intent_id).get("donation_id")
    donation = lock_donation(donation_id)
    if donation is not None and payment_intent_id and not donation.stripe_payment_intent_id:
        donation.stripe_payment_intent_id = payment_intent_id
    return donation


def _async_failed(session) -> str:
    donation = lock_donation(donation_id_of(session))
    if donation is None:
        return "unknown donation"
    advance(donation, DonationStatus.FAILED, session)
    return "applied"


HANDLERS = {
    "checkout.session.completed": _checkout,
    "checkout.session.async_payment_succeeded": _checkout,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _checkout,
    "charge.refunded": _refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
