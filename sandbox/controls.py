"""Test controls under `/_sandbox/...` (JSON, no auth): Stripe has no such API.

They let tests see and disturb webhook delivery (held, late, repeated), pay without a
browser, settle refunds, move disputes on, lose replies, move or set the clock and start
again from nothing.
"""

from __future__ import annotations

from flask import Blueprint, request

from . import payments
from .api import current, json_response
from .cards import entry_for
from .errors import StripeError

bp = Blueprint("sandbox_controls", __name__, url_prefix="/_sandbox")


@bp.errorhandler(StripeError)
def control_error(error: StripeError):
    """Errors in Stripe's shape here too, so tests read them one way."""
    return json_response(error.to_dict(), error.status)


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _number(body: dict, key: str, default, kind=float):
    try:
        return kind(body.get(key, default))
    except (TypeError, ValueError) as exc:
        raise StripeError(f"{key} must be a number", param=key) from exc


@bp.get("/events")
def events():
    """Every event, oldest first, with its deliveries and their attempts."""
    return json_response({"data": current().event_report()})


@bp.get("/webhooks/log")
def webhook_log():
    """Every delivery attempt in the order it was made."""
    return json_response({"data": current().dispatcher.attempt_log()})


@bp.get("/requests")
def api_requests():
    """Every /v1 request and its answer, for checking against Stripe's OpenAPI schemas."""
    return json_response({"data": list(current().requests)})


@bp.post("/events/<event_id>/redeliver")
def redeliver(event_id):
    """Deliver an event again: `{"times": 1, "delay": 0}`."""
    body = _body()
    event = current().store.get(event_id, "event")
    times = _number(body, "times", 1, int)
    extra = current().dispatcher.redeliver(event, times, _number(body, "delay", 0.0))
    return json_response({"data": [d.to_dict() for d in extra]})


@bp.post("/webhooks/hold")
def hold():
    """Keep new deliveries back until released."""
    current().dispatcher.hold()
    return json_response({"holding": True})


@bp.post("/webhooks/release")
def release():
    """Send held deliveries: `{"order": "fifo" | "reversed" | ["evt_...", ...]}`."""
    order = _body().get("order", "fifo")
    if not (order in ("fifo", "reversed") or isinstance(order, list)):
        raise StripeError("order must be fifo, reversed or a list of event ids", param="order")
    released = current().dispatcher.release(order)
    return json_response({"data": [d.to_dict() for d in released]})


@bp.post("/webhooks/delay")
def delay():
    """Delay the next events' delivery: `{"seconds": 5, "type": "checkout.*", "count": 1}`."""
    body = _body()
    rule = current().dispatcher.delay_next(
        _number(body, "seconds", 1.0), body.get("type", "*"), _number(body, "count", 1, int)
    )
    return json_response(rule)


@bp.post("/webhooks/config")
def configure():
    """Point webhooks at an endpoint: `{"url": "...", "secret": "whsec_..."}`."""
    body = _body()
    dispatcher = current().dispatcher
    dispatcher.configure(body.get("url", dispatcher.url), body.get("secret", dispatcher.secret))
    return json_response({"url": dispatcher.url})


@bp.get("/webhooks/idle")
def idle():
    """Wait (up to `?timeout=` seconds) until no delivery is queued or in flight."""
    timeout = _number(request.args, "timeout", 10.0)
    return json_response({"idle": current().dispatcher.wait_idle(timeout)})


@bp.post("/checkout/sessions/<session_id>/pay")
def pay(session_id):
    """Pay a session without the browser: `{"card": "4242...", "authenticate": "complete"}`.

    `async: true` leaves the payment processing (payment_status unpaid) until `/settle`.
    """
    body = _body()
    entry = entry_for(
        str(body.get("card", "4242424242424242")),
        name=body.get("name", "Test Donor"),
        email=body.get("email") or _session_email(session_id),
    )
    if entry is None:
        raise StripeError("Your card number is incorrect.", param="card", code="incorrect_number")
    store = current().store
    with store.lock:
        attempt = payments.pay(store, session_id, entry, async_payment=bool(body.get("async")))
        if attempt.status == "requires_action" and body.get("authenticate"):
            passed = body["authenticate"] == "complete"
            attempt = payments.authenticate(store, session_id, passed=passed)
        session = store.get(session_id, "checkout.session")
        return json_response({"status": attempt.status, "error": attempt.error, "session": session})


