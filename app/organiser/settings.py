"""The event's settings page: every field of the event, saved through `configure_event`."""

from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional

from app import audit
from app.events.service import configure_event
from app.extensions import db
from app.forms import pence_from_pounds, strip
from app.models import Event
from app.numbers import whole_number
from app.timefmt import LONDON, to_london

MIN_DONATION_FLOOR = 100  # the database insists on at least £1
# £10 million: far beyond one event, and well inside the database's 32-bit integers.
MAX_SETTING_PENCE = 1_000_000_000
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
# Settings stored just as the form has them; times, money and numbers are parsed first.
PLAIN_FIELDS = (
    "name",
    "venue",
    "description",
    "where_money_goes",
    "above_target_text",
    "contact_email",
    "charity_name",
    "charity_number",
    "charity_is_scottish",
    "donations_open",
    "charity_pays_event_costs",
    "gift_aid_fills_target",
    "pages_need_approval",
    "organisers_need_second_factor",
    "nudge_first_donation",
    "nudge_halfway",
    "nudge_target_reached",
    "nudge_quiet_week",
    "instructors_post_safety_news",
)


def _lines(value):
    # Browsers send a textarea's line breaks as CRLF; store them as the CLI does, "\n".
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _text(label, maximum, required=None, area=False, **kwargs):
    validators = [DataRequired(required)] if required else [Optional()]
    validators.append(Length(max=maximum, message=f"Use {maximum:,} characters or fewer"))
    field = TextAreaField if area else StringField
    return field(label, filters=[strip, _lines], validators=validators, **kwargs)


def _uk_time(label, required: bool, description=""):
    return StringField(
        label,
        filters=[strip],
        description=description or "UK time, like 2027-04-17 10:00.",
        render_kw={"type": "datetime-local"},
        validators=[DataRequired("Enter a date and time")] if required else [Optional()],
    )


def parse_uk_time(text: str) -> datetime:
    """'2027-04-17T10:00' or '2027-04-17 10:00' in UK time, as UTC; ValueError otherwise."""
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LONDON).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _whole_number(field, maximum: int) -> int:
    number = whole_number((field.data or "").strip(), maximum=maximum)
    if number is None:
        raise ValidationError(f"Enter a whole number from 0 to {maximum:,}")
    return number


