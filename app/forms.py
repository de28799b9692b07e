"""What every form shares: the strip filter, and pounds read as pence within limits."""

from wtforms import ValidationError

from app.money import format_pence, parse_pounds

# The wording when an amount is out of range; a form may say it its own way ({minimum},
# {maximum} are filled in as £1,234.56).
AT_LEAST = "Enter an amount of at least {minimum}."
NO_MORE_THAN = "Enter an amount of no more than {maximum}."


def strip(value):
    """A field filter: text without spaces around it or NUL in it (PostgreSQL refuses NUL)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def pence_within(
    pence: int, minimum: int, maximum: int, *, too_small=AT_LEAST, too_large=NO_MORE_THAN
) -> int:
    """`pence` if it is from `minimum` to `maximum`; otherwise a ValidationError saying so."""
    limits = {"minimum": format_pence(minimum), "maximum": format_pence(maximum)}
    if pence < minimum:
        raise ValidationError(too_small.format(**limits))
    if pence > maximum:
        raise ValidationError(too_large.format(**limits))
    return pence


def pence_from_pounds(
    field, minimum: int, maximum: int, *, too_small=AT_LEAST, too_large=NO_MORE_THAN
) -> int:
    """A pounds field as pence within limits, or a ValidationError people can act on."""
    try:
        pence = parse_pounds(field.data or "")
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    return pence_within(pence, minimum, maximum, too_small=too_small, too_large=too_large)
