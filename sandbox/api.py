"""The Stripe API routes (`/v1/...`) the app uses, with Stripe's auth, errors and idempotency."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable

from flask import Blueprint, Response, current_app, g, request

from . import payments, refunds, validation
from .errors import StripeError, invalid_param
from .forms import parse_pairs
from .objects import new_id
from .store import created_matches

bp = Blueprint("stripe_api", __name__, url_prefix="/v1")

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def current():
    """The Sandbox this app serves."""
    return current_app.extensions["stripe_sandbox"]


def json_response(body: dict, status: int = 200) -> Response:
    """A JSON answer formatted as Stripe's are."""
    return Response(json.dumps(body, indent=2), status=status, mimetype="application/json")


def _api_key() -> str | None:
    auth = request.authorization
    if auth is None:
        return None
    if auth.type == "bearer":
        return auth.token
    return auth.username if auth.type == "basic" else None


@bp.before_request
def authenticate():
    """Refuse requests without a test-mode secret key, as Stripe answers them."""
    g.request_id = new_id("req_", 14)
    g.idempotency_key = request.headers.get("Idempotency-Key")
    g.params = parse_pairs(
        request.form.items(multi=True) if request.method == "POST" else request.args.items(True)
    )
    key = _api_key()
    if not key:
        raise StripeError(NO_KEY, status=401)
    if not key.startswith("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
        raise StripeError(f"Invalid API Key provided: {shown}", status=401)


@bp.before_request
def catch_up():
    """Before any read, let whatever is due by the sandbox clock happen (expiry, refunds)."""
    if request.method == "GET":
        current().store.tick()


@bp.after_request
def stamp(response: Response) -> Response:
    """Add Stripe's response headers and log the exchange for schema checks in tests."""
    response.headers["Request-Id"] = g.get("request_id", "")
    response.headers["Stripe-Version"] = request.headers.get(
        "Stripe-Version", current().store.api_version
    )
    lost = current().faults.take_lost_reply(request.method, request.path)
    current().requests.append(
        {
            "method": request.method,
            "path": request.path,
            "params": g.get("params", {}),
            "idempotency_key": g.get("idempotency_key"),
            "stripe_version": request.headers.get("Stripe-Version"),
            "status": response.status_code,
            "replayed": response.headers.get("Idempotent-Replayed") == "true",
            "response": response.get_json(silent=True),
            "lost": lost,
        }
    )
    if lost:
        _drop_connection()
    return response


def _drop_connection() -> None:
    """Close the client's socket unanswered: the request was done, its reply never arrives."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    # If the client went first, the reply is lost all the same.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@bp.errorhandler(StripeError)
def stripe_error(error: StripeError) -> Response:
    """Any Stripe-style error as its JSON body."""
    return json_response(error.to_dict(), error.status)


def _request_info() -> dict:
    return {"id": g.request_id, "idempotency_key": g.idempotency_key}


def _idempotent(validate: Callable[[], object], execute: Callable[[object], dict]) -> Response:
    """Run a POST once per Idempotency-Key; a retry with the same key gets the first answer.

    As on Stripe, the answer is saved once the endpoint starts executing (`execute`), errors
    included; a request refused by `validate` is not saved, so it can be fixed and resent.
    """
    key = g.idempotency_key
    store = current().store
    with store.lock:
        fingerprint = json.dumps([request.method, request.path, g.params], sort_keys=True)
        saved = store.saved_reply(key) if key else None
        if saved and saved["fingerprint"] != fingerprint:
            raise StripeError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        if saved:
            response = json_response(saved["body"], saved["status"])
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = saved["request_id"]
            return response
        clean = validate()
        try:
            response = json_response(execute(clean))
        except StripeError as error:
            response = json_response(error.to_dict(), error.status)
        if key:
            store.save_reply(
                key,
                fingerprint=fingerprint,
                status=response.status_code,
                body=response.get_json(),
                request_id=g.request_id,
            )
        return response


def _expand(obj: dict) -> dict:
    paths = g.params.get("expand", [])
    if isinstance(paths, str):
        paths = [paths]
    return current().store.expand(obj, paths)


@bp.post("/checkout/sessions")
def create_checkout_session():
    """Create a Checkout Session (mode=payment) and give its hosted page URL."""
    store = current().store
    url_base = current().public_url or request.host_url.rstrip("/")

    def create(clean):
        return _expand(payments.create_session(store, clean, url_base=url_base))

    return _idempotent(lambda: validation.session_params(g.params, store.now()), create)


@bp.get("/checkout/sessions")
def list_checkout_sessions():
    """List Checkout Sessions newest first, so a reconcile can find payments it never saw."""
    clean = validation.list_params(g.params, filters=("payment_intent", "status"))
    if clean["filters"].get("status") not in (None, "open", "complete", "expired"):
        raise invalid_param("status", "Invalid status: must be one of open, complete, or expired")
    store = current().store
    with store.lock:
        matching = [
            session
            for session in store.newest_first("checkout.session", **clean["filters"])
            if _created_ok(session, clean)
        ]
        return _list_page(matching, "checkout.session", clean, "/v1/checkout/sessions")


@bp.get("/checkout/sessions/<session_id>")
def retrieve_checkout_session(session_id):
    """Retrieve a Checkout Session, expiring it first if its time is up."""
    return json_response(_expand(current().store.get(session_id, "checkout.session")))


@bp.post("/checkout/sessions/<session_id>/expire")
def expire_checkout_session(session_id):
    """Expire an open Checkout Session so it can no longer be paid."""

    def expire(_clean):
        store = current().store
        session = store.expire(store.get(session_id, "checkout.session"), _request_info())
        return _expand(session)

    return _idempotent(lambda: validation.expand_only(g.params), expire)


@bp.post("/refunds")
def create_refund():
    """Refund all or part of a payment."""

    def create(clean):
        sandbox = current()
        refund = refunds.create(
            sandbox.store, clean, request=_request_info(), refusal=sandbox.faults
        )
        return _expand(refund)

    return _idempotent(lambda: validation.refund_params(g.params), create)


@bp.get("/refunds")
def list_refunds():
    """List refunds newest first, by charge or payment intent."""
    clean = validation.list_params(g.params, filters=("charge", "payment_intent"))
    store = current().store
    with store.lock:
        matching = [
            r for r in store.newest_first("refund", **clean["filters"]) if _created_ok(r, clean)
        ]
        return _list_page(matching, "refund", clean, "/v1/refunds")


@bp.get("/disputes")
def list_disputes():
    """List disputes newest first, by charge or payment intent."""
    clean = validation.list_params(g.params, filters=("charge", "payment_intent"))
    store = current().store
    with store.lock:
        matching = [
            d for d in store.newest_first("dispute", **clean["filters"]) if _created_ok(d, clean)
        ]
        return _list_page(matching, "dispute", clean, "/v1/disputes")


def _created_ok(obj: dict, clean: dict) -> bool:
    return clean["created"] is None or created_matches(obj["created"], clean["created"])


def _list_page(matching: list[dict], kind: str, clean: dict, url: str) -> Response:
    page, has_more = current().store.page(
        matching,
        kind,
        limit=clean["limit"],
        starting_after=clean["starting_after"],
        ending_before=clean["ending_before"],
    )
    # `expand[]=data.payment_intent` expands inside every item of the list.
    paths = [path.removeprefix("data.") for path in clean["expand"]]
    data = [current().store.expand(obj, paths) for obj in page]
    return json_response({"object": "list", "data": data, "has_more": has_more, "url": url})


@bp.get("/events")
def list_events():
    """List events newest first, filtered by type and created, paged with a cursor."""
    params = g.params
    clean = validation.list_params(params, filters=("type", "types", "delivery_success"))
    types = params.get("types") or ([params["type"]] if params.get("type") else None)
    page, has_more = current().store.list_events(
        types=types,
        created=clean["created"],
        limit=clean["limit"],
        starting_after=clean["starting_after"],
        ending_before=clean["ending_before"],
    )
    body = {
        "object": "list",
        "data": [current().event_view(event) for event in page],
        "has_more": has_more,
        "url": "/v1/events",
    }
    return json_response(body)


@bp.get("/<any(events, payment_intents, charges, refunds, disputes):collection>/<object_id>")
def retrieve(collection, object_id):
    """Retrieve an event, payment intent, charge, refund or dispute by id."""
    kind = {
        "events": "event",
        "payment_intents": "payment_intent",
        "charges": "charge",
        "refunds": "refund",
        "disputes": "dispute",
    }[collection]
    obj = current().store.get(object_id, kind)
    if kind == "event":
        return json_response(current().event_view(obj))
    return json_response(_expand(obj))
