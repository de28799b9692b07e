"""Stripe-shaped API errors: the `{"error": {...}}` body and its HTTP status."""

from __future__ import annotations

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error the sandbox answers with, in the shape stripe-python turns into its exceptions."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        decline_code: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.decline_code = decline_code
        self.extra = extra or {}

    def to_dict(self) -> dict:
        """The JSON body Stripe sends for this error."""
        error: dict = {"message": self.message, "type": self.type}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        return {"error": error}


def missing_param(param: str) -> StripeError:
    """Stripe's error for a required parameter that was not sent."""
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid_param(param: str, message: str) -> StripeError:
    """Stripe's error for a parameter whose value it cannot accept."""
    return StripeError(message, param=param, code="parameter_invalid_empty")


def unknown_param(param: str) -> StripeError:
    """Stripe's error for a parameter it does not know, which usually means a typo."""
    return StripeError(
        f"Received unknown parameter: {param}", param=param, code="parameter_unknown"
    )


def no_such(kind: str, object_id: str, *, param: str | None = None, status: int = 404):
    """Stripe's error for an id that names nothing."""
    return StripeError(
        f"No such {kind}: '{object_id}'", param=param, code="resource_missing", status=status
    )
