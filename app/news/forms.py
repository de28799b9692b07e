"""Posting news on the day."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms import strip
from app.models import NewsKind

NEWS_MAX = 500
KIND_LABELS = {NewsKind.NEWS.value: "News", NewsKind.SAFETY.value: "Safety news"}


class NewsForm(FlaskForm):
    """A short update, its kind, and an optional photo with its description."""

    body = TextAreaField(
        "What's happening?",
        filters=[strip],
        validators=[
            DataRequired("Write the news first"),
            Length(max=NEWS_MAX, message=f"Use {NEWS_MAX} characters or fewer"),
        ],
    )
    kind = RadioField(
        "Kind of news",
        choices=[SelectChoice(value, label) for value, label in KIND_LABELS.items()],
        default=NewsKind.NEWS.value,
        validate_choice=True,
    )
    photo = FileField(
        "Photo (optional)", render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"}
    )
    photo_alt = StringField(
        "Describe the photo",
        filters=[strip],
        description="For people who can't see it, like 'Aisha halfway down the tower'.",
        validators=[Length(max=200, message="Use 200 characters or fewer")],
    )

    def validate_kind(self, field):
        """Only the kinds offered (an instructor sees safety news alone)."""
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose the kind of news")

    def validate_photo_alt(self, field):
        """A photo needs words for people who can't see it."""
        if self.has_photo() and not field.data:
            raise ValidationError("Describe the photo in a few words")

    def has_photo(self) -> bool:
        """Whether a file was chosen."""
        data = self.photo.data
        return bool(data and getattr(data, "filename", ""))
