"""Planning forms. Every message says what to do, in short plain words."""

from datetime import date, datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import strip
from app.models import Stance
from app.numbers import whole_number

MAX_TITLE = 120
MAX_TEXT = 5000
MAX_SHORT_TEXT = 2000
MAX_GROUP_NAME = 80
MAX_GROUP_ABOUT = 300


def _lines(value):
    # Browsers send a textarea's line breaks as CRLF; store "\n".
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _text(label, maximum, required=None, area=False, **kwargs):
    validators = [DataRequired(required)] if required else [Optional()]
    validators.append(
        Length(max=maximum, message=f"This is too long. Use {maximum:,} letters or fewer.")
    )
    kind = TextAreaField if area else StringField
    return kind(label, filters=[strip, _lines], validators=validators, **kwargs)


class ProposeForm(FlaskForm):
    """A decision to put to every group."""

    title = _text("What do we need to decide?", MAX_TITLE, "Write what we need to decide.")
    details = _text(
        "Why does it matter?",
        MAX_TEXT,
        "Write why it matters.",
        area=True,
        description="Say what it is about. Say why we need to decide.",
    )
    options = _text(
        "What could we do? (you can leave this empty)",
        MAX_SHORT_TEXT,
        area=True,
        description="Put each idea on its own line.",
    )
    decide_by = StringField(
        "When do we need to decide by? (you can leave this empty)",
        filters=[strip],
        render_kw={"type": "date"},
        description="For example 17/04/2027.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decide_by_date: date | None = None

    def validate_decide_by(self, field):
        """Empty, or a real date: 2027-04-17 from a date picker, or 17/04/2027 typed."""
        if not field.data:
            return
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                self.decide_by_date = datetime.strptime(field.data, fmt).date()
                return
            except ValueError:
                continue
        raise ValidationError("Write a date, like 17/04/2027.")


class AloneForm(FlaskForm):
    """A decision one person took without asking the groups first."""

    title = _text("What was it about?", MAX_TITLE, "Write what it was about.")
    decided = _text("What did you decide?", MAX_TEXT, "Write what you decided.", area=True)
    why = _text(
        "Why did you decide this?", MAX_SHORT_TEXT, "Write why you decided this.", area=True
    )
    alone_reason = _text(
        "Why could you not ask the groups first?",
        MAX_SHORT_TEXT,
        "Write why you could not ask the groups first.",
        area=True,
        description="For example: there was no time.",
    )
    publish = BooleanField("Show this on the public page 'How we organised this'")


STANCES = [
    SelectChoice(Stance.AGREE.value, "I agree"),
    SelectChoice(Stance.CONCERNS.value, "I am worried about it"),
    SelectChoice(Stance.COMMENT.value, "I want to say something else"),
]


class SayForm(FlaskForm):
    """What someone thinks."""

    stance = RadioField(
        "What do you think?",
        choices=STANCES,
        validators=[InputRequired("Choose what you think.")],
    )
    comment = _text("Your words (you can leave this empty if you agree)", MAX_SHORT_TEXT, area=True)

    def validate(self, extra_validators=None) -> bool:
        """As usual; and a worry or a comment needs words."""
        valid = super().validate(extra_validators)
        wants_words = self.stance.data in (Stance.CONCERNS.value, Stance.COMMENT.value)
        if valid and wants_words and not self.comment.data:
            self.comment.errors = [*self.comment.errors, "Write what you want to say."]
            return False
        return valid


class CloseForm(FlaskForm):
    """What was decided, and why."""

    decided = _text("What did we decide?", MAX_TEXT, "Write what we decided.", area=True)
    why = _text("Why?", MAX_SHORT_TEXT, "Write why.", area=True)
    publish = BooleanField("Show this on the public page 'How we organised this'")


class GroupForm(FlaskForm):
    """A group of the organising group."""

    name = _text("Name of the group", MAX_GROUP_NAME, "Write the group's name.")
    about = _text("Who is in it? (you can leave this empty)", MAX_GROUP_ABOUT)
    retired = BooleanField("Stop asking this group about new decisions")


def _group_id(value) -> int:
    number = value if isinstance(value, int) else whole_number(value, minimum=1)
    if number is None:
        raise ValueError("not a group")
    return number


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        """Unknown group ids are ignored, not an error (a group may have been retired)."""


class MemberForm(FlaskForm):
    """The groups someone is in."""

    groups = _Checkboxes("Groups", coerce=_group_id)


class InvitePlannerForm(FlaskForm):
    """Someone to invite to plan (no donors, money or health data)."""

    name = _text("Their name", 100, "Write their name.")
    email = EmailField(
        "Their email address",
        filters=[strip],
        validators=[
            DataRequired("Write their email address."),
            Email("Write an email address like name@example.com.", check_deliverability=False),
            Length(max=254, message="This is too long."),
        ],
    )
    groups = _Checkboxes("Their groups", coerce=_group_id)
