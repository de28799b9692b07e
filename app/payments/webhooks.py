"""Stripe webhook events: the endpoint (the only route without CSRF, because Stripe signs it
instead) and each event stored once, in the same transaction as its effect.

Each handler reads its object strictly (`facts`), so a signed event with odd fields is refused
whole. Anything that needs asking Stripe (a charge's refunds, a PaymentIntent's metadata) is
asked before the write transaction begins, so no lock is held over the network."""

import dataclasses
import logging

import stripe
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import payments
from app.database import begin_write
from app.extensions import csrf, db, limiter
from app.models import CheckoutSession, Donation, StripeEvent
from app.payments import facts
from app.payments.fulfil import apply_session
from app.payments.reversals import apply_dispute, apply_refund

bp = Blueprint("webhooks", __name__, url_prefix="/stripe")
log = logging.getLogger(__name__)
_versions_seen: set[str] = set()

SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
DISPUTE_EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}
HANDLED = SESSION_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS | {"charge.refunded"}


def handle(event: dict) -> str:
    """Apply one verified event (as a plain dict); returns what happened, for the log.

    Raises `facts.Malformed` for an event Plunge cannot read, and `PaymentsUnavailable` when
    Stripe could not be asked something the event needs (Stripe retries either way)."""
    _check_version(event)
    kind = event["type"]
    if kind not in HANDLED:
        outcome = _store_only(event)
        log.info("stripe event %s (%s): %s, not a type Plunge acts on", event["id"], kind, outcome)
        return outcome
    changes = _read(kind, event["data"]["object"])
    begin_write()
    try:
        db.session.add(StripeEvent(id=event["id"], type=kind))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("stripe event %s (%s): duplicate, already applied", event["id"], kind)
        return "duplicate"
    occurred_at = facts.timestamp(event)
    try:
        touched = [apply(occurred_at) for apply in changes]
    except Exception:
        # Nothing of this event is kept, so Stripe's retry applies it afresh.
        db.session.rollback()
        raise
    # Read before the commit expires them: a log line must not query the database again.
    states = [_state(d) for d in touched if d is not None]
    db.session.commit()
    outcome = "applied" if states else "unknown donation"
    log.info(
        "stripe event %s (%s): %s%s",
        event["id"],
        kind,
        outcome,
        "".join(f"; {state}" for state in states),
        extra={"stripe_event": event["id"], "donations": [d.id for d in touched if d]},
    )
    return outcome


def _state(donation: Donation) -> str:
    """A donation as an event left it, for the log: status and money, never the donor."""
    held = ", held for review" if donation.held_for_review else ""
    return (
        f"donation {donation.id} now {donation.status.value}{held}: "
        f"taken {donation.taken_pence}p, refunded {donation.refunded_pence}p, "
        f"disputed {donation.disputed_pence}p"
    )


def _store_only(event: dict) -> str:
    begin_write()
    try:
        db.session.add(StripeEvent(id=event["id"], type=event["type"]))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    return "ignored"


def _read(kind: str, obj: dict) -> list:
    """The changes an event asks for, each a function of Stripe's time, read and traced
    before any lock is taken."""
    if kind in SESSION_EVENTS:
        session = facts.session(obj)
        failed = kind == "checkout.session.async_payment_failed"
        return [lambda at: apply_session(session, at, failed=failed)]
    if kind in REFUND_EVENTS:
        refund = _traced(facts.refund(obj))
        return [lambda _at: apply_refund(refund)]
    if kind in DISPUTE_EVENTS:
        dispute = _traced(facts.dispute(obj, kind))
        return [lambda _at: apply_dispute(dispute)]
    # charge.refunded carries only the cumulative figure (no refunds list since API version
    # 2022-11-15): ask Stripe for the charge's refunds and their statuses.
    charge = facts.charge(obj)
    refunds = []
    for listed in payments.list_refunds(charge=charge.id):
        refund = facts.refund(listed)
        if refund.donation_id is None:
            refund = dataclasses.replace(refund, donation_id=charge.donation_id)
        refunds.append(_traced(refund))
    return [lambda _at, refund=refund: apply_refund(refund) for refund in refunds]


def _traced(found):
    """Fill in the donation id from the PaymentIntent's metadata when the object has none and
    we have not yet recorded that PaymentIntent (its event beat the checkout one)."""
    if found.donation_id is not None or not found.payment_intent_id:
        return found
    known = db.session.scalar(
        select(CheckoutSession.donation_id).where(
            CheckoutSession.payment_intent_id == found.payment_intent_id
        )
    ) or db.session.scalar(
        select(Donation.id).where(Donation.stripe_payment_intent_id == found.payment_intent_id)
    )
    db.session.commit()  # end the read: the write transaction begins afresh
    if known is None:
        metadata = payments.retrieve_payment_intent_metadata(found.payment_intent_id)
        known = facts.donation_id({"metadata": metadata})
    return dataclasses.replace(found, donation_id=known)


def _check_version(event: dict) -> None:
    """Events come in the webhook endpoint's API version (set in Stripe's Dashboard), not the
    one we pin: say so once per version, so an organiser can line the two up."""
    version = event.get("api_version")
    version = version[:40] if isinstance(version, str) else "(none)"
    if version != payments.API_VERSION and version not in _versions_seen:
        _versions_seen.add(version)
        log.warning(
            "stripe event %s is in API version %s; Plunge is built for %s. Set the webhook "
            "endpoint's version to match in Stripe's Dashboard.",
            event.get("id"),
            version,
            payments.API_VERSION,
        )


# The endpoint ---------------------------------------------------------------------------


@bp.post("/webhook")
@csrf.exempt
@limiter.limit("600 per minute")
def receive_stripe_event():
    """Verify the signature on the raw body, then apply the event exactly once."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        log.error("STRIPE_WEBHOOK_SECRET is not set: refusing webhook")
        return jsonify(error="webhook secret not configured"), 503
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature"), secret
        )
    except (ValueError, AttributeError):  # not JSON, or JSON that is not an object
        return jsonify(error="malformed payload"), 400
    except stripe.SignatureVerificationError:
        return jsonify(error="bad signature"), 400
    event = event.to_dict()
    if not _well_formed(event):
        log.warning("stripe event %r refused: malformed envelope", _printable(event.get("id")))
        return jsonify(error="malformed event"), 400
    try:
        outcome = handle(event)
    except facts.Malformed as exc:
        log.warning("stripe event %s (%s) refused: bad field %s", event["id"], event["type"], exc)
        return jsonify(error=f"malformed event: {exc}"), 400
    except payments.PaymentsUnavailable:
        # We could not ask Stripe what the event needs just now; Stripe will retry.
        log.warning(
            "stripe event %s (%s): Stripe unreachable, asked to retry", event["id"], event["type"]
        )
        return jsonify(error="try again"), 503
    return jsonify(received=True, outcome=outcome)


def _well_formed(event: dict) -> bool:
    """Signed is not the same as sensible: act only on an event with an id and a type we can
    store and an object, so a malformed one is refused (400), not half-applied or crashing."""
    data = event.get("data")
    return (
        _storable(event.get("id"), 255)
        and _storable(event.get("type"), 100)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    )


def _printable(value) -> str:
    return str(value)[:80].encode("ascii", "replace").decode() if value is not None else "?"


def _storable(value, max_length: int) -> bool:
    # Stripe's ids and types are short printable ASCII; the columns hold nothing else.
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()
