"""Check create parameters as Stripe does, answering with Stripe-style errors that name the param.

Parameters Stripe knows but the sandbox does not model are accepted and ignored; parameters
Stripe does not know are refused, so a typo in the app fails here as it would on Stripe.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import StripeError, invalid_param, missing_param, unknown_param


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Top-level parameters of POST /v1/checkout/sessions: the 2023 spec's, plus later additions.
SESSION_PARAMS = _words(
    "after_expiration allow_promotion_codes automatic_tax billing_address_collection cancel_url "
    "client_reference_id consent_collection currency custom_fields custom_text customer "
    "customer_creation customer_email customer_update discounts expand expires_at "
    "invoice_creation line_items locale metadata mode payment_intent_data "
    "payment_method_collection payment_method_options payment_method_types "
    "phone_number_collection setup_intent_data shipping_address_collection shipping_options "
    "submit_type subscription_data success_url tax_id_collection "
    # Added after the 2023 spec; known to Stripe today.
    "adaptive_pricing branding_settings customer_account excluded_payment_method_types "
    "name_collection optional_items origin_context payment_method_configuration "
    "payment_method_data permissions redirect_on_completion return_url "
    "saved_payment_method_options ui_mode wallet_options"
)
LINE_ITEM_PARAMS = _words(
    "adjustable_quantity dynamic_tax_rates price price_data quantity tax_rates"
)
PRICE_DATA_PARAMS = _words(
    "currency product product_data recurring tax_behavior unit_amount unit_amount_decimal"
)
PRODUCT_DATA_PARAMS = _words("description images metadata name tax_code unit_label")
PAYMENT_INTENT_DATA_PARAMS = _words(
    "application_fee_amount capture_method description metadata on_behalf_of receipt_email "
    "setup_future_usage shipping statement_descriptor statement_descriptor_suffix "
    "transfer_data transfer_group"
)
REFUND_PARAMS = _words(
    "amount charge currency customer expand instructions_email metadata origin payment_intent "
    "reason refund_application_fee reverse_transfer"
)
SUBMIT_TYPES = ("auto", "book", "donate", "pay")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
MIN_AMOUNT_PENCE = 30  # Stripe's minimum charge in GBP.
MAX_AMOUNT_PENCE = 99_999_999
MIN_EXPIRY, MAX_EXPIRY = 30 * 60, 24 * 3600
# What Checkout can take in the sandbox; other types Stripe knows are refused by name.
PAYMENT_METHOD_TYPES = ("card",)
LIST_PARAMS = _words("created ending_before expand limit starting_after")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_known(params: dict, known: frozenset, prefix: str = "") -> None:
    for key in params:
        if key not in known:
            raise unknown_param(f"{prefix}[{key}]" if prefix else key)


def _as_dict(value, param: str) -> dict:
    if not isinstance(value, dict):
        raise invalid_param(param, f"Invalid object: {param} must be a hash.")
    return value


def integer(value, param: str, *, minimum: int | None = None) -> int:
    """A form value as an integer, or Stripe's `Invalid integer` error."""
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        number = int(value)
    else:
        raise invalid_param(param, f"Invalid integer: {value}")
    if minimum is not None and number < minimum:
        raise invalid_param(param, f"This value must be greater than or equal to {minimum}.")
    return number


def _string(params: dict, key: str, *, max_length: int = 5000, param: str | None = None):
    value = params.get(key)
    param = param or key
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_param(param, f"Invalid string: {param} must be a string.")
    if len(value) > max_length:
        raise invalid_param(
            param, f"Invalid string: {value[:20]}...; must be at most {max_length} characters"
        )
    return value


