"""Checklist forms: one per kind of item for participants, and the organisers' forms.

Each participant form turns its fields into the answer stored (encrypted) with `answer()`, and
is filled back from a stored answer with `from_answer()`."""

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import strip as _strip
from app.models import CompletedBy, ItemKind
from app.safety.checklist import CONDITIONS
from app.safety.status import age_on

_PHONE = re.compile(r"\+?[0-9 ()-]{7,20}")
NOTE_MAX = 500


def _text(label, required, max_chars=100, **render_kw):
    return StringField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(required),
            Length(max=max_chars, message=f"Use {max_chars} characters or fewer"),
        ],
        render_kw=render_kw,
    )


def _phone(label):
    return _text(label, "Enter a phone number", 20, autocomplete="tel", inputmode="tel")


def _check_phone(field):
    if field.data and not (
        _PHONE.fullmatch(field.data) and sum(c.isdigit() for c in field.data) >= 7
    ):
        raise ValidationError("Enter a phone number, like 07700 900123 or +44 7700 900123")


def parse_date(value: str | None, what: str) -> date:
    """A date from an <input type=date> (YYYY-MM-DD), or a ValidationError saying what to do."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise ValidationError(f"Enter {what} as a real date, like 2001-03-27") from exc


class AnswerForm(FlaskForm):
    """Base for a participant's section: fields in, answer out."""

    def answer(self) -> dict:
        """The answer to store."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}

    def from_answer(self, data: dict) -> None:
        """Show a stored answer in the form."""
        for name, value in data.items():
            if name in self._fields:
                self._fields[name].data = value


class DateOfBirthForm(AnswerForm):
    """Date of birth: the age on the day decides who may take part and who needs a guardian."""

    date_of_birth = StringField(
        "Date of birth", filters=[_strip], render_kw={"autocomplete": "bday"}
    )

    def validate_date_of_birth(self, field):
        """A real date, in the past, and a believable one."""
        if not field.data:
            raise ValidationError("Enter your date of birth")
        born = parse_date(field.data, "your date of birth")
        if born >= date.today():
            raise ValidationError("Your date of birth must be in the past")
        if age_on(born, date.today()) > 110:
            raise ValidationError("Check the year of your date of birth")
        field.data = born.isoformat()


class EmergencyContactForm(AnswerForm):
    """Someone to phone on the day."""

    name = _text("Their name", "Enter your emergency contact's name", autocomplete="off")
    relationship = _text(
        "Their relationship to you", "Say how they know you, like 'mum' or 'partner'", 50
    )
    phone = _phone("Their phone number")

    def validate_phone(self, field):
        """Digits, spaces, brackets, a leading +."""
        _check_phone(field)


class MultiCheckboxField(SelectMultipleField):
    """Several tick boxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MedicalForm(AnswerForm):
    """Conditions that need medical advice, with explicit, separate consent to use them."""

    conditions = MultiCheckboxField(
        "Which of these apply to you now?",
        choices=[SelectChoice(k, v) for k, v in CONDITIONS.items()],
        validate_choice=False,
    )
    none_apply = BooleanField("None of these apply to me")
    details = TextAreaField(
        "Tell us more. What did a doctor or nurse tell you?",
        filters=[_strip],
        validators=[Length(max=1000, message="Use 1,000 characters or fewer")],
    )
    consent = BooleanField(
        "I consent to the organisers using this health information to keep me safe on the day"
    )

    def validate_conditions(self, field):
        """Either some conditions, or 'none of these', not both and not neither."""
        field.data = [c for c in field.data or [] if c in CONDITIONS]
        if field.data and self.none_apply.data:
            raise ValidationError("Tick the conditions that apply, or 'None of these', not both")
        if not field.data and not self.none_apply.data:
            raise ValidationError(
                "Tick each condition that applies, or 'None of these apply to me'"
            )

    def validate_details(self, field):
        """A condition needs a word about it."""
        if self.conditions.data and not field.data:
            raise ValidationError("Tell us a little about the condition and any medical advice")

    def validate_consent(self, field):
        """Health data is special category: consent must be explicit."""
        if not field.data:
            raise ValidationError("Tick to give your consent. Without it, you cannot take part")


class WeightForm(AnswerForm):
    """Within the weight limit, yes or no (the limit is kept with the answer)."""

    within_limit = RadioField(
        "Is your weight within the limit?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[InputRequired("Say whether your weight is within the limit")],
    )

    def answer(self) -> dict:
        """Yes or no, and the limit the question named."""
        return {"within_limit": self.within_limit.data == "yes"}

    def from_answer(self, data: dict) -> None:
        """Show a stored yes or no."""
        self.within_limit.data = "yes" if data.get("within_limit") else "no"


