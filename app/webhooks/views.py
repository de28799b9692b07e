"""The Stripe webhook endpoint: the only route without CSRF, because Stripe signs it instead."""

import logging

import stripe
from flask import Blueprint, current_app, jsonify, request

from app.extensions import csrf, limiter
from app.payments import PaymentsUnavailable, facts, webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/stripe")
log = logging.getLogger(__name__)


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
        outcome = webhooks.handle(event)
    except facts.Malformed as exc:
        log.warning("stripe event %s (%s) refused: bad field %s", event["id"], event["type"], exc)
        return jsonify(error=f"malformed event: {exc}"), 400
    except PaymentsUnavailable:
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
