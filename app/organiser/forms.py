"""Organiser forms: offline money, refunds, rejections, moderation, event settings, invites.
Each says what to do, next to the field it is about."""

import re
import secrets
from datetime import UTC, date, datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
)

from app.donations.forms import GiftAidFields, gift_aid_fields
from app.donations.gift_aid import MAX_HOUSE
from app.forms import pence_from_pounds, strip
from app.timefmt import LONDON

MAX_OFFLINE_PENCE = 10_000_000  # £100,000: a typing slip, not a collection tin
REASON_MAX = 500


def reason_field(label: str, required: str) -> TextAreaField:
    """A reason an organiser must give, kept in the history."""
    return TextAreaField(
        label,
        filters=[strip],
        validators=[
            DataRequired(required),
            Length(max=REASON_MAX, message=f"Use {REASON_MAX} characters or fewer"),
        ],
    )


class _Prefixed(FlaskForm):
    """A form that shares its page with others: field names and ids carry a prefix."""

    default_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.default_prefix)
        super().__init__(*args, **kwargs)


class _PaperGiftAid(GiftAidFields):
    """A Gift Aid declaration as written on a paper sponsorship form (HMRC's minimum), or
    corrected from the donor's own words: HMRC's rules, in the organiser's words."""

    required = {
        "first_name": "Enter the donor's first name for Gift Aid",
        "last_name": "Enter the donor's last name for Gift Aid",
        "house": "Enter the house name or number for Gift Aid",
        "postcode": "Enter a UK postcode, like G12 8QQ, or tick 'The donor lives outside the UK'",
    }
    postcode_hint = required["postcode"]


def _paper_gift_aid_fields() -> tuple:
    return gift_aid_fields(
        "The donor lives outside the UK",
        f"For a donor living outside the UK, their address ({MAX_HOUSE} characters at most).",
    )


class OfflineDonationForm(_PaperGiftAid, FlaskForm):
    """Cash or a cheque an organiser has in hand: counted as soon as it is saved."""

    amount_pence: int | None = None

    recipient = SelectField("Who is it for?", validators=[InputRequired("Choose who it is for")])
    method = SelectField(
        "Cash or cheque?",
        choices=[SelectChoice("cash", "Cash"), SelectChoice("cheque", "Cheque")],
        validators=[AnyOf(("cash", "cheque"), message="Choose cash or cheque")],
    )
    amount = StringField("Amount, in pounds", filters=[strip], render_kw={"inputmode": "decimal"})
    received_on = DateField(
        "Date received",
        validators=[Optional()],
        description="Leave empty for today.",
    )
    donor_name = StringField(
        "Donor's name (optional)",
        filters=[strip],
        validators=[Length(max=100, message="Use 100 characters or fewer")],
    )
    donor_email = EmailField(
        "Donor's email address (optional)",
        filters=[strip],
        description="Only to tell them about a refund. Never shown on the site.",
        validators=[
            Optional(),
            Email("Enter an email address like name@example.com", check_deliverability=False),
            Length(max=254),
        ],
    )
    anonymous = BooleanField("Show the donor as Anonymous on the site")
    keep_in_touch = BooleanField(
        "The donor asked to be told how the event goes",
        description="Only if they ticked a box or said so. Their email address is needed.",
    )
    note = TextAreaField(
        "Note for the organisers (optional)",
        filters=[strip],
        validators=[Length(max=REASON_MAX, message=f"Use {REASON_MAX} characters or fewer")],
    )
    gift_aid = BooleanField("The donor made a Gift Aid declaration on the sponsorship form")
    title, first_name, last_name, house, postcode, overseas = _paper_gift_aid_fields()

    def __init__(self, *args, recipients: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient.choices = [SelectChoice(value, label) for value, label in recipients]

    def gift_aid_needed(self) -> bool:
        """Only a donor who ticked Gift Aid on the paper form needs the details."""
        return bool(self.gift_aid.data)

    def validate_amount(self, field):
        """Pounds and pence, more than nothing."""
        self.amount_pence = pence_from_pounds(field, 1, MAX_OFFLINE_PENCE)

    def validate_received_on(self, field):
        """Not a day that hasn't happened yet."""
        if field.data and field.data > datetime.now(LONDON).date():
            raise ValidationError("The date can't be in the future")

    def validate_keep_in_touch(self, field):
        """News needs somewhere to go."""
        if field.data and not self.donor_email.data:
            raise ValidationError("Enter the donor's email address, or untick this")

    def received_at(self) -> datetime:
        """When the money was received, as a UTC time (midday UK time on a past day)."""
        day: date | None = self.received_on.data
        if day is None or day == datetime.now(LONDON).date():
            return datetime.now(UTC)
        return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).astimezone(UTC)


