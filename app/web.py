"""What every page shares: template filters and the event in every template."""

from flask import Flask, g

from app.avatars import avatar_svg
from app.money import format_pence
from app.privacy.rules import retention_periods
from app.share import default_page_message, share_links
from app.timefmt import format_datetime


def current_event():
    """The event, loaded once per request and only if a template asks for it."""
    if "event" not in g:
        from app.events.service import get_event

        g.event = get_event()
    return g.event


def default_link_preview():
    """The event's link preview, for pages that have none of their own; none on a signed-in
    person's pages (an instructor's board, an organiser's list), which no link preview ever
    fetches (crawlers are never signed in) and which need not read the totals."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return None
    from app.events.service import event_progress
    from app.share import event_preview

    return event_preview(current_event(), event_progress())


def init_app(app: Flask) -> None:
    """Register the filters and the globals: the event, share links (errors: app/errors.py)."""
    app.jinja_env.filters["money"] = format_pence
    app.jinja_env.filters["london"] = format_datetime
    app.jinja_env.globals["current_event"] = current_event
    # The privacy notice states each retention period as the code applies it.
    app.jinja_env.globals["retention_periods"] = retention_periods
    app.jinja_env.globals["share_link_list"] = share_links
    app.jinja_env.globals["avatar_svg"] = avatar_svg
    app.jinja_env.globals["default_link_preview"] = default_link_preview
    app.jinja_env.globals["default_share_message"] = lambda name: default_page_message(
        name, current_event()
    )
