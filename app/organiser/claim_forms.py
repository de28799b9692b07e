"""Forms of the Gift Aid claims page: the period of a new claim, when a claim was submitted to
HMRC, and discarding one. Each says what to change beside the field it is about."""

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length, Regexp

from app.forms import strip
from app.organiser.forms import REASON_MAX, _Prefixed

DATE_HINT = "A UK date, like 2027-03-31"
MAX_REFERENCE = 60


class PeriodForm(FlaskForm):
    """The UK dates a claim covers, both included (also sent by GET, to preview it)."""

    first_day = DateField(
        "First day",
        description=DATE_HINT,
        validators=[InputRequired("Enter the first day of the period, like 2027-03-01")],
    )
    last_day = DateField(
        "Last day",
        description=DATE_HINT,
        validators=[InputRequired("Enter the last day of the period, like 2027-03-31")],
    )

    def validate_last_day(self, field):
        """Not before the first day."""
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError("The last day can't be before the first day")


class SubmittedForm(_Prefixed):
    """The day the claim went to HMRC, and HMRC's reference for it if there is one."""

    default_prefix = "submitted"
    on = DateField(
        "Submitted to HMRC on",
        description=DATE_HINT,
        validators=[InputRequired("Enter the day you submitted it, like 2027-04-02")],
    )
    reference = StringField(
        "HMRC's reference (optional)",
        filters=[strip],
        validators=[
            Length(max=MAX_REFERENCE, message=f"Use {MAX_REFERENCE} characters or fewer"),
            Regexp(r"^[^\x00-\x1f\x7f]*$", message="Use letters, numbers and spaces only"),
        ],
    )


class DiscardForm(_Prefixed):
    """Give up a claim not yet submitted, saying why (for the history)."""

    default_prefix = "discard"
    reason = TextAreaField(
        "Why discard it? (Optional, for the history.)",
        filters=[strip],
        validators=[Length(max=REASON_MAX, message=f"Use {REASON_MAX} characters or fewer")],
    )
