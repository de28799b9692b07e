"""Stripe: Checkout Sessions, refunds and webhook events, behind one thin gateway.

With no STRIPE_SECRET_KEY the same code talks to the local sandbox (`sandbox/`) over HTTP."""

import hashlib
import json
from datetime import timedelta

import stripe
from flask import current_app

from app.models import Donation, Event, utcnow

API_VERSION = "2026-10-28.endive"  # pinned: the version stripe 16.1.0 was built for
SANDBOX_KEY = "sk_test_plunge_sandbox"
# Stripe refuses an expiry under 30 minutes by *its* clock. An hour leaves a server clock that
# is many minutes slow (and a slow trip) well inside that; a retry later than 35 minutes after
# the donation gets a fresh expiry, so it is never near the limit.
CHECKOUT_LIFETIME = timedelta(hours=1)
FRESH_EXPIRY_BELOW = timedelta(minutes=35)
# Cards only: Apple Pay and Google Pay come with cards on Stripe-hosted Checkout. Methods that
# settle days later (bank debits) are left off on purpose; see README, "Payment methods".
PAYMENT_METHOD_TYPES = ["card"]
FEE_LINE_NAME = "Card fee, covered by you"


class PaymentsUnavailable(Exception):
    """Stripe could not be reached or refused the request; the donor may simply try again."""


class RefundOutcomeUnknown(PaymentsUnavailable):
    """The refund request went to Stripe but no answer came back: it may have been made."""


class RefundRefused(Exception):
    """Stripe said no to a refund (more than is left, a reused key...): the message says why."""


def client() -> stripe.StripeClient:
    """A StripeClient for the real API, or for the sandbox when no secret key is set."""
    config = current_app.config
    if config["STRIPE_SECRET_KEY"]:
        return stripe.StripeClient(
            config["STRIPE_SECRET_KEY"], stripe_version=API_VERSION, max_network_retries=2
        )
    return stripe.StripeClient(
        SANDBOX_KEY,
        stripe_version=API_VERSION,
        max_network_retries=2,
        base_addresses={"api": sandbox_url()},
    )


def sandbox_url() -> str:
    """Where the local Stripe sandbox listens."""
    return f"http://127.0.0.1:{current_app.config['STRIPE_SANDBOX_PORT']}"


def checkout_params(donation: Donation, event: Event, success_url: str, cancel_url: str) -> dict:
    """The Checkout Session for a donation: donate button, the donor's amount, traceable ids."""
    metadata = {"donation_id": str(donation.id)}
    if donation.sponsor_page is not None:
        metadata["sponsor_page"] = donation.sponsor_page.slug
    if donation.team is not None:
        metadata["team"] = donation.team.slug
    line_items = [_line(gift_line_name(donation, event), donation.amount_pence)]
    if donation.fee_cover_pence:
        line_items.append(_line(FEE_LINE_NAME, donation.fee_cover_pence))
    return {
        "mode": "payment",
        "submit_type": "donate",
        "payment_method_types": PAYMENT_METHOD_TYPES,
        "line_items": line_items,
        "client_reference_id": str(donation.id),
        "customer_email": donation.donor_email,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": checkout_expiry(donation),
    }


def gift_line_name(donation: Donation, event: Event) -> str:
    """The gift's line on Checkout, as a person would write it. At most 100 + 160 (or 160 + 120)
    characters from the names' columns, well inside Stripe's 5,000 for a product name."""
    if donation.sponsor_page is not None:
        return f"Sponsoring {donation.sponsor_page.participant.name} for {event.charity_name}"
    if donation.team is not None:
        return f"Sponsoring {donation.team.name} for {event.charity_name}"
    return f"Donation to {event.charity_name} for {event.name}"


def checkout_expiry(donation: Donation) -> int:
    """When the Checkout Session closes: fixed from when the donation was made, so that a
    retry sends the very same request (and gets the same session back under its idempotency
    key); a retry so late that this is too soon for Stripe gets a fresh expiry."""
    expiry = (donation.created_at or utcnow()) + CHECKOUT_LIFETIME
    if expiry < utcnow() + FRESH_EXPIRY_BELOW:
        expiry = utcnow() + CHECKOUT_LIFETIME
    return int(expiry.timestamp())


