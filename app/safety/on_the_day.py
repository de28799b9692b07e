"""When the on-the-day items (briefing, kit, harness) may be signed off: on the event day only,
from a number of hours before the start (the organisers' setting) until the end of that day,
UK time. Signed off months ahead, a sign-off would say nothing about the day."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.events.service import get_event
from app.models import utcnow
from app.safety import checklist
from app.timefmt import LONDON, format_datetime, to_london

NO_EVENT = "The event has no date yet, so on-the-day items can't be signed off."


@dataclass(frozen=True)
class Window:
    """The time, in UTC, during which on-the-day items may be signed off."""

    opens: datetime
    closes: datetime

    def refusal(self, now: datetime | None = None) -> str | None:
        """Why they can't be signed off at `now` (default: now), in words; None if they can."""
        now = now or utcnow()
        day = format_datetime(self.closes - timedelta(seconds=1), "%A %-d %B %Y")
        if now < self.opens:
            return (
                "On-the-day items are signed off on the day only: from "
                f"{format_datetime(self.opens, '%-I:%M%p on %A %-d %B %Y')} until the end "
                "of that day."
            )
        if now >= self.closes:
            return f"The event day is over: on-the-day items could be signed off on {day}."
        return None


def window() -> Window | None:
    """The event day's window, or None before the event has a date."""
    event = get_event()
    if event is None:
        return None
    hours = checklist.settings().on_the_day_hours_before
    day = to_london(event.starts_at).date()
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=LONDON)
    return Window(event.starts_at - timedelta(hours=hours), midnight.astimezone(UTC))


def refusal(now: datetime | None = None) -> str | None:
    """Why on-the-day items can't be signed off now, in words; None while they can."""
    found = window()
    return NO_EVENT if found is None else found.refusal(now)
