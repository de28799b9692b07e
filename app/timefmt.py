"""Times are stored in UTC and shown in Europe/London."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def to_london(value: datetime) -> datetime:
    """A stored UTC time as the wall-clock time in the UK."""
    return value.astimezone(LONDON)


def format_datetime(value: datetime | None, fmt: str = "%A %-d %B %Y, %-I:%M%p") -> str:
    """Show a UTC time as UK local time, e.g. 'Saturday 13 March 2027, 10:00AM'."""
    if value is None:
        return ""
    text = to_london(value).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def parse_london(text: str) -> datetime:
    """Read 'YYYY-MM-DD HH:MM' as UK local time and return it in UTC."""
    local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    return local.astimezone(UTC)