def _line(name: str, pence: int) -> dict:
    return {
        "quantity": 1,
        "price_data": {"currency": "gbp", "unit_amount": pence, "product_data": {"name": name}},
    }


def create_checkout_session(donation: Donation, params: dict):
    """Create the Checkout Session, idempotently: retrying the same donation never makes two."""
    # The same donation with the same details is the same request: one session, however
    # often it is sent. Changed details (or a late expiry) make a new request.
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    try:
        return client().v1.checkout.sessions.create(
            params=params,
            options={"idempotency_key": f"plunge-donation-{donation.id}-{digest}"},
        )
    except stripe.StripeError as exc:
        raise PaymentsUnavailable(str(exc)) from exc


def retrieve_checkout_session(session_id: str):
    """Ask Stripe (never the browser) what happened to a Checkout Session, with its charge (for
    when it was paid); None if Stripe has no such session (a mistyped or made-up link)."""
    try:
        return client().v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["payment_intent.latest_charge"]}
        )
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return None
        raise PaymentsUnavailable(str(exc)) from exc
    except stripe.StripeError as exc:
        raise PaymentsUnavailable(str(exc)) from exc


def list_checkout_sessions(created_since: int):
    """Every Checkout Session created since a Unix time, newest first, with their charges."""
    return _listing(
        client().v1.checkout.sessions.list,
        {"created": {"gte": created_since}, "expand": ["data.payment_intent.latest_charge"]},
    )


def list_refunds(*, payment_intent: str | None = None, charge: str | None = None):
    """Every refund of a payment, as Stripe has them now."""
    params = {"payment_intent": payment_intent} if payment_intent else {"charge": charge}
    return _listing(client().v1.refunds.list, params)


def list_disputes(payment_intent: str):
    """Every dispute of a payment, as Stripe has them now."""
    return _listing(client().v1.disputes.list, {"payment_intent": payment_intent})


def _listing(method, params: dict) -> list:
    try:
        return list(method(params={**params, "limit": 100}).auto_paging_iter())
    except stripe.StripeError as exc:
        raise PaymentsUnavailable(str(exc)) from exc


def expire_checkout_session(session_id: str) -> None:
    """Close a Checkout Session the donor abandoned, so it cannot be paid later."""
    try:
        client().v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError:
        pass  # already complete or expired: nothing to close
    except stripe.StripeError as exc:
        raise PaymentsUnavailable(str(exc)) from exc


def create_refund(donation: Donation, payment_intent: str, amount_pence: int, key: str, reason=""):
    """Ask Stripe to refund part or all of one payment of a donation. The same `key` (one per
    refund form) is one refund however often it is sent: Stripe's idempotency key covers a
    resend within 24 hours, and the key in the refund's metadata, looked for first, covers a
    resend after Stripe has forgotten it."""
    from app.payments import facts

    for existing in list_refunds(payment_intent=payment_intent):
        found = facts.refund(existing)
        if found.request_key == key[:100]:
            if found.amount != amount_pence:
                raise RefundRefused(
                    "This refund form was already sent with a different amount. "
                    "Reload the page to see where the donation stands."
                )
            return existing
    metadata = {"donation_id": str(donation.id), "plunge_refund_key": key[:100]}
    if reason:
        metadata["reason"] = reason[:500]
    try:
        return client().v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount_pence, "metadata": metadata},
            options={"idempotency_key": f"plunge-refund-{donation.id}-{key}"},
        )
    except stripe.IdempotencyError as exc:
        raise RefundRefused(
            "This refund form was already sent with a different amount. "
            "Reload the page to see where the donation stands."
        ) from exc
    except stripe.InvalidRequestError as exc:
        raise RefundRefused(exc.user_message or str(exc)) from exc
    except stripe.StripeError as exc:
        raise RefundOutcomeUnknown(str(exc)) from exc


def retrieve_payment_intent_metadata(payment_intent_id: str) -> dict:
    """The metadata we put on a PaymentIntent, to trace a charge or dispute to its donation."""
    try:
        intent = client().v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as exc:
        raise PaymentsUnavailable(str(exc)) from exc
    return intent.metadata.to_dict() if intent.metadata else {}
