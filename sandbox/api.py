"""The Stripe API routes (`/v1/...`) the app uses, with Stripe's auth, errors and idempotency."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g, request

from . import payments
from .errors import StripeError
from .forms import parse_pairs
from .objects import new_id
from .validation import integer

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


@bp.after_request
def stamp(response: Response) -> Response:
    """Add Stripe's response headers and log the exchange for schema checks in tests."""
    response.headers["Request-Id"] = g.get("request_id", "")
    response.headers["Stripe-Version"] = request.headers.get(
        "Stripe-Version", current().store.api_version
    )
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
        }
    )
    return response


@bp.errorhandler(StripeError)
def stripe_error(error: StripeError) -> Response:
    """Any Stripe-style error as its JSON body."""
    return json_response(error.to_dict(), error.status)


def _request_info() -> dict:
    return {"id": g.request_id, "idempotency_key": g.idempotency_key}


def _idempotent(handler) -> Response:
    """Run a POST once per Idempotency-Key; a retry with the same key gets the first answer."""
    key = g.idempotency_key
    store = current().store
    with store.lock:
        if not key:
            return handler()
        fingerprint = json.dumps([request.method, request.path, g.params], sort_keys=True)
        saved = store.idempotent.get(key)
        if saved and saved[0] != fingerprint:
            raise StripeError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        if saved:
            response = json_response(saved[2], saved[1])
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = saved[3]
            return response
        # Like Stripe, keep successes only: a request that failed validation may be fixed
        # and sent again under the same key.
        response = handler()
        if response.status_code < 400:
            store.idempotent[key] = (
                fingerprint,
                response.status_code,
                response.get_json(),
                g.request_id,
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

    def create():
        url_base = current().public_url or request.host_url.rstrip("/")
        session = payments.create_session(current().store, g.params, url_base=url_base)
        return json_response(_expand(session))

    return _idempotent(create)


@bp.get("/checkout/sessions/<session_id>")
def retrieve_checkout_session(session_id):
    """Retrieve a Checkout Session, expiring it first if its time is up."""
    return json_response(_expand(current().store.get(session_id, "checkout.session")))


@bp.post("/checkout/sessions/<session_id>/expire")
def expire_checkout_session(session_id):
    """Expire an open Checkout Session so it can no longer be paid."""

    def expire():
        store = current().store
        session = store.expire(store.get(session_id, "checkout.session"), _request_info())
        return json_response(_expand(session))

    return _idempotent(expire)


@bp.post("/refunds")
def create_refund():
    """Refund all or part of a payment."""

    def create():
        refund = payments.refund(current().store, g.params, request=_request_info())
        return json_response(_expand(refund))

    return _idempotent(create)


@bp.get("/events")
def list_events():
    """List events newest first, filtered by type and created, paged with a cursor."""
    params = g.params
    limit = integer(params.get("limit", 10), "limit", minimum=1)
    if limit > 100:
        raise StripeError("This value must be less than or equal to 100.", param="limit")
    types = params.get("types") or ([params["type"]] if params.get("type") else None)
    created = params.get("created")
    if isinstance(created, dict):
        created = {op: integer(v, f"created[{op}]") for op, v in created.items()}
    elif created is not None:
        created = integer(created, "created")
    page, has_more = current().store.list_events(
        types=types,
        created=created,
        limit=limit,
        starting_after=params.get("starting_after"),
        ending_before=params.get("ending_before"),
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
