"""Check Stripe requests and responses against Stripe's OpenAPI subset (tests/stripe_reference/).

The spec is Stripe's own (API 2023-08-16). As its README says: `nullable: true` is turned into
`anyOf [..., null]` first, and form values (all strings) are coerced to the schema's types
before a request is validated. Responses may carry newer fields; requests may not.

    from tests.sandbox.openapi import assert_valid_request, assert_valid_object
    assert_valid_request("POST /v1/checkout/sessions", params)   # nested form params
    assert_valid_object(session_dict)                            # by its "object" field
    assert_valid_exchange(entry)                                 # one `handle.requests` entry
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
BASE_URI = "https://stripe-openapi-subset.invalid/spec.json"
CREATE_SESSION = "POST /v1/checkout/sessions"
CREATE_REFUND = "POST /v1/refunds"
# The response schema for each API route the sandbox serves (path patterns -> schema name).
ROUTES = [
    ("POST", r"/v1/checkout/sessions", "checkout.session", CREATE_SESSION),
    ("GET", r"/v1/checkout/sessions", "list", None),
    ("GET", r"/v1/refunds", "list", None),
    ("GET", r"/v1/disputes", "list", None),
    ("GET", r"/v1/checkout/sessions/[^/]+", "checkout.session", None),
    ("POST", r"/v1/checkout/sessions/[^/]+/expire", "checkout.session", None),
    ("POST", r"/v1/refunds", "refund", CREATE_REFUND),
    ("GET", r"/v1/refunds/[^/]+", "refund", None),
    ("GET", r"/v1/events", "list", None),
    ("GET", r"/v1/events/[^/]+", "event", None),
    ("GET", r"/v1/payment_intents/[^/]+", "payment_intent", None),
    ("GET", r"/v1/charges/[^/]+", "charge", None),
    ("GET", r"/v1/disputes/[^/]+", "dispute", None),
]


def spec_path() -> Path | None:
    """Where the spec is: $STRIPE_OPENAPI_SUBSET, else the copy in tests/stripe_reference/."""
    candidates = [
        os.environ.get("STRIPE_OPENAPI_SUBSET"),
        ROOT / "tests" / "stripe_reference" / "openapi-subset.json",
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def convert_nullable(node):
    """Turn OpenAPI 3.0 `nullable: true` into JSON Schema `anyOf [schema, null]`, everywhere."""
    if isinstance(node, list):
        return [convert_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: convert_nullable(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        return {"anyOf": [converted, {"enum": [None]}]}
    return converted


# Enum values Stripe added after the spec's 2023 version (checked in Stripe's docs): without
# them a dispute Stripe sends today would fail its schema.
NEWER_ENUM_VALUES = {("dispute", "status"): ["prevented"]}


def add_newer_enum_values(spec: dict) -> dict:
    """Add NEWER_ENUM_VALUES to the spec's schemas, in place; returns the spec."""
    schemas = spec["components"]["schemas"]
    for (schema, prop), values in NEWER_ENUM_VALUES.items():
        enum = schemas[schema]["properties"][prop]["enum"]
        enum.extend(value for value in values if value not in enum)
    return spec


@cache
def load_spec() -> dict:
    """The spec with `nullable` converted; raises FileNotFoundError if it is not there."""
    path = spec_path()
    if path is None:
        raise FileNotFoundError("tests/stripe_reference/openapi-subset.json not found")
    return convert_nullable(add_newer_enum_values(json.loads(path.read_text())))


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT4)
    return Registry().with_resource(BASE_URI, resource)


@cache
def schema_validator(name: str) -> Draft4Validator:
    """A validator for one of components.schemas, e.g. `checkout.session` or `error`."""
    if name not in load_spec()["components"]["schemas"]:
        raise KeyError(f"no schema named {name!r}")
    return Draft4Validator({"$ref": f"{BASE_URI}#/components/schemas/{name}"}, registry=_registry())


@cache
def request_schema(operation: str) -> dict:
    """The form-body schema of `POST /v1/checkout/sessions` or `POST /v1/refunds`."""
    return load_spec()["requests"][operation]["schema"]


def coerce(value, schema: dict):
    """Form values are strings: turn them into the integers, booleans, numbers the schema wants."""
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            candidate = coerce(value, option)
            if Draft4Validator(option, registry=_registry()).is_valid(candidate):
                return candidate
        return value
    kind = schema.get("type")
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
        return value
    if isinstance(value, list):
        return [coerce(item, schema.get("items", {})) for item in value]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else {}
        return {key: coerce(item, props.get(key, extra)) for key, item in value.items()}
    return value


def _messages(validator: Draft4Validator, instance) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def request_errors(operation: str, params: dict) -> list[str]:
    """Problems with a request's (nested, string-valued) form params; empty if it is valid."""
    schema = request_schema(operation)
    validator = Draft4Validator(schema, registry=_registry())
    return _messages(validator, coerce(copy.deepcopy(params), schema))


def object_errors(obj: dict, name: str | None = None) -> list[str]:
    """Problems with a response object, checked by its `object` field unless `name` is given."""
    name = name or obj.get("object")
    errors = _messages(schema_validator(name), obj)
    inner = obj.get("data", {}).get("object", {}) if name == "event" else {}
    if inner.get("object") in load_spec()["components"]["schemas"]:
        errors += [f"data.object {e}" for e in object_errors(inner)]
    return errors


def assert_valid_request(operation: str, params: dict) -> None:
    """Fail with every schema problem in a request's form params."""
    errors = request_errors(operation, params)
    assert not errors, f"{operation} request does not match the spec:\n" + "\n".join(errors)


def assert_valid_object(obj: dict, name: str | None = None) -> None:
    """Fail with every schema problem in a response object (events: their data.object too)."""
    errors = object_errors(obj, name)
    assert not errors, f"{name or obj.get('object')} does not match the spec:\n" + "\n".join(errors)


def assert_valid_exchange(entry: dict, *, check_request: bool | None = None) -> None:
    """Check one logged API exchange: its response, and (by default if it succeeded) its request.

    A request the sandbox refused may break the schema on purpose (a test of a missing
    parameter), so its body is checked only when `check_request=True`.
    """
    body = entry["response"]
    if entry["status"] >= 400:
        assert_valid_object(body, "error")
        if check_request:
            assert_valid_request(_route(entry["method"], entry["path"])[1], entry["params"])
        return
    schema, operation = _route(entry["method"], entry["path"])
    if operation and check_request is not False:
        assert_valid_request(operation, entry["params"])
    if schema == "list":
        for item in body["data"]:
            assert_valid_object(item)
            _check_expanded(item)
    else:
        assert_valid_object(body, schema)
        _check_expanded(body)


def _route(method: str, path: str) -> tuple[str, str | None]:
    for route_method, pattern, schema, operation in ROUTES:
        if method == route_method and re.fullmatch(pattern, path):
            return schema, operation
    raise AssertionError(f"no schema known for {method} {path}")


def _check_expanded(obj: dict) -> None:
    # An expanded field holds a whole object: check it against its own schema too.
    for value in obj.values():
        if isinstance(value, dict) and str(value.get("object")) in ROUTE_OBJECTS:
            assert_valid_object(value)


ROUTE_OBJECTS = {
    "checkout.session",
    "payment_intent",
    "charge",
    "refund",
    "dispute",
    "event",
    "balance_transaction",
}
