"""Money is integer pence, shown as £1,234.56."""

import pytest

from app.money import fee_to_cover, format_pence, parse_pounds


@pytest.mark.parametrize(
    ("pence", "shown"),
    [(0, "£0.00"), (5, "£0.05"), (123456, "£1,234.56"), (500_000, "£5,000.00"), (-250, "-£2.50")],
)
def test_pence_are_shown_as_pounds(pence, shown):
    assert format_pence(pence) == shown


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("10", 1000), ("12.5", 1250), ("£1,234.56", 123456), (" 7.05 ", 705)],
)
def test_typed_pounds_are_read_as_pence(typed, pence):
    assert parse_pounds(typed) == pence


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("ten", "Enter an amount"),
        ("1.005", "fractions of a penny"),
        ("NaN", "Enter an amount"),
        ("Infinity", "Enter an amount"),
        ("1e30", "Enter an amount"),
        ("9999999999", "far too large"),
        ("-5", "more than £0"),
    ],
)
def test_bad_amounts_get_a_clear_message(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_pounds(typed)


def test_covering_the_fee_leaves_the_charity_the_whole_gift():
    extra = fee_to_cover(1000, basis_points=150, fixed_pence=20)
    charged = 1000 + extra
    fee = charged * 150 / 10_000 + 20
    assert charged - fee >= 1000
    assert charged - 1 - ((charged - 1) * 150 / 10_000 + 20) < 1000  # a penny less would not do
