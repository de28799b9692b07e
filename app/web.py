"""What every page shares: template filters and the event in every template."""

from flask import Flask, g

from app.money import format_pence
from app.privacy.rules import retention_periods
from app.timefmt import format_datetime


def current_event():
    """The event, loaded once per request and only if a template asks for it."""
    if "event" not in g:
        from app.events.service import get_event

        g.event = get_event()
    return g.event


def init_app(app: Flask) -> None:
    """Register the filters and the event global (errors: app/errors.py)."""
    app.jinja_env.filters["money"] = format_pence
    app.jinja_env.filters["london"] = format_datetime
    app.jinja_env.globals["current_event"] = current_event
    # The privacy notice states each retention period as the code applies it.
    app.jinja_env.globals["retention_periods"] = retention_periods
