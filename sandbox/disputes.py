"""Disputes as Stripe has them: inquiries (no money moves) and chargebacks (money withdrawn).

An inquiry starts `warning_needs_response` and ends `warning_closed`, unless it escalates to
`needs_response`, a chargeback. A chargeback withdraws the disputed amount and a dispute fee
at once (`charge.dispute.funds_withdrawn`), and ends `won` (the amount is reinstated:
`charge.dispute.funds_reinstated`), `lost` or `prevented`. Stripe moves disputes on as the
card network answers; here only the test controls do. The caller holds `store.lock`.
"""

from __future__ import annotations

from . import objects
from .errors import StripeError
from .store import Store, kind_of

REASONS = frozenset(
    (
        "bank_cannot_process",
        "check_returned",
        "credit_not_processed",
        "customer_initiated",
        "debit_not_authorized",
        "duplicate",
        "fraudulent",
        "general",
        "incorrect_account_details",
        "insufficient_funds",
        "product_not_received",
        "product_unacceptable",
        "subscription_canceled",
        "unrecognized",
    )
)
DISPUTE_FEE = 1500
INQUIRY = ("warning_needs_response", "warning_under_review")
CHARGEBACK = ("needs_response", "under_review")
# Status changes short of closing: what each status may become.
MOVES = {
    "warning_needs_response": ("warning_under_review", "needs_response"),
    "warning_under_review": ("needs_response",),
    "needs_response": ("under_review",),
}
# How a dispute may close, from which statuses.
CLOSINGS = {
    "won": CHARGEBACK,
    "lost": CHARGEBACK,
    "prevented": INQUIRY + CHARGEBACK,
    "warning_closed": INQUIRY,
}


def open_dispute(
    store: Store, target_id: str, *, reason: str = "fraudulent", amount: int | None = None
) -> dict:
    """Open a dispute on a paid charge (or a payment intent's): `charge.dispute.created`.

    A chargeback (any reason but `general`) also withdraws the funds at once:
    `charge.dispute.funds_withdrawn`.
    """
    if kind_of(target_id) == "payment_intent":
        target_id = store.get(target_id, "payment_intent")["latest_charge"] or ""
    charge = store.get(target_id, "charge")
    if charge["status"] != "succeeded":
        raise StripeError(f"Charge {charge['id']} has not succeeded, so cannot be disputed.")
    if reason not in REASONS:
        raise StripeError(f"Invalid dispute reason: {reason}", param="reason")
    if any(
        d["object"] == "dispute" and d["charge"] == charge["id"] for d in store.objects.values()
    ):
        raise StripeError(f"Charge {charge['id']} already has a dispute.")
    amount = charge["amount"] if amount in (None, "") else _amount(amount, charge)
    dispute = objects.dispute(charge, reason=reason, amount=amount, now=store.now())
    store.add(dispute)
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute)
    if dispute["status"] in CHARGEBACK:
        _withdraw(store, dispute)
    return dispute


def _amount(value, charge: dict) -> int:
    try:
        amount = int(value)
    except (TypeError, ValueError) as exc:
        raise StripeError(f"Invalid integer: {value}", param="amount") from exc
    if not 1 <= amount <= charge["amount"]:
        raise StripeError(
            f"A dispute's amount must be from 1 to the charge's {charge['amount']}.",
            param="amount",
        )
    return amount


def _withdraw(store: Store, dispute: dict) -> None:
    charge_id = dispute["charge"]
    dispute["balance_transactions"].append(
        objects.balance_transaction(
            amount=-dispute["amount"],
            currency=dispute["currency"],
            now=store.now(),
            source=dispute["id"],
            description=f"Chargeback withdrawal for {charge_id}",
            fee=DISPUTE_FEE,
            fee_description="Dispute fee",
        )
    )
    dispute["is_charge_refundable"] = False
    store.emit("charge.dispute.funds_withdrawn", dispute)


def move(store: Store, dispute_id: str, status: str) -> dict:
    """Move an open dispute on (`charge.dispute.updated`); an inquiry may escalate."""
    dispute = store.get(dispute_id, "dispute")
    if status not in MOVES.get(dispute["status"], ()):
        raise StripeError(
            f"Dispute {dispute_id} is {dispute['status']}, so it cannot become {status}.",
            param="status",
        )
    escalates = dispute["status"] in INQUIRY and status in CHARGEBACK
    previous = {"status": dispute["status"]}
    dispute["status"] = status
    if escalates:
        dispute["payment_method_details"]["card"]["case_type"] = "chargeback"
    store.emit("charge.dispute.updated", dispute, previous=previous)
    if escalates:
        _withdraw(store, dispute)
    return dispute


def close(store: Store, dispute_id: str, *, outcome: str) -> dict:
    """Close a dispute: `won` reinstates the funds first; then `charge.dispute.closed`."""
    dispute = store.get(dispute_id, "dispute")
    if outcome not in CLOSINGS:
        raise StripeError("outcome must be won, lost, prevented or warning_closed", param="outcome")
    if dispute["status"] not in CLOSINGS[outcome]:
        raise StripeError(
            f"Dispute {dispute_id} is {dispute['status']}, so it cannot close as {outcome}.",
            param="outcome",
        )
    previous = {"status": dispute["status"]}
    # Won or never charged back, the payment is the charity's again and may be refunded.
    dispute.update(status=outcome, is_charge_refundable=outcome != "lost")
    if outcome == "won":
        dispute["balance_transactions"].append(
            objects.balance_transaction(
                amount=dispute["amount"],
                currency=dispute["currency"],
                now=store.now(),
                source=dispute["id"],
                description=f"Chargeback reversal for {dispute['charge']}",
            )
        )
        store.emit("charge.dispute.funds_reinstated", dispute)
    store.emit("charge.dispute.closed", dispute, previous=previous)
    return dispute
