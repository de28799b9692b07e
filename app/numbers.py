"""Whole numbers from requests: query strings, form fields, form choices, signed metadata.

`str.isdigit()` says yes to '²', '①' and '٣', and `int()` refuses the first two (and reads
the third as 3), so every number a person or a client sends is read here, ASCII digits only.
A leaf module with no imports of the app's own, so views, forms and services can all use it."""

ROW_ID_MAX = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's INTEGER)
PAGE_MAX = 99_999


def whole_number(
    text: object, *, default: int | None = None, minimum: int = 0, maximum: int = ROW_ID_MAX
) -> int | None:
    """`text` as an int if it is ASCII digits only, from `minimum` to `maximum`; else `default`."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return default
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(maximum)):
        return default  # never hand int() thousands of digits: it refuses past 4,300
    number = int(digits)
    return number if minimum <= number <= maximum else default


def page_number(text: str | None) -> int:
    """A 1-based page number from a query string or form; anything odd is page 1."""
    return whole_number(text, default=1, minimum=1, maximum=PAGE_MAX)


def cursor(text: str | None) -> int | None:
    """A keyset cursor (a row id) from a query string or form; anything odd is None."""
    return whole_number(text)