def _url(params: dict, key: str, *, required: bool) -> str | None:
    value = _string(params, key)
    if not value:
        if required:
            raise missing_param(key)
        return None
    parts = urlsplit(value.replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_param(key, "Not a valid URL")
    return value


def _email(params: dict, key: str, param: str | None = None) -> str | None:
    value = _string(params, key, param=param)
    if value is not None and not _EMAIL.fullmatch(value):
        raise invalid_param(param or key, f"Invalid email address: {value}")
    return value


def metadata(value, param: str = "metadata") -> dict:
    """Stripe's metadata rules: up to 50 string pairs; an empty value removes a key."""
    if value in (None, ""):
        return {}
    pairs = _as_dict(value, param)
    if len(pairs) > 50:
        raise invalid_param(param, "Invalid metadata: metadata can have up to 50 keys.")
    cleaned = {}
    for key, item in pairs.items():
        if len(key) > 40:
            raise invalid_param(
                param, f"Metadata key `{key[:20]}...` is longer than 40 characters."
            )
        if not isinstance(item, str):
            raise invalid_param(f"{param}[{key}]", "Metadata values must be strings.")
        if len(item) > 500:
            raise invalid_param(f"{param}[{key}]", "Metadata values can have up to 500 characters.")
        if item != "":
            cleaned[key] = item
    return cleaned


def _line_item(item, index: int) -> dict:
    prefix = f"line_items[{index}]"
    item = _as_dict(item, prefix)
    _check_known(item, LINE_ITEM_PARAMS, prefix)
    if "price" in item:
        raise invalid_param(f"{prefix}[price]", "The sandbox supports only price_data.")
    if "price_data" not in item:
        raise missing_param(f"{prefix}[price_data]")
    price = _as_dict(item["price_data"], f"{prefix}[price_data]")
    _check_known(price, PRICE_DATA_PARAMS, f"{prefix}[price_data]")
    currency = _string(price, "currency", param=f"{prefix}[price_data][currency]")
    if not currency:
        raise missing_param(f"{prefix}[price_data][currency]")
    if currency.lower() != "gbp":
        raise invalid_param(
            f"{prefix}[price_data][currency]",
            f"Invalid currency: {currency}. The sandbox accepts only gbp.",
        )
    if "unit_amount" not in price:
        raise missing_param(f"{prefix}[price_data][unit_amount]")
    unit_amount = integer(price["unit_amount"], f"{prefix}[price_data][unit_amount]", minimum=1)
    product = _as_dict(price.get("product_data", {}), f"{prefix}[price_data][product_data]")
    _check_known(product, PRODUCT_DATA_PARAMS, f"{prefix}[price_data][product_data]")
    name = _string(product, "name", param=f"{prefix}[price_data][product_data][name]")
    if not name:
        raise missing_param(f"{prefix}[price_data][product_data][name]")
    if "quantity" not in item:
        raise StripeError(
            f"Quantity is required. Add `quantity` to `{prefix}`.",
            param=f"{prefix}[quantity]",
            code="parameter_missing",
        )
    quantity = integer(item["quantity"], f"{prefix}[quantity]", minimum=1)
    return {"name": name, "unit_amount": unit_amount, "quantity": quantity, "currency": "gbp"}


def _payment_intent_data(value) -> dict:
    data = _as_dict(value or {}, "payment_intent_data")
    _check_known(data, PAYMENT_INTENT_DATA_PARAMS, "payment_intent_data")
    return {
        "metadata": metadata(data.get("metadata"), "payment_intent_data[metadata]"),
        "description": _string(
            data, "description", max_length=1000, param="payment_intent_data[description]"
        ),
        "receipt_email": _email(data, "receipt_email", "payment_intent_data[receipt_email]"),
    }


def _expires_at(params: dict, now: int) -> int:
    if params.get("expires_at") in (None, ""):
        return now + MAX_EXPIRY
    expires_at = integer(params["expires_at"], "expires_at")
    # No slack, as on Stripe: the app must leave room for its clock and the request's travel.
    # The wording is Stripe's, as its API answers.
    if expires_at < now + MIN_EXPIRY:
        raise invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
        )
    if expires_at > now + MAX_EXPIRY:
        raise invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        )
    return expires_at


