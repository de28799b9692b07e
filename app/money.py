"""Money is integer pence, GBP only, shown as £1,234.56."""

import re
from decimal import Decimal

_POUNDS = re.compile(r"(\d+)(?:\.(\d*))?")


def format_pence(pence: int) -> str:
    """Show an amount of pence as pounds: 123456 -> '£1,234.56'."""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


def parse_pounds(text: str) -> int:
    """Read "£1,234.56" or "1234.5" as pence; raise ValueError with a message people can act on."""
    cleaned = (text or "").strip().replace("£", "").replace(",", "").strip()
    match = _POUNDS.fullmatch(cleaned)
    if match is None:
        if cleaned.startswith("-"):
            raise ValueError("Enter an amount of more than £0.")
        raise ValueError("Enter an amount in pounds, like 10 or 12.50.")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(whole.lstrip("0")) > 9:
        raise ValueError("That amount is far too large.")
    if len(fraction.rstrip("0")) > 2:
        raise ValueError("Amounts can't have fractions of a penny.")
    return int(whole) * 100 + int((fraction + "00")[:2])


def fee_to_cover(amount_pence: int, basis_points: int, fixed_pence: int) -> int:
    """The extra a donor adds so that, after a fee of `basis_points`/10000 + fixed on the whole
    charge, the charity still receives `amount_pence`. Rounded up to the next penny."""
    gross = Decimal(amount_pence + fixed_pence) / (1 - Decimal(basis_points) / 10_000)
    return int(gross.to_integral_value(rounding="ROUND_CEILING")) - amount_pence


def percent_of(part_pence: int, whole_pence: int) -> int:
    """Whole per cent (rounded down, may pass 100) of `whole_pence`; 0 when there is no whole."""
    return part_pence * 100 // whole_pence if whole_pence > 0 else 0
