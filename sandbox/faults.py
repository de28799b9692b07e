"""Faults a test can ask for: replies lost on the way back, refunds refused at creation.

Stripe's own failures are rare and unscheduled; these let a test make one happen on the
next matching request, so the app's recovery path runs on purpose.
"""

from __future__ import annotations

import fnmatch
import threading

from .errors import StripeError

REFUSED_REFUND = "The refund could not be created. Try again later or contact Stripe support."


class Faults:
    """Pending faults, each used up by the requests it matches."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._lost: list[dict] = []
            self._refusals: list[dict] = []

    def lose_replies(self, path: str, count: int = 1, method: str = "POST") -> dict:
        """Apply the next `count` requests to `method path` (fnmatch `*`) but lose the reply."""
        rule = {"method": method.upper(), "path": path, "count": count}
        with self._lock:
            self._lost.append(rule)
        return dict(rule)

    def take_lost_reply(self, method: str, path: str) -> bool:
        """Whether this request's reply is to be lost (using up one from its rule)."""
        with self._lock:
            for rule in self._lost:
                if (
                    rule["count"] > 0
                    and rule["method"] in (method.upper(), "*")
                    and fnmatch.fnmatchcase(path, rule["path"])
                ):
                    rule["count"] -= 1
                    return True
            return False

    def refuse_refunds(
        self, count: int = 1, message: str | None = None, code: str | None = None
    ) -> dict:
        """Refuse the next `count` refund creations with a Stripe error."""
        rule = {"count": count, "message": message or REFUSED_REFUND, "code": code}
        with self._lock:
            self._refusals.append(rule)
        return dict(rule)

    def take_refund_refusal(self) -> StripeError | None:
        """The error to refuse this refund with, if one is pending."""
        with self._lock:
            for rule in self._refusals:
                if rule["count"] > 0:
                    rule["count"] -= 1
                    return StripeError(rule["message"], code=rule["code"])
            return None
