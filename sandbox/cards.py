"""Stripe's test cards and what each does, plus the checks a card form makes before paying.

The table mirrors shared/stripe/test-cards.json (a test keeps the two in step); it lives here
so the sandbox runs without the shared folder beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

AUTH_FAILED = "payment_intent_authentication_failure"

# Stripe's own wording, so a donor sees in the sandbox what they would see on Stripe.
DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "card_velocity_exceeded": (
        "Your card was declined for making repeated attempts too frequently "
        "or exceeding its amount limit."
    ),
}
ERROR_MESSAGES = {
    "card_declined": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "incorrect_number": "Your card number is incorrect.",
    AUTH_FAILED: (
        "We are unable to authenticate your payment method. "
        "Please choose a different payment method and try again."
    ),
}
# Which form field (and Stripe `param`) a card error points at.
ERROR_PARAMS = {"expired_card": "exp_month", "incorrect_cvc": "cvc", "incorrect_number": "number"}


@dataclass(frozen=True)
class Card:
    """One test card: its brand and what happens when it pays."""

    number: str
    network: str = "visa"
    country: str = "US"
    funding: str = "credit"
    error_code: str | None = None
    decline_code: str | None = None
    three_d_secure: bool = False
    dispute_reason: str | None = None
    # A refund of this card's payment starts as `refund_status`, then becomes `refund_later`.
    refund_status: str = "succeeded"
    refund_later: str | None = None

    @property
    def declines(self) -> bool:
        """Whether paying with this card fails (after authentication, for 3-D Secure cards)."""
        return self.error_code is not None

    @property
    def last4(self) -> str:
        """The last four digits, as Stripe shows them."""
        return self.number[-4:]

    @property
    def cvc_length(self) -> int:
        """American Express has a four-digit CVC; the rest three."""
        return 4 if self.network == "amex" else 3


def card_error(error_code: str, decline_code: str | None = None) -> dict:
    """The `last_payment_error`-style dict for a failed card payment."""
    message = DECLINE_MESSAGES.get(decline_code or "") or ERROR_MESSAGES[error_code]
    error = {"type": "card_error", "code": error_code, "message": message}
    if error_code == "card_declined":
        error["decline_code"] = decline_code or "generic_decline"
    if error_code in ERROR_PARAMS:
        error["param"] = ERROR_PARAMS[error_code]
    if error_code == AUTH_FAILED:
        error["type"] = "invalid_request_error"
    return error


def _cards(*cards: Card) -> dict[str, Card]:
    return {card.number: card for card in cards}


CARDS = _cards(
    Card("4242424242424242"),
    Card("4000056655665556", funding="debit"),
    Card("5555555555554444", network="mastercard"),
    Card("2223003122003222", network="mastercard"),
    Card("5200828282828210", network="mastercard", funding="debit"),
    Card("5105105105105100", network="mastercard", funding="prepaid"),
    Card("378282246310005", network="amex"),
    Card("371449635398431", network="amex"),
    Card("6011111111111117", network="discover"),
    Card("4000008260000000", country="GB"),
    Card("4000058260000005", country="GB", funding="debit"),
    Card("4000000000000077"),
    Card("4000000000000002", error_code="card_declined", decline_code="generic_decline"),
    Card("4000000000009995", error_code="card_declined", decline_code="insufficient_funds"),
    Card("4000000000009987", error_code="card_declined", decline_code="lost_card"),
    Card("4000000000009979", error_code="card_declined", decline_code="stolen_card"),
    Card("4000000000000069", error_code="expired_card"),
    Card("4000000000000127", error_code="incorrect_cvc"),
    Card("4000000000000119", error_code="processing_error"),
    Card("4000000000006975", error_code="card_declined", decline_code="card_velocity_exceeded"),
    Card("4000000000000341", error_code="card_declined"),
    # Radar blocks the highest-risk card; Stripe reports it as a decline, code `fraudulent`.
    Card("4100000000000019", error_code="card_declined", decline_code="fraudulent"),
    # Checkout always sends the CVC, so this card's failing CVC check always declines it.
    Card("4000000000000101", error_code="incorrect_cvc"),
    Card("4000002500003155", three_d_secure=True),
    Card("4000002760003184", three_d_secure=True),
    Card("4000000000003220", three_d_secure=True),
    Card(
        "4000008260003178",
        country="GB",
        three_d_secure=True,
        error_code="card_declined",
        decline_code="insufficient_funds",
    ),
    Card("4000008400001629", three_d_secure=True, error_code="card_declined"),
    Card("4000000000000259", dispute_reason="fraudulent"),
    Card("4000000000002685", dispute_reason="product_not_received"),
    Card("4000000000001976", dispute_reason="general"),
    # Early fraud warnings pay normally: the sandbox does not model Radar warnings.
    Card("4000000000005423"),
    Card("4000000000007726", refund_status="pending", refund_later="succeeded"),
    Card("4000000000005126", refund_later="failed"),
)


def luhn_ok(number: str) -> bool:
    """The checksum every real card number passes."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@dataclass(frozen=True)
class CardEntry:
    """What the donor typed, checked and tied to a known test card."""

    card: Card
    exp_month: int
    exp_year: int
    name: str
    email: str


def _expiry(raw: str, today: date) -> tuple[int, int] | str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) not in (4, 6):
        return "Your card's expiration date is incomplete."
    month, year = int(digits[:2]), int(digits[2:])
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        return "Your card's expiration date is invalid."
    if (year, month) < (today.year, today.month):
        return "Your card's expiration year is in the past."
    return month, year


def check_entry(form: dict, today: date | None = None) -> tuple[CardEntry | None, dict]:
    """Check the card form; returns the entry, or field name -> message for each problem."""
    today = today or date.today()
    errors: dict[str, str] = {}
    number = re.sub(r"[\s-]", "", form.get("card_number", ""))
    card = CARDS.get(number)
    if not number:
        errors["card_number"] = "Your card number is incomplete."
    elif not number.isdigit() or not luhn_ok(number) or card is None:
        errors["card_number"] = ERROR_MESSAGES["incorrect_number"]
    expiry = _expiry(form.get("expiry", ""), today)
    if isinstance(expiry, str):
        errors["expiry"] = expiry
    cvc = form.get("cvc", "").strip()
    wanted = card.cvc_length if card else 3
    if not (cvc.isdigit() and len(cvc) == wanted):
        errors["cvc"] = "Your card's security code is incomplete."
    name = form.get("name", "").strip()
    if not name:
        errors["name"] = "Enter the name on your card."
    email = form.get("email", "").strip()
    if not email:
        errors["email"] = "Your email address is incomplete."
    elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = "Your email address is invalid."
    if errors or card is None or isinstance(expiry, str):
        return None, errors
    return CardEntry(card, expiry[0], expiry[1], name, email), {}


def entry_for(number: str, *, name: str = "Test Donor", email: str = "donor@example.org"):
    """A card entry for tests and test controls, skipping the form: a far-future expiry."""
    card = CARDS.get(re.sub(r"[\s-]", "", number))
    if card is None:
        return None
    return CardEntry(card, 12, date.today().year + 5, name, email)
