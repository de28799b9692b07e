"""Forms for paper sponsorship: how many sheets to print, and which sheet to type in."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, NumberRange

from app.forms import strip
from app.paper.printing_service import MAX_SHEETS_AT_ONCE


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
        description="Printed at the top right of every sheet, like P-7K3Q-2.",
    )
