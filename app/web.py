"""What every page shares: template filters, the event in every template, headers, error pages."""

from flask import Flask, g, render_template, request

from app.money import format_pence
from app.timefmt import format_datetime

# Strict by default; issue-by-issue we only ever add origins we use (Stripe Checkout's redirect).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self' https://checkout.stripe.com http://127.0.0.1:*"
)


def current_event():
    """The event, loaded once per request and only if a template asks for it."""
    if "event" not in g:
        from app.events.service import get_event

        g.event = get_event()
    return g.event


def init_app(app: Flask) -> None:
    """Register filters, the context processor, security headers and error pages."""
    app.jinja_env.filters["money"] = format_pence
    app.jinja_env.filters["london"] = format_datetime
    app.jinja_env.globals["current_event"] = current_event

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.errorhandler(403)
    def _forbidden(_error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def _not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def _method_not_allowed(_error):
        return render_template("errors/405.html"), 405

    @app.errorhandler(500)
    def _server_error(_error):
        return render_template("errors/500.html"), 500
