"""Refunds with a life: created `pending` or `succeeded`, and able to change afterwards.

Most cards' refunds succeed at once and stay that way. Two test cards' refunds change later
(4000000000007726: pending, then succeeded; 4000000000005126: succeeded, then failed), when
the sandbox clock passes `created + SETTLE_AFTER` or a test control settles them. A failed or
canceled refund gives the money back to the balance, so the charge's `amount_refunded` goes
down again. Every function expects the caller to hold `store.lock`.
"""

from __future__ import annotations

from . import objects
from .cards import CARDS
from .errors import StripeError
from .faults import Faults
from .store import Store

SETTLE_AFTER = 60  # seconds of sandbox time before a refund's later status arrives
FAILURE_REASON = "expired_or_canceled_card"
# The changes a refund can still make, from each status.
CHANGES = {"pending": ("succeeded", "failed", "canceled"), "succeeded": ("failed",)}


def _charge_to_refund(store: Store, clean: dict) -> dict:
    if clean["charge"]:
        return store.get(clean["charge"], "charge", param="charge")
    intent = store.get(clean["payment_intent"], "payment_intent", param="payment_intent")
    charge = store.objects.get(intent["latest_charge"] or "")
    if intent["status"] != "succeeded" or charge is None:
        raise StripeError(
            "This PaymentIntent does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    return charge


def _check_refundable(store: Store, charge: dict) -> None:
    if charge["status"] != "succeeded":
        raise StripeError(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.",
            param="charge",
            code="charge_not_refundable",
        )
    if charge["refunded"]:
        raise StripeError(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if any(
        d["charge"] == charge["id"] and not d["is_charge_refundable"]
        for d in store.objects.values()
        if d["object"] == "dispute"
    ):
        raise StripeError(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )


def create(
    store: Store, clean: dict, *, request: dict | None = None, refusal: Faults | None = None
) -> dict:
    """Refund all or part of a paid charge: `refund.created`, then `charge.refunded`."""
    charge = _charge_to_refund(store, clean)
    _check_refundable(store, charge)
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = clean["amount"] if clean["amount"] is not None else remaining
    if amount > remaining:
        raise StripeError(
            f"Refund amount ({_pounds(amount)}) is greater than unrefunded amount on charge "
            f"({_pounds(remaining)})",
            param="amount",
            code="amount_too_large",
        )
    refused = refusal.take_refund_refusal() if refusal else None
    if refused:
        raise refused
    card = CARDS.get(store.private.get(charge["id"], {}).get("card", ""))
    status = card.refund_status if card else "succeeded"
    refund = objects.refund(charge, amount, clean, now=store.now(), status=status)
    store.add(refund, later=card.refund_later if card else None)
    previous = {"amount_refunded": charge["amount_refunded"]}
    charge["amount_refunded"] += amount
    if charge["amount_refunded"] == charge["amount"]:
        previous["refunded"] = False
        charge["refunded"] = True
    store.emit("refund.created", refund, request=request)
    store.emit("charge.refunded", charge, request=request, previous=previous)
    return refund


def settle(store: Store, refund_id: str, outcome: str) -> dict:
    """Move a refund on: `refund.updated`, `charge.refund.updated` (+ `refund.failed`)."""
    refund = store.get(refund_id, "refund")
    if outcome not in CHANGES.get(refund["status"] or "", ()):
        raise StripeError(
            f"Refund {refund_id} is {refund['status']}, so it cannot become {outcome}.",
            param="outcome",
        )
    store.private[refund_id]["later"] = None
    previous: dict = {"status": refund["status"]}
    refund["status"] = outcome
    if outcome in ("failed", "canceled"):
        _give_back(store, refund)
    if outcome == "failed":
        previous.update(failure_balance_transaction=None, failure_reason=None)
        refund.update(
            failure_balance_transaction=objects.new_id("txn_3"), failure_reason=FAILURE_REASON
        )
    store.emit("refund.updated", refund, previous=previous)
    store.emit("charge.refund.updated", refund, previous=previous)
    if outcome == "failed":
        store.emit("refund.failed", refund, previous=previous)
    return refund


def _give_back(store: Store, refund: dict) -> None:
    # The money never left: it counts as unrefunded again, and may be refunded anew.
    charge = store.objects[refund["charge"]]
    charge["amount_refunded"] -= refund["amount"]
    charge["refunded"] = False


def settle_due(store: Store, now: int) -> list[dict]:
    """Give every refund whose later status is due (created + SETTLE_AFTER) that status."""
    due = [
        obj
        for obj in list(store.objects.values())
        if obj["object"] == "refund"
        and store.private.get(obj["id"], {}).get("later")
        and obj["created"] + SETTLE_AFTER <= now
    ]
    return [settle(store, refund["id"], store.private[refund["id"]]["later"]) for refund in due]


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"
