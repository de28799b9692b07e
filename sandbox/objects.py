"""Builders for Stripe-shaped objects: sessions, intents, charges, refunds and disputes.

Field names and nesting follow Stripe's API reference (checked in tests against the OpenAPI
schemas in shared/stripe); values the sandbox does not model are Stripe's defaults or null.
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
NULL_ADDRESS = dict.fromkeys(["city", "country", "line1", "line2", "postal_code", "state"])
_EVIDENCE_FIELDS = (
    "access_activity_log billing_address cancellation_policy cancellation_policy_disclosure "
    "cancellation_rebuttal customer_communication customer_email_address customer_name "
    "customer_purchase_ip customer_signature duplicate_charge_documentation "
    "duplicate_charge_explanation duplicate_charge_id product_description receipt refund_policy "
    "refund_policy_disclosure refund_refusal_explanation service_date service_documentation "
    "shipping_address shipping_carrier shipping_date shipping_documentation "
    "shipping_tracking_number uncategorized_file uncategorized_text"
)


def new_id(prefix: str, length: int = 24) -> str:
    """A random Stripe-style id such as `pi_3Pq...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def checkout_session(params: dict, *, url_base: str, now: int) -> dict:
    """A new, open Checkout Session from validated create parameters."""
    session_id = new_id("cs_test_a1", 56)
    total = params["amount_total"]
    return {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": params["cancel_url"],
        "client_reference_id": params["client_reference_id"],
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": params["currency"],
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": dict.fromkeys(
            ["after_submit", "shipping_address", "submit", "terms_of_service_acceptance"]
        ),
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": params["customer_email"],
        "expires_at": params["expires_at"],
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": params["locale"],
        "metadata": params["metadata"],
        "mode": "payment",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(params["payment_method_types"]),
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": params["submit_type"],
        "subscription": None,
        "success_url": params["success_url"],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{url_base}/checkout/{session_id}",
    }


def payment_intent(session: dict, params: dict, *, now: int) -> dict:
    """The PaymentIntent Checkout makes when the donor first tries to pay."""
    intent_id = new_id("pi_3")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": session["amount_total"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": session["currency"],
        "customer": None,
        "description": params.get("description"),
        "invoice": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(params.get("metadata", {})),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(session["payment_method_types"]),
        "processing": None,
        "receipt_email": params.get("receipt_email"),
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def _outcome(status: str, error: dict | None) -> dict:
    if status != "failed":
        return {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    decline = (error or {}).get("decline_code")
    blocked = decline == "fraudulent"
    return {
        "network_status": "not_sent_to_network" if blocked else "declined_by_network",
        "reason": "highest_risk_level" if blocked else decline,
        "risk_level": "highest" if blocked else "normal",
        "risk_score": 95 if blocked else 20,
        "seller_message": (
            "Stripe blocked this payment as too risky."
            if blocked
            else "The bank did not return any further details with this decline."
        ),
        "type": "blocked" if blocked else "issuer_declined",
    }


def charge(intent: dict, entry, *, status: str, now: int, error: dict | None = None) -> dict:
    """A charge for one payment attempt: `succeeded`, `pending` (async) or `failed`."""
    card = entry.card
    charge_id = new_id("ch_3")
    succeeded = status == "succeeded"
    return {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn_3") if succeeded else None,
        "billing_details": {
            "address": {**NULL_ADDRESS, "country": card.country},
            "email": entry.email,
            "name": entry.name,
            "phone": None,
        },
        "calculated_statement_descriptor": "PLUNGE SANDBOX",
        "captured": succeeded,
        "created": now,
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": error["code"] if error else None,
        "failure_message": error["message"] if error else None,
        "fraud_details": {},
        "invoice": None,
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": _outcome(status, error),
        "paid": succeeded,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {
            "card": {
                "brand": card.network,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "fail" if (error or {}).get("code") == "incorrect_cvc" else "pass",
                },
                "country": card.country,
                "exp_month": entry.exp_month,
                "exp_year": entry.exp_year,
                "fingerprint": card.number[-8:] + "Fp" + card.number[:6],
                "funding": card.funding,
                "installments": None,
                "last4": card.last4,
                "mandate": None,
                "network": card.network,
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(charge_obj: dict, amount: int, params: dict, *, now: int, status: str) -> dict:
    """A refund of part or all of a charge, `pending` or `succeeded` to begin with.

    `failure_reason` and `failure_balance_transaction` appear only once it has failed: the
    schema does not let them be null.
    """
    return {
        "id": new_id("re_3"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_3"),
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": params["metadata"],
        "payment_intent": charge_obj["payment_intent"],
        "reason": params["reason"],
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def balance_transaction(
    *,
    amount: int,
    currency: str,
    now: int,
    source: str,
    description: str,
    fee: int = 0,
    fee_description: str = "",
    type_: str = "adjustment",
    reporting_category: str = "dispute",
) -> dict:
    """Money moving in (positive) or out (negative) of the balance, with any Stripe fee."""
    fees = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": fee_description,
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    return {
        "id": new_id("txn_1"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fees,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "available",
        "type": type_,
    }


def dispute(charge_obj: dict, *, reason: str, amount: int, now: int) -> dict:
    """A new dispute: an inquiry (reason `general`) or a chargeback awaiting a response."""
    inquiry = reason == "general"
    card = charge_obj["payment_method_details"]["card"]
    return {
        "id": new_id("dp_1"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "evidence": dict.fromkeys(_EVIDENCE_FIELDS.split()),
        "evidence_details": {
            "due_by": now + 7 * 24 * 3600,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": card["brand"],
                "case_type": "inquiry" if inquiry else "chargeback",
                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
            },
            "type": "card",
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }
