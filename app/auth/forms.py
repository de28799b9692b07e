"""Account forms. Messages say what to do, next to the field they are about."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from app.auth.service import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalise_email
from app.forms import strip as _strip

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


def _email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        filters=[normalise_email],
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email addresses are at most 254 characters long"),
            Email(EMAIL_FORMAT),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Choose a password"),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=f"Your password must be at least {MIN_PASSWORD_LENGTH} characters long",
            ),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=f"Your password must be at most {MAX_PASSWORD_LENGTH} characters long",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SignupForm(FlaskForm):
    """Name, email and password for a new participant."""

    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Enter your name"),
            Length(max=100, message="Your name must be 100 characters or fewer"),
        ],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field()
    password = _new_password_field()


class LoginForm(FlaskForm):
    """Email and password. No format check: a wrong address simply does not log in."""

    email = EmailField(
        "Email address",
        filters=[normalise_email],
        validators=[DataRequired("Enter your email address")],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password")],
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(FlaskForm):
    """The address to send a password reset link to."""

    email = _email_field()


class NewPasswordForm(FlaskForm):
    """A new password, chosen from a reset link."""

    password = _new_password_field("New password")


class ConfirmForm(FlaskForm):
    """A button (and its CSRF token): links in emails only show a page; the POST acts."""


def _code_field(label: str, hint: str, numeric: bool) -> StringField:
    kw = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}
    if numeric:
        kw["inputmode"] = "numeric"
    return StringField(
        label,
        description=hint,
        filters=[_strip],
        validators=[
            DataRequired(f"Enter the {label[0].lower()}{label[1:]}"),
            Length(max=40, message="That is too long to be a code"),
        ],
        render_kw=kw,
    )


class CodeForm(FlaskForm):
    """The 6-digit code from the organiser's authenticator app."""

    code = _code_field(
        "Code from your authenticator app",
        "The 6 digits the app shows for this site now, like 123456.",
        numeric=True,
    )


class RecoveryCodeForm(FlaskForm):
    """One of the ten recovery codes, for a lost phone."""

    recovery_code = _code_field(
        "Recovery code",
        "One of the codes you saved when you set up the app, like abcd-efgh-jkmn.",
        numeric=False,
    )


class ConfirmPasswordForm(FlaskForm):
    """The password again, before health answers, exports or changes to organisers."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password")],
        render_kw={"autocomplete": "current-password"},
    )
