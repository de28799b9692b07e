"""Money is integer pence, GBP only, shown as £1,234.56."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def format_pence(pence: int) -> str:
    """Show an amount of pence as pounds: 123456 -> '£1,234.56'."""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


def parse_pounds(text: str) -> int:
    """Read '£1,234.56' or '1234.5' as pence; raise ValueError with a message a person can act on."""
    cleaned = (text or "").strip().replace("£", "").replace(",", "").strip()
    if not cleaned:
        raise ValueError("Enter an amount in pounds, like 10 or 12.50.")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount in pounds, like 10 or 12.50.") from None
    if not amount.is_finite():
        raise ValueError("Enter an amount in pounds, like 10 or 12.50.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Amounts can't have fractions of a penny.")
    if amount.copy_abs() > Decimal(10) ** 9:
        raise ValueError("That amount is far too large.")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fee_to_cover(amount_pence: int, basis_points: int, fixed_pence: int) -> int:
    """The extra a donor adds so that, after a fee of `basis_points`/10000 + fixed on the whole
    charge, the charity still receives `amount_pence`. Rounded up to the next penny."""
    gross = Decimal(amount_pence + fixed_pence) / (1 - Decimal(basis_points) / 10_000)
    return int(gross.to_integral_value(rounding="ROUND_CEILING")) - amount_pence
