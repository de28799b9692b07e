"""What keeps every response safe: security headers, /.well-known/security.txt, the proxy
settings that tell the app who is really asking, and the URL and form rules that keep input no
database column can hold from ever reaching one. (Error answers: app/errors.py.)"""

import re
from datetime import timedelta

from flask import Blueprint, Flask, abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter

from app.models import utcnow

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# Features the site never uses; a page that someone manages to inject can't switch them on.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SECURITY_TXT_LIFETIME = timedelta(days=365)
# The largest id an INTEGER column holds (PostgreSQL; SQLite overflows past 2**63).
MAX_ID = 2**31 - 1
# C0 controls and DEL: nobody types them, and PostgreSQL refuses to store NUL at all.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

bp = Blueprint("security", __name__)


def checkout_origin() -> str:
    """Where donors pay: Stripe Checkout, or the local sandbox when there is no Stripe key."""
    if current_app.config["STRIPE_SECRET_KEY"]:
        return STRIPE_CHECKOUT_ORIGIN
    from app.payments import sandbox_url

    return sandbox_url()


def content_security_policy() -> str:
    """Only our own files, no inline script or style, no framing; forms post only to us and to
    the Stripe Checkout in use (browsers apply form-action to the redirect after a post too)."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {checkout_origin()}"
    )


def add_security_headers(response):
    """Headers every response carries (set only if a view has not chosen its own)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers older than frame-ancestors
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    max_age = current_app.config.get("HSTS_SECONDS", 0)
    if max_age:
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains")
    return response


def security_contact() -> str | None:
    """Who to tell about a vulnerability: SECURITY_CONTACT, else the event's contact email."""
    contact = current_app.config.get("SECURITY_CONTACT", "")
    if not contact:
        from app.events.service import get_event

        event = get_event()
        contact = event.contact_email if event else ""
    if not contact:
        return None
    return contact if contact.startswith(("mailto:", "https://")) else f"mailto:{contact}"


@bp.get("/.well-known/security.txt")
def security_txt():
    """RFC 9116: how to report a security problem, valid for a year from today."""
    contact = security_contact()
    if contact is None:
        abort(404)
    expires = (utcnow() + SECURITY_TXT_LIFETIME).replace(microsecond=0)
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: en",
        f"Canonical: {current_app.config['SITE_URL']}/.well-known/security.txt",
    ]
    return "\n".join(lines) + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


class IdConverter(IntegerConverter):
    """<int:...> in a URL, no bigger than a database id can be: a bigger number is not found
    (404) rather than an overflow in the database driver (500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


class TextConverter(UnicodeConverter):
    """A plain <name> in a URL, without control characters (a %00 in a slug is not found)."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = f"[^/{CONTROL_CHARACTERS}]" + self.regex.removeprefix("[^/]")


def register_converters(app: Flask) -> None:
    """Install the URL converters; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter


def refuse_control_characters():
    """Refuse (400) a query string or form holding control characters other than tab and
    newlines: they are never typed, and NUL makes PostgreSQL refuse the whole statement."""
    sources = [request.args]
    if request.mimetype in FORM_TYPES:
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            if _CONTROL.search(key) or _CONTROL.search(value):
                abort(400)


_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def trust_proxies(app: Flask) -> None:
    """Behind nginx or Caddy, believe TRUSTED_PROXIES hops of X-Forwarded-For and -Proto.

    Applied outermost (after every other WSGI layer), so all of them see the visitor's
    address and scheme; rate limits then count per visitor, not per proxy."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def init_app(app: Flask) -> None:
    """Add the headers, security.txt and the control-character check (proxies:
    `trust_proxies`; the 400 and 429 pages: app/errors.py)."""
    app.before_request(refuse_control_characters)
    app.after_request(add_security_headers)
    app.register_blueprint(bp)
