"""What happens to money: paying a session with a test card, 3-D Secure, async settling.

Refunds are in `refunds.py`, disputes in `disputes.py`.

Every function here expects the caller to hold `store.lock`, so one change is one step.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import disputes, objects
from .cards import AUTH_FAILED, CardEntry, card_error
from .errors import StripeError, no_such
from .store import Store, kind_of


@dataclass
class Attempt:
    """How one try at paying ended: `paid`, `processing`, `requires_action` or `declined`."""

    status: str
    error: dict | None = None


def create_session(store: Store, clean: dict, *, url_base: str) -> dict:
    """Open a new Checkout Session from validated parameters (`validation.session_params`)."""
    session = objects.checkout_session(clean, url_base=url_base, now=store.now())
    return store.add(
        session,
        line_items=clean["line_items"],
        payment_intent_data=clean["payment_intent_data"],
    )


def open_session(store: Store, session_id: str) -> dict:
    """The session, if a donor may still pay it; otherwise a Stripe-style error."""
    session = store.get(session_id, "checkout.session")
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is no longer active (status {session['status']}).",
            code="checkout_session_not_open",
        )
    return session


def _intent_for(store: Store, session: dict) -> dict:
    # Checkout makes the PaymentIntent at the first attempt and reuses it for retries.
    if session["payment_intent"]:
        return store.objects[session["payment_intent"]]
    params = store.private[session["id"]]["payment_intent_data"]
    intent = objects.payment_intent(session, params, now=store.now())
    store.add(intent)
    session["payment_intent"] = intent["id"]
    return intent


def pay(store: Store, session_id: str, entry: CardEntry, *, async_payment=False) -> Attempt:
    """Try to pay an open session with a test card, as the hosted page's submit does."""
    session = open_session(store, session_id)
    intent = _intent_for(store, session)
    intent["payment_method"] = objects.new_id("pm_1")
    if entry.card.three_d_secure:
        intent.update(
            status="requires_action",
            next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}},
            last_payment_error=None,
        )
        store.private[session_id]["pending_auth"] = (entry, async_payment)
        return Attempt("requires_action")
    return _charge(store, session, intent, entry, async_payment=async_payment)


def pending_authentication(store: Store, session_id: str) -> CardEntry | None:
    """The card awaiting a 3-D Secure challenge on this session, if any."""
    pending = store.private.get(session_id, {}).get("pending_auth")
    return pending[0] if pending else None


def authenticate(store: Store, session_id: str, *, passed: bool) -> Attempt:
    """Finish a 3-D Secure challenge: pass charges the card, fail declines the attempt."""
    session = open_session(store, session_id)
    pending = store.private[session_id].pop("pending_auth", None)
    if pending is None:
        raise StripeError("This Checkout Session has no payment awaiting authentication.")
    entry, async_payment = pending
    intent = store.objects[session["payment_intent"]]
    if not passed:
        error = card_error(AUTH_FAILED)
        intent.update(status="requires_payment_method", next_action=None, last_payment_error=error)
        return Attempt("declined", error)
    return _charge(store, session, intent, entry, async_payment=async_payment, authenticated=True)


def _charge(store, session, intent, entry, *, async_payment=False, authenticated=False):
    card = entry.card
    now = store.now()
    if card.declines:
        error = card_error(card.error_code, card.decline_code)
        charge = store.add(objects.charge(intent, entry, status="failed", now=now, error=error))
        error["charge"] = charge["id"]
        intent.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error=error,
            latest_charge=charge["id"],
        )
        return Attempt("declined", error)
    charge = objects.charge(
        intent, entry, status="pending" if async_payment else "succeeded", now=now
    )
    if authenticated:
        charge["payment_method_details"]["card"]["three_d_secure"] = {
            "authentication_flow": "challenge",
            "result": "authenticated",
            "result_reason": None,
            "version": "2.2.0",
        }
    store.add(charge, card=card.number)
    intent.update(
        status="processing" if async_payment else "succeeded",
        amount_received=0 if async_payment else intent["amount"],
        next_action=None,
        last_payment_error=None,
        latest_charge=charge["id"],
    )
    session.update(
        status="complete",
        payment_status="unpaid" if async_payment else "paid",
        url=None,
        customer_details={
            "address": {**objects.NULL_ADDRESS, "country": card.country},
            "email": entry.email,
            "name": entry.name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    store.emit("checkout.session.completed", session)
    if card.dispute_reason and not async_payment:
        disputes.open_dispute(store, charge["id"], reason=card.dispute_reason)
    return Attempt("processing" if async_payment else "paid")


def settle(store: Store, session_id: str, *, succeeded: bool) -> dict:
    """End a delayed (async) payment: the money arrives, or it does not."""
    session = store.get(session_id, "checkout.session")
    intent = store.objects.get(session["payment_intent"] or "")
    if session["status"] != "complete" or not intent or intent["status"] != "processing":
        raise StripeError("This Checkout Session has no payment in progress to settle.")
    charge = store.objects[intent["latest_charge"]]
    if succeeded:
        charge.update(
            status="succeeded",
            paid=True,
            captured=True,
            amount_captured=charge["amount"],
            balance_transaction=objects.new_id("txn_3"),
        )
        intent.update(status="succeeded", amount_received=intent["amount"])
        session["payment_status"] = "paid"
        store.emit("checkout.session.async_payment_succeeded", session)
    else:
        error = {
            "type": "card_error",
            "code": "payment_method_provider_decline",
            "message": "The payment was declined.",
            "charge": charge["id"],
        }
        charge.update(status="failed", failure_code=error["code"], failure_message=error["message"])
        intent.update(status="requires_payment_method", last_payment_error=error)
        store.emit("checkout.session.async_payment_failed", session)
    return session


def lookup(store: Store, object_id: str) -> dict:
    """Any object by id, for the test controls; Stripe's "No such" error otherwise."""
    obj = store.objects.get(object_id)
    if obj is None:
        raise no_such(kind_of(object_id) or "object", object_id)
    return obj