def _session_email(session_id: str) -> str:
    session = current().store.get(session_id, "checkout.session")
    return session["customer_email"] or "donor@example.org"


@bp.post("/checkout/sessions/<session_id>/settle")
def settle(session_id):
    """End an async payment: `{"outcome": "succeeded" | "failed"}`."""
    outcome = _body().get("outcome", "succeeded")
    if outcome not in ("succeeded", "failed"):
        raise StripeError("outcome must be succeeded or failed", param="outcome")
    store = current().store
    with store.lock:
        session = payments.settle(store, session_id, succeeded=outcome == "succeeded")
        return json_response(session)


@bp.post("/disputes")
def open_dispute():
    """Open a dispute: `{"charge": "ch_..." | "payment_intent": "pi_...", "reason", "amount"}`."""
    body = _body()
    target = body.get("charge") or body.get("payment_intent")
    if not target:
        raise StripeError("Give a charge or payment_intent to dispute.", param="charge")
    dispute = current().open_dispute(
        target, reason=body.get("reason", "fraudulent"), amount=body.get("amount")
    )
    return json_response(dispute)


@bp.post("/disputes/<dispute_id>/status")
def move_dispute(dispute_id):
    """Move a dispute on: `{"status": "under_review" | "warning_under_review" | ...}`.

    `needs_response` escalates an inquiry to a chargeback, withdrawing the funds.
    """
    return json_response(current().move_dispute(dispute_id, str(_body().get("status"))))


@bp.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id):
    """Close a dispute: `{"outcome": "won" | "lost" | "prevented" | "warning_closed"}`."""
    return json_response(current().close_dispute(dispute_id, _body().get("outcome", "won")))


@bp.post("/refunds/<refund_id>/settle")
def settle_refund(refund_id):
    """Give a refund its later status now: `{"outcome": "succeeded" | "failed" | "canceled"}`."""
    return json_response(current().settle_refund(refund_id, _body().get("outcome", "succeeded")))


@bp.post("/faults/lose-replies")
def lose_replies():
    """Lose the replies to the next matching requests: `{"method", "path", "count"}`."""
    body = _body()
    if not body.get("path"):
        raise StripeError("Give the path whose replies to lose.", param="path")
    rule = current().faults.lose_replies(
        str(body["path"]), _number(body, "count", 1, int), str(body.get("method", "POST"))
    )
    return json_response(rule)


@bp.post("/faults/refuse-refunds")
def refuse_refunds():
    """Refuse the next refund creations: `{"count": 1, "message": "...", "code": "..."}`."""
    body = _body()
    rule = current().faults.refuse_refunds(
        _number(body, "count", 1, int), body.get("message"), body.get("code")
    )
    return json_response(rule)


@bp.post("/webhooks/late")
def late_webhooks():
    """Send the next events late by sandbox time: `{"type", "count", "seconds": 259200}`."""
    body = _body()
    rule = current().dispatcher.late_next(
        _number(body, "seconds", 3 * 24 * 3600, int),
        body.get("type", "*"),
        _number(body, "count", 1, int),
    )
    return json_response(rule)


@bp.get("/objects/<object_id>")
def lookup(object_id):
    """Any object by id (sessions, intents, charges, refunds, disputes, events)."""
    with current().store.lock:
        return json_response(payments.lookup(current().store, object_id))


@bp.get("/clock")
def clock():
    """The sandbox's time."""
    return json_response({"now": current().store.now()})


@bp.post("/clock/advance")
def advance_clock():
    """Move the sandbox's clock on by `{"seconds": N}`; whatever falls due happens."""
    now = current().store.advance_clock(_number(_body(), "seconds", 0, int))
    return json_response({"now": now})


@bp.post("/clock/set")
def set_clock():
    """Set the sandbox's clock to `{"now": <unix time>}`, past or future."""
    body = _body()
    if "now" not in body:
        raise StripeError('Give the time to set, as {"now": <unix time>}.', param="now")
    return json_response({"now": current().store.set_clock(_number(body, "now", 0, int))})


@bp.post("/reset")
def reset():
    """Forget everything: sessions, events, deliveries, holds, delays, the clock."""
    current().reset()
    return json_response({"reset": True})
