"""The donation form: amount, donor, message, and the Gift Aid declaration."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.donations.gift_aid import MAX_NAME, MAX_TITLE, normalise_postcode
from app.forms import pence_from_pounds, pence_within
from app.money import format_pence
from app.numbers import whole_number

PRESETS_PENCE = (1000, 2000, 5000, 10000)
OTHER = "other"
MESSAGE_MAX = 500
_LIMITS = {
    "too_small": "The smallest donation is {minimum}.",
    "too_large": (
        "The largest donation online is {maximum}. For more, please contact the organisers."
    ),
}


class DonationForm(FlaskForm):
    """Everything a donor fills in before going to Stripe Checkout."""

    attempt_key = HiddenField()
    amount_preset = RadioField(
        "How much would you like to give?",
        choices=[SelectChoice(str(p), format_pence(p).replace(".00", "")) for p in PRESETS_PENCE]
        + [SelectChoice(OTHER, "Another amount")],
        default=str(PRESETS_PENCE[1]),
        validators=[InputRequired("Choose an amount.")],
        validate_choice=False,  # validate_amount_preset says "Choose an amount." instead
    )
    other_amount = StringField("Another amount, in pounds")
    cover_fee = BooleanField("Add the card fee so the charity receives my whole gift")
    donor_name = StringField(
        "Your name",
        validators=[InputRequired("Enter your name, for your receipt."), Length(max=100)],
    )
    donor_email = StringField(
        "Your email address",
        validators=[
            InputRequired("Enter your email address, so we can send your receipt."),
            Email("Enter an email address like name@example.com.", check_deliverability=False),
            Length(max=254),
        ],
        description="Only for your receipt. Never shown on the page.",
    )
    message = TextAreaField(
        "A message of support (optional)",
        validators=[
            Optional(),
            Length(max=MESSAGE_MAX, message=f"Keep your message to {MESSAGE_MAX} characters."),
        ],
    )
    anonymous = BooleanField("Don't show my name on the page")
    hide_amount = BooleanField("Don't show the amount on the page")

    gift_aid = BooleanField("Yes, add Gift Aid")
    title = StringField("Title (optional)", validators=[Optional(), Length(max=MAX_TITLE)])
    first_name = StringField("First name", validators=[Length(max=MAX_NAME)])
    last_name = StringField("Last name", validators=[Length(max=MAX_NAME)])
    house = StringField("House name or number", validators=[Length(max=100)])
    postcode = StringField("Postcode", validators=[Length(max=10)])
    gift_aid_confirm = BooleanField("I confirm")

    def __init__(self, *args, min_pence: int, max_pence: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_pence, self.max_pence = min_pence, max_pence
        self.amount_pence: int | None = None

    def validate_amount_preset(self, field):
        """Work out the amount in pence from a preset or the typed amount, within the limits."""
        if field.data == OTHER:
            return  # checked with the typed amount
        preset = whole_number(field.data)
        if preset not in PRESETS_PENCE:
            raise ValidationError("Choose an amount.")
        self.amount_pence = self._within_limits(preset)

    def validate_other_amount(self, field):
        """The typed amount, when 'Another amount' is chosen."""
        if self.amount_preset.data != OTHER:
            return
        self.amount_pence = pence_from_pounds(field, self.min_pence, self.max_pence, **_LIMITS)

    def _within_limits(self, pence: int) -> int:
        return pence_within(pence, self.min_pence, self.max_pence, **_LIMITS)

    def validate_first_name(self, field):
        """HMRC needs a first name for a Gift Aid claim."""
        if self.gift_aid.data and not (field.data or "").strip():
            raise ValidationError("Enter your first name for Gift Aid.")

    def validate_last_name(self, field):
        """HMRC needs a last name for a Gift Aid claim."""
        if self.gift_aid.data and not (field.data or "").strip():
            raise ValidationError("Enter your last name for Gift Aid.")

    def validate_house(self, field):
        """HMRC needs the house name or number of the donor's home address."""
        if self.gift_aid.data and not (field.data or "").strip():
            raise ValidationError("Enter your house name or number for Gift Aid.")

    def validate_postcode(self, field):
        """A UK postcode, normalised to upper case with one space."""
        if not self.gift_aid.data:
            return
        postcode = normalise_postcode(field.data or "")
        if postcode is None:
            raise ValidationError("Enter a UK postcode, like G12 8QQ.")
        field.data = postcode

    def validate_gift_aid_confirm(self, field):
        """Gift Aid on sponsorship needs the donor to confirm they may claim it."""
        if self.gift_aid.data and not field.data:
            raise ValidationError("Tick to confirm, or untick Gift Aid.")