class GiftAidCorrectionForm(_PaperGiftAid, _Prefixed):
    """Correct a donor's Gift Aid details (a typo that HMRC would refuse)."""

    default_prefix = "giftaid"
    title, first_name, last_name, house, postcode, overseas = _paper_gift_aid_fields()
    reason = reason_field(
        "Why the change? (For the history.)",
        "Say where the corrected details came from",
    )


_REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


class RefundForm(_Prefixed):
    """A full or partial refund. The key makes a double-click (or a resend) one refund."""

    default_prefix = "refund"
    amount_pence: int | None = None
    refund_key = HiddenField()
    amount = StringField("Amount to refund, in pounds", filters=[strip])
    reason = TextAreaField(
        "Reason (optional, for the history)",
        filters=[strip],
        validators=[Length(max=REASON_MAX, message=f"Use {REASON_MAX} characters or fewer")],
    )

    def __init__(self, *args, refundable_pence: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable_pence = refundable_pence
        if not self.refund_key.data:
            self.refund_key.data = secrets.token_urlsafe(18)
        if not self.amount.data and refundable_pence:
            self.amount.data = f"{refundable_pence / 100:.2f}"

    def validate_refund_key(self, field):
        """The key the form was given; anything else is a tampered or stale form."""
        if not _REFUND_KEY.fullmatch(field.data or ""):
            raise ValidationError("This form is out of date. Reload the page and try again")

    def validate_amount(self, field):
        """Up to what is left to refund."""
        if self.refundable_pence <= 0:
            raise ValidationError("There is nothing left to refund on this donation")
        self.amount_pence = pence_from_pounds(field, 1, self.refundable_pence)


class RejectForm(_Prefixed):
    """Why a participant's reported cash is not counted (they are told)."""

    default_prefix = "reject"
    reason = reason_field(
        "Why not? (The participant is told.)",
        "Say why, so the participant can put it right",
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""


class ReviewForm(_Prefixed):
    """An organiser's decision on a donation held for review, saying why (kept in the history)."""

    default_prefix = "review"
    note = reason_field(
        "Why is this right? (Kept in the history.)",
        "Say why, for whoever reads the history later",
    )


class HideForm(_Prefixed):
    """Hide something from the public (saying why) or show it again."""

    default_prefix = "hide"
    action = StringField(validators=[AnyOf(("hide", "restore"), message="Choose hide or restore")])
    reason = TextAreaField(
        "Why hide it? (For the history.)",
        filters=[strip],
        validators=[Length(max=REASON_MAX, message=f"Use {REASON_MAX} characters or fewer")],
    )

    def validate_reason(self, field):
        """Hiding needs a reason."""
        if self.action.data == "hide" and not field.data:
            raise ValidationError("Say why it is hidden")


class InviteForm(FlaskForm):
    """Someone to invite as an organiser."""

    name = StringField(
        "Their name",
        filters=[strip],
        validators=[DataRequired("Enter their name"), Length(max=100)],
    )
    email = EmailField(
        "Their email address",
        filters=[lambda v: strip(v).lower() if isinstance(v, str) else v],
        validators=[
            DataRequired("Enter their email address"),
            Email("Enter an email address like name@example.com", check_deliverability=False),
            Length(max=254),
        ],
    )


class AskDonorForm(FlaskForm):
    """Send the donor the ready email asking them to complete their Gift Aid details."""


class FlagDecisionForm(_Prefixed):
    """An organiser lets a flagged gift's Gift Aid be claimed, saying how they know."""

    reason = reason_field(
        "How do you know it may be claimed? (Kept in the history.)",
        "Say how you know, for whoever reads the history later",
    )


class EventPictureForm(FlaskForm):
    """The event image (with a description for people who can't see it) or the charity's
    logo; prefix it with the kind ("image" or "logo")."""

    file = FileField(
        "Picture",
        validators=[FileRequired("Choose a picture to upload")],
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )
    alt = StringField(
        "Describe the picture",
        filters=[strip],
        validators=[Length(max=200, message="Use 200 characters or fewer")],
    )

    def validate_alt(self, field):
        """The event image needs a description; the logo is described by the charity's name."""
        if self._prefix.startswith("image") and not field.data:
            raise ValidationError("Describe the picture in a few words, like 'The tower we abseil'")
