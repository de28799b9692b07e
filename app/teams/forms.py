"""Team forms: the team itself, its photo, joining, and organisers' hide and merge."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms import pence_from_pounds, strip
from app.models import JoinApproval
from app.pages.forms import MAX_TARGET_PENCE, MIN_TARGET_PENCE, STORY_MAX, PhotoForm, _text

APPROVAL_CHOICES = [
    SelectChoice(JoinApproval.OPEN.value, "Anyone taking part may join"),
    SelectChoice(JoinApproval.CAPTAIN.value, "The team's captain lets people in"),
    SelectChoice(JoinApproval.ORGANISER.value, "An organiser lets people in"),
]


class TeamForm(FlaskForm):
    """Name, story, target and who lets new members in."""

    target_pence: int | None = None

    name = StringField(
        "Team name",
        filters=[strip],
        validators=[
            DataRequired("Give your team a name"),
            Length(max=120, message="Use 120 characters or fewer"),
        ],
    )
    target = StringField(
        "The team's target, in pounds",
        filters=[strip],
        validators=[DataRequired("Enter the team's target, like 1000")],
        render_kw={"inputmode": "decimal"},
    )
    story = _text("The team's story", STORY_MAX, rows=8)
    join_approval = SelectField(
        "Who can join",
        choices=APPROVAL_CHOICES,
        default=JoinApproval.OPEN.value,
        validate_choice=False,
    )

    def validate_target(self, field):
        """Pounds, between the smallest and largest sensible targets."""
        between = "Choose a target between {minimum} and {maximum}"
        self.target_pence = pence_from_pounds(
            field, MIN_TARGET_PENCE, MAX_TARGET_PENCE, too_small=between, too_large=between
        )

    def validate_join_approval(self, field):
        """One of the three choices."""
        if field.data not in {choice.value for choice in APPROVAL_CHOICES}:
            raise ValidationError("Choose who can join")


class TeamPhotoForm(PhotoForm):
    """A photo of the team and a description of it."""


class MergeForm(FlaskForm):
    """An organiser folds this team into another."""

    into = StringField(
        "Merge into the team at address",
        filters=[strip],
        validators=[DataRequired("Choose the team to merge into")],
    )
