"""One running sandbox: its store, webhook dispatcher, expiry sweep and API request log."""

from __future__ import annotations

import copy
import threading

import stripe

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
            self.requests.clear()

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

    def _sweep(self) -> None:
        while not self._stop.wait(self.sweep_interval):
            self.store.expire_due()
