"""The hosted checkout page at a session's `url`: a plain HTML form, marked TEST MODE.

It works without JavaScript: the card form POSTs back here, a 3-D Secure card gets a challenge
page, and success answers 303 to the session's `success_url`.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from . import payments
from .api import current
from .cards import ERROR_PARAMS, check_entry
from .errors import StripeError

bp = Blueprint("checkout_page", __name__, template_folder="templates")

FIELDS = ("card_number", "expiry", "cvc", "name", "email")
# TEST MODE's yellow and black, so the tab says "sandbox" as loudly as the page does.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#ffdd00" stroke="#0b0c0c" stroke-width="4"/>'
    '<path d="M9 10h14M16 10v14" stroke="#0b0c0c" stroke-width="4"/></svg>'
)
# A card error's Stripe `param` -> the form field it is about.
PARAM_FIELDS = {"number": "card_number", "exp_month": "expiry", "cvc": "cvc"}


def _session(session_id: str) -> dict:
    try:
        return current().store.get(session_id, "checkout.session")
    except StripeError:
        abort(404)


def _render(session: dict, *, values=None, errors=None, decline=None, status=200):
    store = current().store
    line_items = store.private[session["id"]]["line_items"]
    values = values or {"email": session["customer_email"] or ""}
    return (
        render_template(
            "sandbox/checkout.html",
            session=session,
            line_items=line_items,
            amount=_pounds(session["amount_total"]),
            values=values,
            errors=errors or {},
            decline=decline,
            email_locked=bool(session["customer_email"]),
            fields=FIELDS,
        ),
        status,
    )


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def _success(session: dict):
    return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]), 303)


def _closed(session: dict):
    status = 200 if session["status"] == "complete" else 410
    return render_template("sandbox/closed.html", session=session), status


@bp.get("/checkout/<session_id>")
def show(session_id):
    """The card form for an open session; a short notice once it is paid or expired."""
    session = _session(session_id)
    if session["status"] != "open":
        return _closed(session)
    return _render(session)


@bp.post("/checkout/<session_id>")
def submit(session_id):
    """Check the card form, then pay: success, decline (shown on the form) or 3-D Secure."""
    store = current().store
    with store.lock:
        session = _session(session_id)
        if session["status"] != "open":
            return _closed(session)
        values = {field: request.form.get(field, "") for field in FIELDS}
        if session["customer_email"]:
            values["email"] = session["customer_email"]
        entry, errors = check_entry(values)
        values["cvc"] = ""
        if entry is None:
            return _render(session, values=values, errors=errors, status=422)
        attempt = payments.pay(store, session_id, entry)
        return _after(session, attempt, values)


def _after(session: dict, attempt: payments.Attempt, values: dict):
    if attempt.status == "paid":
        return _success(session)
    if attempt.status == "requires_action":
        return redirect(url_for(".challenge", session_id=session["id"]), 303)
    error = attempt.error or {}
    field = PARAM_FIELDS.get(ERROR_PARAMS.get(error.get("code", ""), ""))
    errors = {field: error["message"]} if field else {}
    return _render(session, values=values, errors=errors, decline=error["message"], status=402)


@bp.get("/checkout/<session_id>/authenticate")
def challenge(session_id):
    """The 3-D Secure challenge: the donor completes or fails authentication."""
    session = _session(session_id)
    entry = payments.pending_authentication(current().store, session_id)
    if session["status"] != "open" or entry is None:
        return redirect(url_for(".show", session_id=session_id), 303)
    return render_template(
        "sandbox/authenticate.html",
        session=session,
        amount=_pounds(session["amount_total"]),
        last4=entry.card.last4,
    )


@bp.post("/checkout/<session_id>/authenticate")
def authenticate(session_id):
    """Complete or fail the challenge, then carry on as Stripe would."""
    store = current().store
    with store.lock:
        session = _session(session_id)
        entry = payments.pending_authentication(store, session_id)
        if session["status"] != "open" or entry is None:
            return redirect(url_for(".show", session_id=session_id), 303)
        passed = request.form.get("outcome") == "complete"
        attempt = payments.authenticate(store, session_id, passed=passed)
        values = {"card_number": entry.card.number, "name": entry.name, "email": entry.email}
        values["expiry"] = f"{entry.exp_month:02d} / {entry.exp_year % 100:02d}"
        return _after(session, attempt, values)


@bp.get("/favicon.ico")  # browsers ask here whatever a page declares
@bp.get("/favicon.svg")  # registered first, so url_for gives this address
def favicon():
    """The hosted page's tab icon."""
    return FAVICON, 200, {"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"}
