"""app/forms.py, app/donations/gift_aid.py and app/money.py's percent_of: each rule once."""

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import ValidationError

from app.auth.forms import SignupForm
from app.donations.gift_aid import MAX_HOUSE, MAX_NAME, MAX_TITLE, gift_aid_on
from app.forms import pence_from_pounds, strip
from app.money import percent_of


def test_every_strip_removes_nul(app):
    # The sign-up form's strip kept NUL, which PostgreSQL refuses to store.
    with app.test_request_context(method="POST"):
        form = SignupForm(formdata=MultiDict({"name": " Ann\x00 Smith "}), meta={"csrf": False})
        assert form.name.data == "Ann Smith"
    assert strip(" a\x00b ") == "ab"
    assert strip(None) is None


class _Field:
    def __init__(self, data):
        self.data = data


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Enter an amount of at least £0.01."),
        ("100.01", "Enter an amount of no more than £100.00."),
        ("-5", "Enter an amount of more than £0."),
        ("", "Enter an amount in pounds, like 10 or 12.50."),
    ],
)
def test_pounds_out_of_range_or_unreadable_say_why(typed, message):
    with pytest.raises(ValidationError, match=message):
        pence_from_pounds(_Field(typed), 1, 10_000)


def test_pounds_in_range_are_pence_and_forms_may_word_the_limits():
    assert pence_from_pounds(_Field("£12.50"), 1, 10_000) == 1250
    with pytest.raises(ValidationError, match="^Between £1.00 and £2.00$"):
        pence_from_pounds(_Field("3"), 100, 200, too_large="Between {minimum} and {maximum}")


def test_gift_aid_and_hmrc_limits():
    assert gift_aid_on(1000) == 250
    assert gift_aid_on(3) == 0  # rounded down: HMRC pays whole pence
    assert (MAX_TITLE, MAX_NAME, MAX_HOUSE) == (4, 35, 40)


def test_percent_of_a_target():
    assert percent_of(1500, 1000) == 150
    assert percent_of(999, 1000) == 99
    assert percent_of(5, 0) == 0
