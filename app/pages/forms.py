"""Sponsor page forms: the page, its photo, updates, thank-you replies and moderation."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import AnyOf, DataRequired, Length

from app.forms import pence_from_pounds, strip
from app.pages import service
from app.share import MESSAGE_MAX, clean_message

MIN_TARGET_PENCE = 1_000
MAX_TARGET_PENCE = 10_000_000
STORY_MAX = 5_000
UPDATE_MAX = 1_000
THANK_YOU_MAX = 500


def _lower(value):
    return strip(value).lower() if isinstance(value, str) else value


def _text(label, max_chars, required=None, **render_kw):
    validators = [DataRequired(required)] if required else []
    validators.append(Length(max=max_chars, message=f"Use {max_chars:,} characters or fewer"))
    return TextAreaField(label, filters=[strip], validators=validators, render_kw=render_kw)


class PageForm(FlaskForm):
    """Title, address, target and story. Set `page_id` when editing an existing page."""

    page_id: int | None = None
    target_pence: int | None = None

    title = StringField(
        "Title",
        filters=[strip],
        validators=[
            DataRequired("Give your page a title"),
            Length(max=120, message="Use 120 characters or fewer"),
        ],
    )
    slug = StringField(
        "Web address",
        filters=[_lower],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"},
    )
    target = StringField(
        "Your target, in pounds",
        filters=[strip],
        validators=[DataRequired("Enter your target, like 250")],
        render_kw={"inputmode": "decimal"},
    )
    story = _text("Your story", STORY_MAX, rows=10)
    share_message = TextAreaField(
        "The message that goes with your link",
        filters=[clean_message],
        validators=[
            Length(max=MESSAGE_MAX, message=f"Use {MESSAGE_MAX} characters or fewer"),
        ],
        render_kw={"rows": 2},
    )

    def validate_slug(self, field):
        """Free, readable and not a word the site keeps for itself."""
        problem = service.slug_problem(field.data or "", self.page_id)
        if problem:
            raise ValidationError(problem)

    def validate_target(self, field):
        """Pounds, between the smallest and largest sensible targets."""
        between = "Choose a target between {minimum} and {maximum}"
        self.target_pence = pence_from_pounds(
            field, MIN_TARGET_PENCE, MAX_TARGET_PENCE, too_small=between, too_large=between
        )


class _Prefixed(FlaskForm):
    """A form that shares its page with others: field names and ids carry a prefix."""

    default_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.default_prefix)
        super().__init__(*args, **kwargs)


class PhotoForm(_Prefixed):
    """A photo and a description of it for people who can't see it."""

    default_prefix = "photo"
    file = FileField(
        "Photo",
        validators=[FileRequired("Choose a photo to upload")],
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )
    alt = StringField(
        "Describe your photo",
        filters=[strip],
        validators=[
            DataRequired("Describe your photo in a few words, like 'Morag in a climbing helmet'"),
            Length(max=200, message="Use 200 characters or fewer"),
        ],
    )


class UpdateForm(_Prefixed):
    """A short update for sponsors."""

    default_prefix = "update"
    body = _text("Post an update", UPDATE_MAX, required="Write your update first", rows=3)


class ThankYouForm(FlaskForm):
    """A public reply under a donation; empty removes it. Prefix it with the donation."""

    reply = _text("Your reply", THANK_YOU_MAX, rows=2)


MODERATION_ACTIONS = ("hide", "unhide", "approve")


class ModerationForm(_Prefixed):
    """An organiser hides a page (saying why: the participant sees it), unhides or approves it."""

    default_prefix = "moderate"
    action = StringField(validators=[AnyOf(MODERATION_ACTIONS, message="Choose what to do")])
    reason = _text("Why is the page hidden? (The participant sees this.)", 500, rows=2)

    def validate_reason(self, field):
        """Hiding needs a reason the participant can act on."""
        if self.action.data == "hide" and not field.data:
            raise ValidationError("Say why the page is hidden")


MAX_CASH_PENCE = 1_000_000  # £10,000: more than that is worth a word with the organisers


class CashReportForm(_Prefixed):
    """Cash a participant collected for their page; it counts once an organiser confirms it."""

    default_prefix = "cash"
    amount_pence: int | None = None
    amount = StringField(
        "How much cash, in pounds?",
        filters=[strip],
        validators=[DataRequired("Enter the amount, like 45.50")],
        render_kw={"inputmode": "decimal"},
    )
    note = _text("Where is the money now? (For the organisers.)", 500, rows=2)

    def validate_amount(self, field):
        """Pounds and pence, more than nothing."""
        between = "Enter an amount between {minimum} and {maximum}"
        self.amount_pence = pence_from_pounds(
            field, 1, MAX_CASH_PENCE, too_small=between, too_large=between
        )
