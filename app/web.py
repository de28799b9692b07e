"""What every page shares: template filters, the event in every template, error pages."""

from flask import Flask, g, render_template

from app.money import format_pence
from app.timefmt import format_datetime


def current_event():
    """The event, loaded once per request and only if a template asks for it."""
    if "event" not in g:
        from app.events.service import get_event

        g.event = get_event()
    return g.event


def init_app(app: Flask) -> None:
    """Register filters, the context processor and error pages (headers: app/security.py)."""
    app.jinja_env.filters["money"] = format_pence
    app.jinja_env.filters["london"] = format_datetime
    app.jinja_env.globals["current_event"] = current_event

    @app.errorhandler(404)
    def _not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def _method_not_allowed(_error):
        return render_template("errors/405.html"), 405

    @app.errorhandler(500)
    def _server_error(_error):
        return render_template("errors/500.html"), 500
