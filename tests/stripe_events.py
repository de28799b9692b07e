"""Build and sign Stripe webhook events by hand, exactly as Stripe signs them."""

import hashlib
import hmac
import itertools
import json
import time

WEBHOOK_SECRET = "whsec_test_plunge"
_ids = itertools.count(1)


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(
    event_type: str, obj: dict, event_id: str | None = None, created: int | None = None
) -> bytes:
    """A webhook event's JSON body; `created` is when it happened at Stripe (default now)."""
    return json.dumps(
        {
            "id": event_id or f"evt_test_{next(_ids)}",
            "object": "event",
            "type": event_type,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()) if created is None else created,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
    ).encode()


def checkout_session(
    donation_id: int,
    amount_total: int = 1000,
    status="complete",
    payment_status="paid",
    session_id: str | None = None,
    **extra,
) -> dict:
    """A Checkout Session object for one of our donations, asking `amount_total` pence."""
    return {
        "id": session_id or f"cs_test_{donation_id}",
        "object": "checkout.session",
        "amount_total": amount_total,
        "created": int(time.time()) - 60,
        "status": status,
        "payment_status": payment_status,
        "payment_intent": f"pi_test_{donation_id}",
        "client_reference_id": str(donation_id),
        "metadata": {"donation_id": str(donation_id)},
        **extra,
    }


def charge(donation_id: int, amount_refunded: int, amount: int = 1000) -> dict:
    """A Charge object (as in charge.refunded) for one of our donations."""
    return {
        "id": f"ch_test_{donation_id}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "payment_intent": f"pi_test_{donation_id}",
        "metadata": {"donation_id": str(donation_id)},
    }


def refund(
    donation_id: int, amount: int, status: str = "succeeded", refund_id: str | None = None, **extra
) -> dict:
    """A Refund object of one of our donations' payments."""
    return {
        "id": refund_id or f"re_test_{donation_id}",
        "object": "refund",
        "amount": amount,
        "charge": f"ch_test_{donation_id}",
        "payment_intent": f"pi_test_{donation_id}",
        "created": int(time.time()) - 30,
        "currency": "gbp",
        "status": status,
        "failure_reason": extra.pop("failure_reason", None),
        "metadata": {},
        **extra,
    }


def dispute(
    donation_id: int, status: str = "needs_response", amount: int = 1000, movements=()
) -> dict:
    """A Dispute object for one of our donations' charges; `movements` are the amounts of its
    balance transactions (-amount when funds are withdrawn, +amount when reinstated)."""
    return {
        "id": f"dp_test_{donation_id}",
        "object": "dispute",
        "charge": f"ch_test_{donation_id}",
        "payment_intent": f"pi_test_{donation_id}",
        "created": int(time.time()) - 30,
        "status": status,
        "amount": amount,
        "reason": "fraudulent",
        "balance_transactions": [
            {"id": f"txn_{i}", "object": "balance_transaction", "amount": m}
            for i, m in enumerate(movements)
        ],
    }
