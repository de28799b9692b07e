"""One running sandbox: its store, webhook dispatcher, faults, sweep and API request log."""

from __future__ import annotations

import copy
import threading

import stripe

from . import disputes, refunds
from .faults import Faults
from .store import Store
from .webhooks import Dispatcher


class Sandbox:
    """Everything one sandbox server holds; the Flask views reach it through `current()`."""

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        backoff: float = 0.5,
        max_attempts: int = 8,
        sweep_interval: float = 1.0,
        public_url: str | None = None,
        api_version: str | None = None,
    ):
        self.dispatcher = Dispatcher(
            url=webhook_url, secret=webhook_secret, backoff=backoff, max_attempts=max_attempts
        )
        # Events carry the version the official library speaks unless told otherwise.
        self.store = Store(
            api_version=api_version or stripe.api_version, on_event=self.dispatcher.enqueue
        )
        self.store.on_tick = self._on_tick
        self.faults = Faults()
        self.public_url = public_url.rstrip("/") if public_url else None
        self.sweep_interval = sweep_interval
        self.requests: list[dict] = []
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        """Start the webhook worker and the expiry sweep."""
        self.dispatcher.start()
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep, name="sandbox-expiry", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        """Stop the background threads."""
        self._stop.set()
        self.dispatcher.stop()
        if self._sweeper:
            self._sweeper.join(timeout=self.sweep_interval + 1)

    def reset(self) -> None:
        """Forget all objects, events, deliveries and logged requests."""
        with self.store.lock:
            self.store.reset()
            self.dispatcher.reset()
            self.faults.reset()
            self.requests.clear()

    def settle_refund(self, refund_id: str, outcome: str) -> dict:
        """Give a refund its later status now: `succeeded`, `failed` or `canceled`."""
        with self.store.lock:
            return refunds.settle(self.store, refund_id, outcome)

    def open_dispute(self, target_id: str, *, reason="fraudulent", amount=None) -> dict:
        """Open a dispute on a charge or payment intent (chargeback unless reason `general`)."""
        with self.store.lock:
            return disputes.open_dispute(self.store, target_id, reason=reason, amount=amount)

    def move_dispute(self, dispute_id: str, status: str) -> dict:
        """Move an open dispute to `under_review`, `warning_under_review` or `needs_response`."""
        with self.store.lock:
            return disputes.move(self.store, dispute_id, status)

    def close_dispute(self, dispute_id: str, outcome: str) -> dict:
        """Close a dispute `won`, `lost`, `prevented` or (an inquiry) `warning_closed`."""
        with self.store.lock:
            return disputes.close(self.store, dispute_id, outcome=outcome)

    def event_view(self, event: dict) -> dict:
        """An event as the API shows it, with its current `pending_webhooks`."""
        return dict(copy.deepcopy(event), pending_webhooks=self.dispatcher.pending(event["id"]))

    def event_report(self) -> list[dict]:
        """Every event, oldest first, with its deliveries and their attempts."""
        with self.store.lock:
            deliveries = self.dispatcher.snapshot()
            return [
                {
                    "id": event["id"],
                    "type": event["type"],
                    "created": event["created"],
                    "object": event["data"]["object"].get("id"),
                    "deliveries": [d for d in deliveries if d["event"] == event["id"]],
                }
                for event in self.store.events
            ]

    def _on_tick(self, now: int) -> None:
        # The store calls this, holding its lock, whenever sandbox time may have moved on.
        refunds.settle_due(self.store, now)
        self.dispatcher.release_late(now)

    def _sweep(self) -> None:
        while not self._stop.wait(self.sweep_interval):
            self.store.tick()