class EventSettingsForm(FlaskForm):
    """Every setting of the event. The parsed values land in `settings` once it validates."""

    name = _text("Event name", 120, "Enter the event's name")
    starts_at = _uk_time("Starts at", required=True)
    venue = _text("Venue", 200, "Enter the venue")
    description = _text("What is happening", 5000, area=True)
    where_money_goes = _text("Where the money goes", 5000, area=True)
    above_target_text = _text("What happens to money above the target", 2000, area=True)
    contact_email = EmailField(
        "Contact email for the organisers",
        filters=[strip],
        validators=[
            Optional(),
            Email("Enter an email address like name@example.com", check_deliverability=False),
            Length(max=254),
        ],
    )
    target = StringField("Target, in pounds", filters=[strip])
    charity_name = _text("Charity name", 160, "Enter the charity's name")
    charity_number = _text("Charity number", 20, "Enter the charity's number")
    charity_is_scottish = BooleanField("The charity is registered in Scotland (OSCR)")
    donations_open = BooleanField("Donations are open")
    closes_at = _uk_time(
        "Fundraising closes at (optional)",
        required=False,
        description="UK time. The progress bars show the final total after this.",
    )
    charity_pays_event_costs = BooleanField(
        "The charity pays some of the event's costs",
        description="Then participants and their families cannot add Gift Aid.",
    )
    gift_aid_fills_target = BooleanField("Gift Aid counts toward the target bar")
    fee_basis_points = StringField(
        "Card fee: percentage part, in hundredths of a per cent",
        filters=[strip],
        description="150 means 1.5%.",
    )
    fee_fixed_pence = StringField("Card fee: fixed part, in pence", filters=[strip])
    min_donation = StringField("Smallest donation, in pounds", filters=[strip])
    max_donation = StringField("Largest donation, in pounds", filters=[strip])
    pages_need_approval = BooleanField("Sponsor pages wait for an organiser's approval")
    organisers_need_second_factor = BooleanField(
        "Organisers must use a second factor to log in",
        description="An app on their phone that gives a 6-digit code. An organiser without "
        "one is asked to set it up before anything else.",
    )

    nudge_first_donation = BooleanField("Email a participant when their first donation comes in")
    nudge_halfway = BooleanField("Email a participant when they are halfway to their target")
    nudge_target_reached = BooleanField("Email a participant when they reach their target")
    nudge_quiet_week = BooleanField(
        "Email a participant after a week with no new donation before the event",
        description="With their page's share links and a message ready to send. Participants "
        "can also turn each of these off for themselves.",
    )
    instructors_post_safety_news = BooleanField(
        "Instructors may post safety news to the event page on the day"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings: dict = {}

    @classmethod
    def for_event(cls, event: Event) -> "EventSettingsForm":
        """The form filled in with the event as it is."""

        def local(value):
            return to_london(value).strftime("%Y-%m-%dT%H:%M") if value else ""

        # Given as data, not obj=event: WTForms prefers obj's raw values over keywords.
        return cls(
            formdata=None,
            **{name: getattr(event, name) for name in PLAIN_FIELDS},
            starts_at=local(event.starts_at),
            closes_at=local(event.closes_at),
            target=_pounds_text(event.target_pence),
            fee_basis_points=str(event.fee_basis_points),
            fee_fixed_pence=str(event.fee_fixed_pence),
            min_donation=_pounds_text(event.min_donation_pence),
            max_donation=_pounds_text(event.max_donation_pence),
        )

    def _time(self, field, key):
        if not field.data:
            self.settings[key] = None
            return
        try:
            self.settings[key] = parse_uk_time(field.data)
        except ValueError:
            raise ValidationError("Enter a date and time like 2027-04-17 10:00") from None

    def validate_starts_at(self, field):
        """A UK date and time."""
        self._time(field, "starts_at")

    def validate_closes_at(self, field):
        """A UK date and time, or nothing."""
        self._time(field, "closes_at")

    def _money(self, field, key, minimum, maximum=MAX_SETTING_PENCE):
        self.settings[key] = pence_from_pounds(
            field,
            minimum,
            maximum,
            too_small="Enter at least {minimum}",
            too_large="Enter no more than {maximum}",
        )

    def validate_target(self, field):
        """Pounds, more than nothing."""
        self._money(field, "target_pence", 100)

    def validate_min_donation(self, field):
        """At least £1."""
        self._money(field, "min_donation_pence", MIN_DONATION_FLOOR)

    def validate_max_donation(self, field):
        """At least the smallest donation."""
        self._money(field, "max_donation_pence", MIN_DONATION_FLOOR)
        smallest = self.settings.get("min_donation_pence")
        if smallest and self.settings["max_donation_pence"] < smallest:
            raise ValidationError("The largest donation can't be less than the smallest")

    def validate_fee_basis_points(self, field):
        """0 to 10% (1,000 hundredths of a per cent)."""
        self.settings["fee_basis_points"] = _whole_number(field, 1000)

    def validate_fee_fixed_pence(self, field):
        """0 to £1."""
        self.settings["fee_fixed_pence"] = _whole_number(field, 100)

    def all_settings(self) -> dict:
        """Every setting, parsed, ready for `configure_event`."""
        values = {name: getattr(self, name).data for name in PLAIN_FIELDS}
        for name in ("description", "where_money_goes", "above_target_text", "contact_email"):
            values[name] = values[name] or ""
        return {**values, **self.settings}


def _pounds_text(pence: int) -> str:
    return f"{pence / 100:.2f}".removesuffix(".00")


def save_settings(event: Event, settings: dict) -> list[str]:
    """Save what changed through `configure_event` (which refreshes every progress bar), with
    one history entry naming the changed settings; returns their names."""
    changed = {name: value for name, value in settings.items() if getattr(event, name) != value}
    if not changed:
        return []
    configure_event(commit=False, **changed)
    audit.record("event.settings", detail=", ".join(sorted(changed)))
    db.session.commit()
    return sorted(changed)
