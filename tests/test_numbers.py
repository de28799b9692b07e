"""app/numbers.py: whole numbers from requests, ASCII digits only."""

import pytest

from app.numbers import ROW_ID_MAX, cursor, page_number, whole_number


@pytest.mark.parametrize(
    "text", ["²", "①", "٣", "-1", "+1", " 1", "1 ", "1\x00", "", None, "1.5", str(10**30), "1_0"]
)
def test_anything_but_ascii_digits_is_the_default(text):
    assert whole_number(text) is None
    assert whole_number(text, default=7) == 7
    assert page_number(text) == 1
    assert cursor(text) is None


def test_ascii_digits_within_the_range_are_read():
    assert whole_number("42") == 42
    assert whole_number("0" * 5000 + "7") == 7  # int() alone refuses past 4,300 digits
    assert whole_number(str(ROW_ID_MAX)) == ROW_ID_MAX
    assert whole_number(str(ROW_ID_MAX + 1)) is None
    assert whole_number("5", minimum=6) is None
    assert whole_number("1000", maximum=999, default=0) == 0
    assert page_number("0") == 1
    assert page_number("3") == 3
