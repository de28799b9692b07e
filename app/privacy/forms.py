"""Forms for people's data rights: which address, what to download, correct or erase."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.forms import strip
from app.organiser.forms import reason_field


def _address_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired("Enter the email address the person asked about"),
            Length(max=254, message="An email address is at most 254 characters"),
            Email("Enter an email address like name@example.org"),
        ],
        description="Every record for this address is found, whatever its capital letters.",
    )


class FindPersonForm(FlaskForm):
    """Which address to look up."""

    email = _address_field()


class DownloadForm(FlaskForm):
    """The subject access download: JSON for machines, HTML for reading."""

    email = _address_field()
    format = SelectField(
        "File",
        choices=[
            SelectChoice("html", "A web page to read or print (HTML)"),
            SelectChoice("json", "Data (JSON)"),
        ],
        validators=[InputRequired("Choose a file")],
        validate_choice=True,
    )


class EraseForm(FlaskForm):
    """An organiser's erasure: the address, why, and a tick to say they mean it."""

    email = _address_field()
    reason = reason_field(
        "Why (for example: their request, and the date)",
        "Say why this person's details are erased; it is kept in the history",
    )
    confirm = BooleanField(
        "I have checked this is the right person, and understand it cannot be undone",
        validators=[DataRequired("Tick to confirm, or go back")],
    )


class CorrectForm(FlaskForm):
    """A correction to one record: the account, or one donation's name and address."""

    email = _address_field()
    donation_id = IntegerField("Donation", validators=[Optional()])
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            DataRequired("Enter the corrected name"),
            Length(max=100, message="Use 100 characters or fewer"),
        ],
    )
    new_email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            DataRequired("Enter the corrected email address"),
            Length(max=254, message="An email address is at most 254 characters"),
            Email("Enter an email address like name@example.org"),
        ],
    )


class DeleteAccountForm(FlaskForm):
    """A participant deleting their own account: their password and a tick."""

    password = PasswordField(
        "Your password", validators=[DataRequired("Type your password to delete your account")]
    )
    confirm = BooleanField(
        "I understand I cannot undo this",
        validators=[DataRequired("Tick the box to say you understand")],
    )
