"""Forms for paper sponsorship: how many sheets to print, and which sheet to type in."""

from datetime import date, datetime

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.forms import pence_within, strip
from app.money import parse_pounds
from app.organiser.forms import MAX_OFFLINE_PENCE, _paper_gift_aid_fields, _PaperGiftAid
from app.paper.printing_service import MAX_SHEETS_AT_ONCE
from app.timefmt import LONDON


class PrintForm(FlaskForm):
    """How many new sheets, and as a PDF or a page for the browser to print."""

    sheets = IntegerField(
        "How many sheets?",
        default=1,
        validators=[
            InputRequired("Enter how many sheets to print"),
            NumberRange(1, MAX_SHEETS_AT_ONCE, f"Print from 1 to {MAX_SHEETS_AT_ONCE} sheets"),
        ],
        description="Each sheet has its own number and room for 12 sponsors.",
    )
    kind = SelectField(
        "Print as",
        choices=[SelectChoice("pdf", "A PDF to download"), SelectChoice("html", "A web page")],
        default="pdf",
        validators=[AnyOf(("pdf", "html"), message="Choose PDF or web page")],
    )


class FindSheetForm(FlaskForm):
    """The reference printed at the top of a returned sheet."""

    reference = StringField(
        "Sheet reference",
        filters=[strip],
        validators=[InputRequired("Type the reference printed at the top of the sheet")],
        description=(
            "Printed at the top right of every sheet, like P-7K3Q-2 (a team's sheet: T-7K3Q-2)."
        ),
    )


class SheetForm(FlaskForm):
    """A returned sheet's own facts; its rows are read from the grid (`entry.typed_rows`)."""

    handed_in_pence: int | None = None

    handed_in = StringField(
        "Money handed in with the sheet, in pounds",
        filters=[strip],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
        description="Cash and cheques together. Needed to save the sheet, not for a draft.",
    )
    received_on = DateField(
        "Date handed in",
        validators=[Optional()],
        description="Leave empty for today. A line without a date paid takes this date.",
    )
    paste = TextAreaField(
        "Or paste rows from a spreadsheet",
        filters=[strip],
        description=(
            "One sponsor a line, columns in the grid's order (title, first name, last name, "
            "house, postcode, pledged, paid, date paid, Gift Aid as Y), separated by tabs."
        ),
    )
    rows = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def validate_handed_in(self, field):
        """Pounds and pence, or nothing yet."""
        if field.data:
            self.handed_in_pence = pence_within_pounds(field.data)

    def validate_received_on(self, field):
        """Not a day that hasn't happened yet."""
        if field.data and field.data > datetime.now(LONDON).date():
            raise ValidationError("The date can't be in the future")

    def day(self) -> date:
        """The day the sheet was handed in (today if not said)."""
        return self.received_on.data or datetime.now(LONDON).date()


def pence_within_pounds(text: str) -> int:
    """Pounds as pence, from 0 (nothing came with the sheet) to the largest offline amount."""
    try:
        pence = parse_pounds(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    return pence_within(pence, 0, MAX_OFFLINE_PENCE)


class ClaimMethodForm(FlaskForm):
    """A line per sponsor, or a "Yes" line per participant."""

    method = SelectField(
        "How to list paper sponsorship",
        choices=[
            SelectChoice("individual", "A line per sponsor, with their own name and address"),
            SelectChoice("sponsored", "A 'Yes' line per participant (sponsored-event method)"),
        ],
        validators=[AnyOf(("individual", "sponsored"), message="Choose how to list them")],
    )


class ParticipantAddressForm(_PaperGiftAid, FlaskForm):
    """A participant's name and home address, as HMRC reads a sponsored-event line."""

    required = {
        "first_name": "Enter the participant's first name",
        "last_name": "Enter the participant's last name",
        "house": "Enter the participant's house name or number",
        "postcode": "Enter a UK postcode, like G12 8QQ, or tick 'The donor lives outside the UK'",
    }
    title, first_name, last_name, house, postcode, overseas = _paper_gift_aid_fields()

    @classmethod
    def for_series(cls, series) -> "ParticipantAddressForm":
        """The form filled in with what is kept (empty the first time)."""
        return cls(
            formdata=None,
            prefix=f"address-{series.id}",
            data={
                "title": series.claim_title,
                "first_name": series.claim_first_name,
                "last_name": series.claim_last_name,
                "house": series.claim_house,
                "postcode": series.claim_postcode,
            },
        )