class ConfirmationForm(AnswerForm):
    """A tick to accept the item's wording (risks, terms, anything organisers add)."""

    agree = BooleanField("I have read this and I agree")

    def validate_agree(self, field):
        """Ticking is the whole point."""
        if not field.data:
            raise ValidationError("Tick the box to say you have read this and agree")


class GuardianForm(AnswerForm):
    """A parent or guardian's consent for an under-18: who, how to reach them, and signature."""

    name = _text("Parent or guardian's full name", "Enter the parent or guardian's full name")
    relationship = _text(
        "Relationship to the participant", "Say who they are, like 'mother' or 'guardian'", 50
    )
    phone = _phone("Parent or guardian's phone number")
    signature = _text(
        "Signature: the parent or guardian types their full name",
        "The parent or guardian must type their full name to sign",
        autocomplete="off",
    )
    signed_on = StringField("Date signed", filters=[_strip])

    def validate_phone(self, field):
        """Digits, spaces, brackets, a leading +."""
        _check_phone(field)

    def validate_signature(self, field):
        """Typing the same name as above is the signature."""
        typed = " ".join((field.data or "").lower().split())
        if typed and typed != " ".join((self.name.data or "").lower().split()):
            raise ValidationError("Type the same full name as above to sign")

    def validate_signed_on(self, field):
        """Today or a recent day, not the future."""
        if not field.data:
            raise ValidationError("Enter the date the parent or guardian signed")
        signed = parse_date(field.data, "the date signed")
        if signed > date.today():
            raise ValidationError("The date signed can't be in the future")
        if (date.today() - signed).days > 365:
            raise ValidationError("The consent must have been signed in the last year")
        field.data = signed.isoformat()


FORMS = {
    ItemKind.DATE_OF_BIRTH: DateOfBirthForm,
    ItemKind.EMERGENCY_CONTACT: EmergencyContactForm,
    ItemKind.MEDICAL: MedicalForm,
    ItemKind.WEIGHT: WeightForm,
    ItemKind.GUARDIAN: GuardianForm,
    ItemKind.CONFIRMATION: ConfirmationForm,
}


def section_form(item, answer=None, formdata=None) -> AnswerForm:
    """The form for one item, prefixed with its id so many can share a page."""
    kwargs = {"prefix": f"item-{item.id}"}
    if formdata is None:
        kwargs["formdata"] = None
    form = FORMS[item.kind](**kwargs)
    if formdata is None and answer is not None:
        form.from_answer(answer.data)
    return form


# Organisers ----------------------------------------------------------------------------------


class NoteForm(FlaskForm):
    """An optional note with a sign-off or revocation."""

    class Meta:
        csrf = False  # the app-wide CSRFProtect checks the token; the board has many of these

    note = StringField(
        "Note (optional)",
        filters=[_strip],
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters")],
    )


class SettingsForm(FlaskForm):
    """The minimum age, the weight limit, and when on-the-day items open on the day."""

    min_age = IntegerField(
        "Minimum age on the day",
        validators=[
            InputRequired("Enter the minimum age, like 16"),
            NumberRange(8, 99, "Enter an age between 8 and 99"),
        ],
    )
    weight_limit_kg = IntegerField(
        "Weight limit, in kilograms",
        validators=[
            InputRequired("Enter the weight limit, like 120"),
            NumberRange(40, 250, "Enter a limit between 40 and 250 kg"),
        ],
    )
    on_the_day_hours_before = IntegerField(
        "On-the-day items open this many hours before the start",
        description="Briefing, kit and harness are signed off from then until the end of the "
        "event day (UK time), and never before. Usually 2.",
        validators=[
            InputRequired("Enter a number of hours, like 2"),
            NumberRange(0, 24, "Enter a number of hours between 0 and 24"),
        ],
    )


class ItemForm(FlaskForm):
    """Add or edit an item: its words, whether it is required, who completes it."""

    label = _text("Name of the item", "Give the item a short name", 120)
    wording = TextAreaField(
        "What it says",
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message="Use 2,000 characters or fewer")],
    )
    completed_by = RadioField(
        "Who completes it?",
        choices=[
            SelectChoice(CompletedBy.PARTICIPANT.value, "The participant ticks to agree"),
            SelectChoice(CompletedBy.ORGANISER.value, "An organiser checks it"),
        ],
        default=CompletedBy.PARTICIPANT.value,
        validators=[InputRequired("Choose who completes it")],
    )
    required = BooleanField("Required before someone is cleared to take part", default=True)
    on_the_day = BooleanField("Checked on the day (instructors may sign it off)")
    ask_again = BooleanField("Ask everyone who has answered to answer the new wording")
