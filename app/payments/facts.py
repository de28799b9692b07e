"""Stripe's objects read into plain facts, strictly: a signed event with a missing id, a string
where a number belongs or metadata that is not an object is refused (`Malformed`), never half
applied. The webhook, the thanks page and reconcile all read Stripe through these."""

from dataclasses import dataclass
from datetime import UTC, datetime

from app.models.stripe_records import DISPUTE_STATUSES, RefundStatus
from app.numbers import whole_number

# Stripe's ids are short printable ASCII; the columns hold 255 characters.
_MAX_ID = 255
_MAX_AMOUNT = 10**11  # far above any donation; keeps a bogus figure out of integer columns


class Malformed(ValueError):
    """A Stripe object without the fields (or types) Plunge needs; says which field."""


def to_dict(stripe_object) -> dict:
    """A StripeObject (or a dict from a test) as a plain dict."""
    if hasattr(stripe_object, "to_dict"):
        return stripe_object.to_dict()
    if isinstance(stripe_object, dict):
        return stripe_object
    raise Malformed("object")


def _string(obj: dict, key: str, *, optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID or not value.isprintable():
        raise Malformed(key)
    return value


def _amount(obj: dict, key: str) -> int:
    value = obj.get(key)
    # bool is an int to Python, never an amount to Stripe
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_AMOUNT:
        raise Malformed(key)
    return value


def timestamp(obj: dict, key: str = "created") -> datetime:
    """A Unix time field (Stripe's `created`) as an aware UTC datetime."""
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**33:
        raise Malformed(key)
    return datetime.fromtimestamp(value, UTC)


def _metadata(obj: dict) -> dict:
    value = obj.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed("metadata")
    return value


def _id_of(value, key: str) -> str | None:
    """An id field that Stripe may have expanded into its object."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID:
        raise Malformed(key)
    return value


def donation_id(obj: dict) -> int | None:
    """Our donation id from an object's metadata (or a session's client_reference_id)."""
    raw = _metadata(obj).get("donation_id") or obj.get("client_reference_id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    return whole_number(raw, maximum=999_999_999)


@dataclass(frozen=True)
class SessionFacts:
    """A Checkout Session: which donation, what it asked, where it stands, when paid."""

    id: str
    donation_id: int | None
    amount_total: int
    status: str
    payment_status: str
    payment_intent_id: str | None
    created: datetime
    # When the charge was made, if Stripe expanded it for us (thanks page, reconcile).
    charged_at: datetime | None

    @property
    def paid(self) -> bool:
        """Stripe has the money."""
        return self.status == "complete" and self.payment_status in ("paid", "no_payment_required")

    @property
    def processing(self) -> bool:
        """Completed, but a delayed payment is still on its way."""
        return self.status == "complete" and not self.paid


def session(obj) -> SessionFacts:
    """Read a `checkout.session`."""
    obj = to_dict(obj)
    status = _string(obj, "status")
    if status not in ("open", "complete", "expired"):
        raise Malformed("status")
    intent = obj.get("payment_intent")
    charged_at = None
    if isinstance(intent, dict):
        charge = intent.get("latest_charge")
        if isinstance(charge, dict) and charge.get("created") is not None:
            charged_at = timestamp(charge)
    return SessionFacts(
        id=_string(obj, "id"),
        donation_id=donation_id(obj),
        amount_total=_amount(obj, "amount_total"),
        status=status,
        payment_status=_string(obj, "payment_status"),
        payment_intent_id=_id_of(intent, "payment_intent"),
        created=timestamp(obj),
        charged_at=charged_at,
    )


def _money_back(obj: dict) -> dict:
    """What a refund and a dispute share: whose payment, how much, when."""
    return {
        "id": _string(obj, "id"),
        "donation_id": donation_id(obj),
        "payment_intent_id": _id_of(obj.get("payment_intent"), "payment_intent"),
        "charge_id": _id_of(obj.get("charge"), "charge"),
        "amount": _amount(obj, "amount"),
        "created": timestamp(obj),
    }


@dataclass(frozen=True)
class RefundFacts:
    """A refund: how much, of which payment, and its status."""

    id: str
    donation_id: int | None
    payment_intent_id: str | None
    charge_id: str | None
    amount: int
    status: RefundStatus
    failure_reason: str
    created: datetime
    request_key: str


def refund(obj) -> RefundFacts:
    """Read a `refund`."""
    obj = to_dict(obj)
    try:
        status = RefundStatus(_string(obj, "status"))
    except ValueError as exc:
        raise Malformed("status") from exc
    key = _metadata(obj).get("plunge_refund_key")
    failure = obj.get("failure_reason")
    return RefundFacts(
        **_money_back(obj),
        status=status,
        failure_reason=failure[:100] if isinstance(failure, str) else "",
        request_key=key[:100] if isinstance(key, str) else "",
    )


@dataclass(frozen=True)
class ChargeFacts:
    """A charge: whose payment it is (refund events carry the charge)."""

    id: str
    donation_id: int | None
    payment_intent_id: str | None
    amount: int
    amount_refunded: int


def charge(obj) -> ChargeFacts:
    """Read a `charge`."""
    obj = to_dict(obj)
    return ChargeFacts(
        id=_string(obj, "id"),
        donation_id=donation_id(obj),
        payment_intent_id=_id_of(obj.get("payment_intent"), "payment_intent"),
        amount=_amount(obj, "amount"),
        amount_refunded=_amount(obj, "amount_refunded"),
    )


@dataclass(frozen=True)
class DisputeFacts:
    """A dispute: how much, its status, and whether money has left or come back."""

    id: str
    donation_id: int | None
    payment_intent_id: str | None
    charge_id: str | None
    amount: int
    status: str
    reason: str
    created: datetime
    withdrawn: bool
    reinstated: bool


def dispute(obj, event_type: str = "") -> DisputeFacts:
    """Read a `dispute`; the funds events and its balance transactions say where money is."""
    obj = to_dict(obj)
    status = _string(obj, "status")
    if status not in DISPUTE_STATUSES:
        raise Malformed("status")
    movements = obj.get("balance_transactions") or []
    if not isinstance(movements, list):
        raise Malformed("balance_transactions")
    amounts = [m.get("amount") for m in movements if isinstance(m, dict)]
    if any(not isinstance(a, int) or isinstance(a, bool) for a in amounts):
        raise Malformed("balance_transactions")
    reason = obj.get("reason")
    return DisputeFacts(
        **_money_back(obj),
        status=status,
        reason=reason[:50] if isinstance(reason, str) else "",
        withdrawn=event_type == "charge.dispute.funds_withdrawn" or any(a < 0 for a in amounts),
        reinstated=event_type == "charge.dispute.funds_reinstated" or any(a > 0 for a in amounts),
    )
