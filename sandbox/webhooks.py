"""Signed webhook delivery on a background thread, with retries and test-only disorder.

Each event gets one delivery; a delivery makes attempts until the endpoint answers 2xx or
`max_attempts` runs out, waiting `backoff * 2**(n-1)` seconds after the n-th failure. Tests can
hold deliveries and release them in another order, delay them, or deliver an event again.
"""

from __future__ import annotations

import fnmatch
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from .objects import new_id

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header for a payload, as `stripe.Webhook.construct_event` checks."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    """One event on its way to the endpoint, and every attempt made so far."""

    event: dict
    kind: str = "original"
    state: str = "scheduled"
    id: str = field(default_factory=lambda: new_id("whd_", 16))
    due: float = 0.0
    # Sandbox time before which a "late" delivery is not sent (see `Dispatcher.late_next`).
    release_at: int | None = None
    attempts: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The delivery as the test controls report it."""
        return {
            "id": self.id,
            "event": self.event["id"],
            "type": self.event["type"],
            "kind": self.kind,
            "state": self.state,
            "release_at": self.release_at,
            "attempts": list(self.attempts),
        }


class Dispatcher:
    """Queues deliveries and sends them from one worker thread, in due-time order."""

    def __init__(self, *, url=None, secret=None, backoff=0.5, max_attempts=8, timeout=10.0):
        self.url, self.secret = url, secret
        self.backoff, self.max_attempts, self.timeout = backoff, max_attempts, timeout
        self._cond = threading.Condition()
        self._seq = itertools.count()
        # No proxies: the endpoint is on this machine, whatever HTTP_PROXY says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.reset()

    def reset(self) -> None:
        """Forget every delivery, hold and delay rule."""
        with self._cond:
            self._heap: list[tuple[float, int, Delivery]] = []
            self._held: list[Delivery] | None = None
            self._delays: list[dict] = []
            self._late_rules: list[dict] = []
            self._late: list[Delivery] = []
            self._in_flight = 0
            self.deliveries: list[Delivery] = []
            self.log: list[dict] = []
            self._cond.notify_all()

    def start(self) -> None:
        """Start the worker thread."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker thread; undelivered events are dropped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=self.timeout + 1)

    def configure(self, url: str | None, secret: str | None) -> None:
        """Point deliveries at a new endpoint (e.g. an app started after the sandbox)."""
        with self._cond:
            self.url, self.secret = url, secret

    def enqueue(self, event: dict) -> Delivery:
        """Queue the first delivery of a new event, applying any delay rule that matches."""
        with self._cond:
            delivery = Delivery(event)
            self.deliveries.append(delivery)
            if not self.url:
                delivery.state = "no_endpoint"
                return delivery
            for rule in self._late_rules:
                if rule["count"] > 0 and fnmatch.fnmatchcase(event["type"], rule["type"]):
                    rule["count"] -= 1
                    # Late by sandbox time: sent once the clock passes the event's time + seconds.
                    delivery.state = "late"
                    delivery.release_at = event["created"] + rule["seconds"]
                    self._late.append(delivery)
                    return delivery
            delay = 0.0
            for rule in self._delays:
                if rule["count"] > 0 and fnmatch.fnmatchcase(event["type"], rule["type"]):
                    rule["count"] -= 1
                    delay = rule["seconds"]
                    break
            self._schedule(delivery, delay)
            return delivery

    def redeliver(self, event: dict, times: int = 1, delay: float = 0.0) -> list[Delivery]:
        """Send an event again, `times` more times, as Stripe's "Resend" does."""
        with self._cond:
            extra = [Delivery(event, kind="redelivery") for _ in range(times)]
            for delivery in extra:
                self.deliveries.append(delivery)
                self._schedule(delivery, delay)
            return extra

    def hold(self) -> None:
        """Keep new deliveries back until `release`."""
        with self._cond:
            if self._held is None:
                self._held = []

    def release(self, order="fifo") -> list[Delivery]:
        """Send held deliveries now: `fifo`, `reversed`, or a list of event ids first."""
        with self._cond:
            held, self._held = self._held or [], None
            if order == "reversed":
                held.reverse()
            elif isinstance(order, list):
                rank = {event_id: index for index, event_id in enumerate(order)}
                held.sort(key=lambda d: rank.get(d.event["id"], len(rank)))
            for delivery in held:
                delivery.state = "scheduled"
                self._push(delivery, time.monotonic())
            return held

    def delay_next(self, seconds: float, type_: str = "*", count: int = 1) -> dict:
        """Delay the first delivery of the next `count` events of a type by `seconds`."""
        with self._cond:
            rule = {"type": type_, "seconds": seconds, "count": count}
            self._delays.append(rule)
            return rule

    def late_next(self, seconds: int, type_: str = "*", count: int = 1) -> dict:
        """Hold the first delivery of the next `count` events of a type for `seconds` of
        sandbox time, as Stripe's retries can bring an event days after it happened."""
        with self._cond:
            rule = {"type": type_, "seconds": seconds, "count": count}
            self._late_rules.append(rule)
            return dict(rule)

    def release_late(self, now: int) -> list[Delivery]:
        """Send every late delivery whose time has come by the sandbox clock `now`."""
        with self._cond:
            due = [d for d in self._late if d.release_at is not None and d.release_at <= now]
            self._late = [d for d in self._late if d not in due]
            for delivery in due:
                delivery.state = "scheduled"
                self._schedule(delivery, 0)
            return due

    def snapshot(self) -> list[dict]:
        """Every delivery so far, in the order they were queued."""
        with self._cond:
            return [delivery.to_dict() for delivery in self.deliveries]

    def attempt_log(self) -> list[dict]:
        """Every delivery attempt, in the order they were made."""
        with self._cond:
            return list(self.log)

    def pending(self, event_id: str) -> int:
        """How many endpoints still wait for this event: Stripe's `pending_webhooks`."""
        with self._cond:
            return sum(
                1
                for d in self.deliveries
                if d.event["id"] == event_id
                and d.kind == "original"
                and d.state not in ("delivered", "no_endpoint")
            )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (held deliveries excepted)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def _schedule(self, delivery: Delivery, delay: float) -> None:
        if self._held is not None and delay == 0:
            delivery.state = "held"
            self._held.append(delivery)
            return
        self._push(delivery, time.monotonic() + delay)

    def _push(self, delivery: Delivery, due: float) -> None:
        delivery.due = due
        heapq.heappush(self._heap, (due, next(self._seq), delivery))
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
                if delivery is None:
                    return
                url, secret = self.url, self.secret
                delivery.state = "delivering"
                self._in_flight += 1
            result = self._send(delivery, url, secret)
            with self._cond:
                self._in_flight -= 1
                self._record(delivery, result)
                self._cond.notify_all()

    def _next_due(self) -> Delivery | None:
        while not self._stopping:
            if self._heap and self._heap[0][0] <= time.monotonic():
                return heapq.heappop(self._heap)[2]
            wait = self._heap[0][0] - time.monotonic() if self._heap else None
            self._cond.wait(wait)
        return None

    def _send(self, delivery: Delivery, url: str | None, secret: str | None) -> dict:
        event = dict(delivery.event, pending_webhooks=max(1, self.pending(delivery.event["id"])))
        payload = json.dumps(event, indent=2, ensure_ascii=False)
        request = urllib.request.Request(
            url or "",
            data=payload.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": sign(payload, secret or ""),
            },
        )
        started = time.monotonic()
        result = {"at": time.time(), "status": None, "error": None}
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                result["status"] = response.status
                response.read(1024)
        except urllib.error.HTTPError as exc:
            result["status"] = exc.code
            exc.close()
        except (OSError, ValueError) as exc:
            # URLError wraps the socket error that says what went wrong; report that one.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            result["error"] = f"{type(reason).__name__}: {reason}"
        result["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        return result

    def _record(self, delivery: Delivery, result: dict) -> None:
        attempt = {"attempt": len(delivery.attempts) + 1, **result}
        delivery.attempts.append(attempt)
        self.log.append({"delivery": delivery.id, "event": delivery.event["id"], **attempt})
        status = result["status"]
        if status is not None and 200 <= status < 300:
            delivery.state = "delivered"
        elif attempt["attempt"] >= self.max_attempts:
            delivery.state = "failed"
        else:
            delivery.state = "retrying"
            self._push(delivery, time.monotonic() + self.backoff * 2 ** (attempt["attempt"] - 1))
