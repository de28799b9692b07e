"""The Stripe webhook endpoint: the only route without CSRF, because Stripe signs it instead."""

import logging

import stripe
from flask import Blueprint, current_app, jsonify, request

from app.extensions import csrf, limiter
from app.payments import PaymentsUnavailable, webhooks

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
    except ValueError:
        return jsonify(error="malformed payload"), 400
    except stripe.SignatureVerificationError:
        return jsonify(error="bad signature"), 400
    try:
        outcome = webhooks.handle(event)
    except PaymentsUnavailable:
        # We could not trace the event to a donation just now; Stripe will retry.
        return jsonify(error="try again"), 503
    return jsonify(received=True, outcome=outcome)
