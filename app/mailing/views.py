"""The public unsubscribe page: no log-in, honoured at once, one click from a mail client."""

from flask import Blueprint, render_template, request

from app.extensions import csrf, db, limiter
from app.mailing import consent
from app.mailing.links import read_unsubscribe_token

bp = Blueprint("mailing", __name__, url_prefix="/mailing")

# RFC 8058: the mail client POSTs exactly this body, with no cookies and no CSRF token.
ONE_CLICK = "List-Unsubscribe=One-Click"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # for the RFC 8058 POST only: any other POST is checked below
@limiter.limit("30 per minute", methods=["POST"])
def unsubscribe(token: str):
    """GET: which emails the link stops, and a button. POST: stop them now."""
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click:
        csrf.protect()
    found = read_unsubscribe_token(token)
    if found is None:
        return render_template("mailing/unsubscribe.html", broken=True), 404
    address, kind = found
    if request.method == "GET":
        return _page(address, kind)
    scope = consent.ALL if request.form.get("scope") == consent.ALL else kind
    _unsubscribe(address, scope, source="one-click" if one_click else "unsubscribe link")
    if one_click:
        return "Unsubscribed.\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return _page(address, kind, done=scope)


def _unsubscribe(address: str, scope: str, source: str) -> None:
    version = (
        consent.UNSUBSCRIBE_ALL_VERSION if scope == consent.ALL else consent.UNSUBSCRIBE_VERSION
    )
    consent.record(address, scope, False, wording_version=version, source=source)
    db.session.commit()


def _page(address: str, kind: str, done: str | None = None):
    label = (
        "every email that is not a receipt" if kind == consent.ALL else consent.KINDS[kind].label
    )
    return render_template(
        "mailing/unsubscribe.html",
        broken=False,
        masked=mask(address),
        label=label,
        kind=kind,
        done=done,
        all_kinds=consent.ALL,
        still_subscribed=kind != consent.ALL and consent.may_email(address, kind),
    )


def mask(address: str) -> str:
    """An address as the page shows it, so a forwarded link does not reveal it whole:
    'fiona@example.org' -> 'f••••@example.org'."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * min(max(len(local) - 1, 1), 8)}@{domain}"
