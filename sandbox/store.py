"""The sandbox's memory: every object and event, behind one lock. A restart forgets them all."""

from __future__ import annotations

import copy
import fnmatch
import threading
import time
from collections.abc import Callable

from .errors import StripeError, no_such
from .objects import new_id

KINDS = {
    "cs": "checkout.session",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "dp": "dispute",
    "evt": "event",
}
# Stripe may prune an idempotency key once it is 24 hours old; the sandbox always does.
IDEMPOTENCY_TTL = 24 * 3600


def kind_of(object_id: str) -> str | None:
    """The Stripe object type an id belongs to, from its prefix."""
    return KINDS.get(object_id.split("_", 1)[0])


class Store:
    """Objects by id, the event log and idempotent replies; callers hold `lock` across changes."""

    def __init__(self, *, api_version: str, on_event: Callable[[dict], None] | None = None):
        self.lock = threading.RLock()
        self.api_version = api_version
        self.on_event = on_event
        # Called with the sandbox time whenever the clock moves or the sweep runs.
        self.on_tick: Callable[[int], None] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything, as a restart would."""
        with self.lock:
            self.objects: dict[str, dict] = {}
            # Sandbox-only facts about an object (line items, a card awaiting 3-D Secure).
            self.private: dict[str, dict] = {}
            self.events: list[dict] = []
            # Idempotency key -> the saved reply and the sandbox time it was saved.
            self.idempotent: dict[str, dict] = {}
            self.clock_offset = 0

    def now(self) -> int:
        """The sandbox's time: the real clock, moved by any `advance_clock` or `set_clock`."""
        return int(time.time()) + self.clock_offset

    def advance_clock(self, seconds: int) -> int:
        """Move the sandbox's clock forward, so tests can reach expiry without waiting."""
        with self.lock:
            self.clock_offset += seconds
            self.tick()
            return self.now()

    def set_clock(self, now: int) -> int:
        """Set the sandbox's clock to an absolute unix time, past or future."""
        with self.lock:
            self.clock_offset = now - int(time.time())
            self.tick()
            return self.now()

    def tick(self) -> None:
        """Do whatever falls due at the current sandbox time: expiry, refunds, late webhooks."""
        with self.lock:
            self.expire_due()
            if self.on_tick:
                self.on_tick(self.now())

    def saved_reply(self, key: str) -> dict | None:
        """The reply saved under an idempotency key, unless the key is 24 hours old."""
        with self.lock:
            cutoff = self.now() - IDEMPOTENCY_TTL
            for old in [k for k, saved in self.idempotent.items() if saved["saved_at"] <= cutoff]:
                del self.idempotent[old]
            return self.idempotent.get(key)

    def save_reply(self, key: str, **reply) -> None:
        """Keep a reply under its idempotency key, stamped with the sandbox time."""
        with self.lock:
            self.idempotent[key] = dict(reply, saved_at=self.now())

    def add(self, obj: dict, **private) -> dict:
        """Keep a new object, with any sandbox-only facts about it."""
        with self.lock:
            self.objects[obj["id"]] = obj
            self.private[obj["id"]] = private
            return obj

    def get(self, object_id: str, kind: str, *, param: str | None = None) -> dict:
        """The live object with this id and kind, or Stripe's "No such ..." error."""
        with self.lock:
            if kind == "checkout.session":
                self.expire_due()
            obj = self.objects.get(object_id)
            if obj is None or obj["object"] != kind:
                status = 400 if param else 404
                raise no_such(kind, object_id, param=param, status=status)
            return obj

    def emit(
        self, type_: str, obj: dict, *, request: dict | None = None, previous: dict | None = None
    ) -> dict:
        """Record an event with a snapshot of `obj`, and hand it to the webhook dispatcher."""
        with self.lock:
            event = _event(
                type_,
                copy.deepcopy(obj),
                api_version=self.api_version,
                now=self.now(),
                request=request,
                previous=previous,
            )
            self.events.append(event)
            self.objects[event["id"]] = event
            if self.on_event:
                self.on_event(event)
            return event

    def expire_due(self) -> list[dict]:
        """Expire every open session whose `expires_at` has passed; returns them."""
        with self.lock:
            now = self.now()
            due = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "checkout.session"
                and obj["status"] == "open"
                and obj["expires_at"] <= now
            ]
            for session in due:
                self.expire(session)
            return due

    def expire(self, session: dict, request: dict | None = None) -> dict:
        """Close an open session unpaid, cancel its payment intent, and emit the event."""
        with self.lock:
            if session["status"] != "open":
                raise StripeError(
                    'Only Checkout Sessions with a status in ["open"] can be expired. This '
                    f'Checkout Session has a status of "{session["status"]}".',
                    code="checkout_session_not_open",
                )
            session.update(status="expired", url=None)
            intent = self.objects.get(session["payment_intent"] or "")
            if intent and intent["status"] != "succeeded":
                intent.update(
                    status="canceled",
                    canceled_at=self.now(),
                    cancellation_reason="abandoned",
                    next_action=None,
                )
            self.private[session["id"]].pop("pending_auth", None)
            self.emit("checkout.session.expired", session, request=request)
            return session

    def list_events(
        self,
        *,
        types: list[str] | None = None,
        created: dict | None = None,
        limit: int = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> tuple[list[dict], bool]:
        """A page of events, newest first, as GET /v1/events pages them."""
        with self.lock:
            matching = [
                event
                for event in reversed(self.events)
                if (not types or any(fnmatch.fnmatchcase(event["type"], t) for t in types))
                and created_matches(event["created"], created or {})
            ]
            return self.page(
                matching,
                "event",
                limit=limit,
                starting_after=starting_after,
                ending_before=ending_before,
            )

    def newest_first(self, kind: str, **filters) -> list[dict]:
        """Every object of a kind whose fields equal `filters` (None: any), newest first."""
        with self.lock:
            found = [
                obj
                for obj in self.objects.values()
                if obj["object"] == kind
                and all(value is None or obj.get(key) == value for key, value in filters.items())
            ]
            # Insertion order breaks ties between objects made in the same second.
            order = {object_id: index for index, object_id in enumerate(self.objects)}
            return sorted(found, key=lambda obj: (obj["created"], order[obj["id"]]), reverse=True)

    def page(
        self,
        matching: list[dict],
        kind: str,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> tuple[list[dict], bool]:
        """One page of a newest-first list, cut at a cursor as Stripe's list endpoints are."""
        with self.lock:
            ids = [obj["id"] for obj in matching]
            for param, cursor in (
                ("starting_after", starting_after),
                ("ending_before", ending_before),
            ):
                if cursor and cursor not in self.objects:
                    raise no_such(kind, cursor, param=param, status=400)
            if starting_after:
                start = ids.index(starting_after) + 1 if starting_after in ids else len(ids)
                page = matching[start : start + limit]
                return page, start + limit < len(matching)
            if ending_before:
                end = ids.index(ending_before) if ending_before in ids else 0
                page = matching[max(0, end - limit) : end]
                return page, end - limit > 0
            return matching[:limit], limit < len(matching)

    def expand(self, obj: dict, paths: list[str]) -> dict:
        """A copy of `obj` with the id fields named in `expand[]` replaced by their objects."""
        with self.lock:
            result = copy.deepcopy(obj)
            for path in paths:
                self._expand(result, path.split("."), path)
            return result

    def _expand(self, node: dict, parts: list[str], path: str) -> None:
        key, rest = parts[0], parts[1:]
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and kind_of(value) and value in self.objects:
            value = node[key] = copy.deepcopy(self.objects[value])
        elif value is None and isinstance(node, dict) and key in node:
            return
        elif not isinstance(value, dict):
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
        if rest:
            self._expand(value, rest, path)


def created_matches(created: int, bounds) -> bool:
    """Whether a `created` time passes a list filter: an exact time or `gt/gte/lt/lte`."""
    if not isinstance(bounds, dict):
        return created == int(bounds)
    checks = {
        "gt": lambda v: created > v,
        "gte": lambda v: created >= v,
        "lt": lambda v: created < v,
        "lte": lambda v: created <= v,
    }
    return all(checks[op](int(value)) for op, value in bounds.items() if op in checks)


def _event(
    type_: str,
    snapshot: dict,
    *,
    api_version: str,
    now: int,
    request: dict | None = None,
    previous: dict | None = None,
) -> dict:
    """An event carrying a snapshot of the object as it was when the event happened."""
    data: dict = {"object": snapshot}
    if previous:
        data["previous_attributes"] = previous
    return {
        "id": new_id("evt_1"),
        "object": "event",
        "api_version": api_version,
        "created": now,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": request or {"id": None, "idempotency_key": None},
        "type": type_,
    }