def session_params(params: dict, now: int) -> dict:
    """Validate POST /v1/checkout/sessions parameters; returns the values the sandbox uses."""
    _check_known(params, SESSION_PARAMS)
    mode = _string(params, "mode")
    if not mode:
        raise missing_param("mode")
    if mode != "payment":
        raise invalid_param("mode", f"Invalid mode: {mode}. The sandbox supports only payment.")
    if params.get("ui_mode", "hosted") != "hosted":
        raise invalid_param("ui_mode", "The sandbox supports only ui_mode=hosted.")
    submit_type = _string(params, "submit_type")
    if submit_type is not None and submit_type not in SUBMIT_TYPES:
        raise invalid_param(
            "submit_type", "Invalid submit_type: must be one of auto, book, donate, or pay"
        )
    raw_items = params.get("line_items")
    if not raw_items:
        raise missing_param("line_items")
    if not isinstance(raw_items, list):
        raise invalid_param("line_items", "Invalid array: line_items must be an array.")
    line_items = [_line_item(item, index) for index, item in enumerate(raw_items)]
    total = sum(item["unit_amount"] * item["quantity"] for item in line_items)
    if total < MIN_AMOUNT_PENCE:
        raise StripeError(
            "The Checkout Session's total amount due must add up to at least £0.30 gbp",
            param="line_items",
        )
    if total > MAX_AMOUNT_PENCE:
        raise StripeError("Amount must be no more than £999,999.99", param="line_items")
    return {
        "mode": mode,
        "submit_type": submit_type,
        "line_items": line_items,
        "amount_total": total,
        "currency": "gbp",
        "success_url": _url(params, "success_url", required=True),
        "cancel_url": _url(params, "cancel_url", required=False),
        "client_reference_id": _string(params, "client_reference_id", max_length=200),
        "customer_email": _email(params, "customer_email"),
        "metadata": metadata(params.get("metadata")),
        "payment_intent_data": _payment_intent_data(params.get("payment_intent_data")),
        "expires_at": _expires_at(params, now),
        "locale": _string(params, "locale"),
        "payment_method_types": _payment_method_types(params.get("payment_method_types")),
    }


def _payment_method_types(value) -> list[str]:
    if value in (None, ""):
        return ["card"]
    if not isinstance(value, list) or not value:
        raise invalid_param(
            "payment_method_types", "Invalid array: payment_method_types must be an array."
        )
    for index, kind in enumerate(value):
        param = f"payment_method_types[{index}]"
        if not isinstance(kind, str) or not kind:
            raise invalid_param(param, f"Invalid {param}: must be a string.")
        if kind not in PAYMENT_METHOD_TYPES:
            raise invalid_param(
                param,
                f"The payment method type `{kind}` is not supported by the sandbox (card only).",
            )
    return list(dict.fromkeys(value))


def expand_only(params: dict) -> dict:
    """Validate a POST that takes nothing but `expand[]` (e.g. expiring a session)."""
    _check_known(params, _words("expand"))
    return {}


def list_params(params: dict, *, filters: tuple[str, ...] = ()) -> dict:
    """Validate a list request: `limit` (1-100), cursors, `created`, `expand[]`, and `filters`."""
    _check_known(params, LIST_PARAMS | frozenset(filters))
    limit = integer(params.get("limit", 10), "limit", minimum=1)
    if limit > 100:
        raise StripeError("This value must be less than or equal to 100.", param="limit")
    created = params.get("created")
    if isinstance(created, dict):
        for op in created:
            if op not in ("gt", "gte", "lt", "lte"):
                raise unknown_param(f"created[{op}]")
        created = {op: integer(v, f"created[{op}]") for op, v in created.items()}
    elif created is not None:
        created = integer(created, "created")
    expand = params.get("expand", [])
    return {
        "limit": limit,
        "created": created,
        "starting_after": _string(params, "starting_after"),
        "ending_before": _string(params, "ending_before"),
        "expand": [expand] if isinstance(expand, str) else list(expand),
        "filters": {
            key: _string(params, key) for key in filters if isinstance(params.get(key), str)
        },
    }


def refund_params(params: dict) -> dict:
    """Validate POST /v1/refunds parameters; returns the values the sandbox uses."""
    _check_known(params, REFUND_PARAMS)
    intent_id = _string(params, "payment_intent")
    charge_id = _string(params, "charge")
    if not intent_id and not charge_id:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    amount = params.get("amount")
    reason = _string(params, "reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid_param(
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
        )
    return {
        "payment_intent": intent_id,
        "charge": charge_id,
        "amount": None if amount in (None, "") else integer(amount, "amount", minimum=1),
        "reason": reason,
        "metadata": metadata(params.get("metadata")),
    }
