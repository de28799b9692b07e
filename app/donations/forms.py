"""The donation form: amount, donor, message, and the Gift Aid declaration; and the Gift Aid
fields every form that takes a declaration shares."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.donations.gift_aid import (
    MAX_HOUSE,
    POSTCODE_HINT,
    TITLES,
    Cleaned,
    GiftAidDetails,
    clean_for_hmrc,
)
from app.forms import pence_from_pounds, pence_within, strip
from app.mailing.consent import tick_label
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


def gift_aid_fields(overseas_label: str, house_hint: str) -> tuple:
    """The fields of a Gift Aid declaration's name and home address, made where the form
    declares them (so they keep their place in its error summary). No length limits here: a
    value is checked after cleaning, as HMRC will read it, and never cut short."""
    return (
        StringField("Title (optional)", filters=[strip], render_kw={"list": "gift-aid-titles"}),
        StringField("First name", filters=[strip]),
        StringField("Last name", filters=[strip]),
        StringField("House name or number", filters=[strip], description=house_hint),
        StringField("Postcode", filters=[strip]),
        BooleanField(overseas_label),
    )


class GiftAidFields:
    """HMRC's rules on a form's Gift Aid fields (made by `gift_aid_fields`), applied with the
    rest of the form's checks. `required` words the form's own "enter your ..." messages."""

    titles = TITLES
    required: dict[str, str] = {}
    postcode_hint = POSTCODE_HINT  # a form says which box to tick for a home abroad
    cleaned: Cleaned | None = None

    def gift_aid_needed(self) -> bool:
        """Whether this submission declares Gift Aid (so the fields must be right)."""
        return True

    def validate(self, extra_validators=None) -> bool:
        """The form's own checks, then HMRC's on the Gift Aid fields."""
        valid = super().validate(extra_validators)
        return self._check_gift_aid() and valid

    def _check_gift_aid(self) -> bool:
        self.cleaned = None
        if not self.gift_aid_needed():
            return True
        overseas = bool(self.overseas.data)
        self.cleaned = clean_for_hmrc(self._typed(), overseas=overseas)
        problems = dict(self.cleaned.problems)
        if problems.get("postcode") == POSTCODE_HINT:
            problems["postcode"] = self.postcode_hint
        for name in self.cleaned.missing:
            problems[name] = self.required[name]
        for name, problem in problems.items():
            if not self[name].errors:
                self[name].errors = [*self[name].errors, problem]
        return not problems

    def _typed(self) -> GiftAidDetails:
        return GiftAidDetails(
            title=self.title.data or "",
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            house=self.house.data or "",
            postcode=self.postcode.data or "",
        )

    def gift_aid_details(self) -> GiftAidDetails:
        """The declaration's details as HMRC will read them (after a successful validate)."""
        if self.cleaned is None or self.cleaned.problems:
            raise ValueError("the Gift Aid details have not passed HMRC's rules")
        return self.cleaned.details

    def show_overseas(self) -> None:
        """A stored postcode X shown as the form has it: the box ticked, the postcode empty."""
        if (self.postcode.data or "").upper() == "X":
            self.postcode.data, self.overseas.data = "", True


class DonorGiftAidFields(GiftAidFields):
    """A donor's own Gift Aid details, in the donor's words."""

    required = {
        "first_name": "Enter your first name for Gift Aid.",
        "last_name": "Enter your last name for Gift Aid.",
        "house": "Enter your house name or number for Gift Aid.",
        "postcode": "Enter your postcode for Gift Aid, or tick 'I live outside the UK'.",
    }
    postcode_hint = "Enter a UK postcode, like G12 8QQ, or tick 'I live outside the UK'."
    # How HMRC will read the details, as last shown to the donor (see `gift_aid_unseen`).
    gift_aid_checked = HiddenField()

    def gift_aid_preview(self) -> Cleaned | None:
        """The details as HMRC will read them, when the donor should see that before paying:
        cleaning changed their letters, or there is something to know (a Crown dependency)."""
        cleaned = self.cleaned
        if cleaned is None or cleaned.problems or not (cleaned.changed or cleaned.notes):
            return None
        return cleaned

    def gift_aid_unseen(self) -> bool:
        """True when the donor must see how HMRC will read their details before paying: the
        page they sent did not show this very version (a no-JavaScript donor sees it once)."""
        preview = self.gift_aid_preview()
        return preview is not None and self.gift_aid_checked.data != preview.key


def donor_gift_aid_fields() -> tuple:
    """The Gift Aid fields as a donor fills them in (see `gift_aid_fields`)."""
    return gift_aid_fields(
        "I live outside the UK",
        f"If you live outside the UK, your address, in {MAX_HOUSE} characters or fewer.",
    )


class DonationForm(DonorGiftAidFields, FlaskForm):
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
    # Unticked unless the donor ticks it (PECR): the words are versioned in app.mailing.consent.
    keep_in_touch = BooleanField(tick_label(), default=False)

    gift_aid = BooleanField("Yes, add Gift Aid")
    title, first_name, last_name, house, postcode, overseas = donor_gift_aid_fields()
    gift_aid_confirm = BooleanField("I confirm")

    def __init__(self, *args, min_pence: int, max_pence: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_pence, self.max_pence = min_pence, max_pence
        self.amount_pence: int | None = None
        self.show_overseas()

    def gift_aid_needed(self) -> bool:
        """Gift Aid details count only when the donor ticks Gift Aid."""
        return bool(self.gift_aid.data)

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

    def validate_gift_aid_confirm(self, field):
        """Gift Aid on sponsorship needs the donor to confirm they may claim it."""
        if self.gift_aid.data and not field.data:
            raise ValidationError("Tick to confirm, or untick Gift Aid.")
