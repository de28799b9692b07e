"""The forms of the message after the event: the draft, and the confirmation to send it."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import strip
from app.organiser.after_event import ALT_MAX, BODY_MAX, SUBJECT_MAX


class AfterEventForm(FlaskForm):
    """What the organiser writes: a subject, the message, an optional photo."""

    subject = StringField(
        "Subject",
        filters=[strip],
        validators=[
            DataRequired("Enter a subject, like 'We did it: how the abseil went'"),
            Length(max=SUBJECT_MAX, message=f"Keep the subject to {SUBJECT_MAX} characters"),
        ],
    )
    body = TextAreaField(
        "Your message",
        filters=[strip],
        description=(
            "What the day was like and what the money will do. The total raised, with Gift "
            "Aid, is added below it for you. Plain text: anything that looks like HTML is "
            "shown as typed."
        ),
        validators=[
            DataRequired("Write your message"),
            Length(max=BODY_MAX, message=f"Keep the message to {BODY_MAX} characters"),
        ],
    )
    photo = FileField("A photo (optional)")
    photo_alt = StringField(
        "Describe the photo",
        filters=[strip],
        description="For people who can't see it, like 'Aisha halfway down the tower'.",
        validators=[Length(max=ALT_MAX, message=f"Keep the description to {ALT_MAX} characters")],
    )
    remove_photo = BooleanField("Take the photo off")

    def __init__(self, *args, has_photo: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_photo = has_photo

    def upload(self):
        """The uploaded file, or None when no photo was chosen."""
        data = self.photo.data
        return data if data is not None and getattr(data, "filename", "") else None

    def validate_photo_alt(self, field):
        """A photo needs its description."""
        keeps_photo = self.upload() is not None or (self.has_photo and not self.remove_photo.data)
        if keeps_photo and not field.data:
            raise ValidationError("Describe the photo in a few words")


class SendForm(FlaskForm):
    """The last step: the organiser says they have checked it."""

    checked = BooleanField(
        "I have read the preview and sent myself a test",
        validators=[DataRequired("Tick to say you have checked the preview")],
    )
