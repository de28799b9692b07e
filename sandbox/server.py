"""The sandbox as an HTTP server: a Flask app, a start-in-a-thread handle for tests, and `serve`."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from . import api, checkout_page, controls
from .core import Sandbox
from .errors import StripeError

DEFAULT_PORT = 12111
log = logging.getLogger(__name__)


def create_app(sandbox: Sandbox) -> Flask:
    """A Flask app serving one sandbox: the /v1 API, the hosted page and the test controls."""
    app = Flask(__name__)
    app.extensions["stripe_sandbox"] = sandbox
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.register_blueprint(api.bp)
    app.register_blueprint(controls.bp)
    app.register_blueprint(checkout_page.bp)

    @app.errorhandler(HTTPException)
    def unrecognised(error: HTTPException):
        """Unknown /v1 URLs get Stripe's JSON answer; everything else the plain page."""
        if not request.path.startswith(("/v1/", "/_sandbox/")) or error.code not in (404, 405):
            return error
        message = (
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
        return api.json_response(StripeError(message).to_dict(), 404)

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):  # tests need no access log
        pass


class SandboxHandle:
    """A sandbox running in a background thread: its base `url`, its state, and `stop()`."""

    def __init__(self, sandbox: Sandbox, server, thread: threading.Thread):
        self.sandbox = sandbox
        self._server = server
        self._thread = thread
        self.port: int = server.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Shut the server and its background threads down."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.sandbox.stop()

    def reset(self) -> None:
        """Forget every session, event and delivery."""
        self.sandbox.reset()

    def configure_webhooks(self, url: str | None, secret: str | None) -> None:
        """Send future events to this endpoint, signed with this secret."""
        self.sandbox.dispatcher.configure(url, secret)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery (retries included) has finished."""
        return self.sandbox.dispatcher.wait_idle(timeout)

    @property
    def requests(self) -> list[dict]:
        """Every /v1 request so far and its answer (method, path, params, status, response)."""
        return list(self.sandbox.requests)

    def events(self) -> list[dict]:
        """Every event, oldest first, with its delivery attempts."""
        return self.sandbox.event_report()

    def lose_replies(self, path: str, count: int = 1, method: str = "POST") -> dict:
        """Apply the next `count` matching requests (fnmatch `*` in path) but lose the reply."""
        return self.sandbox.faults.lose_replies(path, count, method)

    def refuse_refunds(
        self, count: int = 1, message: str | None = None, code: str | None = None
    ) -> dict:
        """Refuse the next `count` refund creations with a Stripe error."""
        return self.sandbox.faults.refuse_refunds(count, message, code)

    def now(self) -> int:
        """The sandbox's clock."""
        return self.sandbox.store.now()

    def advance_clock(self, seconds: int) -> int:
        """Move the sandbox's clock on; expiry, refund changes and late webhooks fall due."""
        return self.sandbox.store.advance_clock(seconds)

    def set_clock(self, now: int) -> int:
        """Set the sandbox's clock to an absolute unix time, past or future."""
        return self.sandbox.store.set_clock(now)

    def late_webhooks(self, seconds: int, type: str = "*", count: int = 1) -> dict:
        """Hold the next matching events' deliveries until the clock has moved `seconds` on."""
        return self.sandbox.dispatcher.late_next(seconds, type, count)

    def settle_refund(self, refund_id: str, outcome: str = "succeeded") -> dict:
        """Give a refund its later status now: `succeeded`, `failed` or `canceled`."""
        return self.sandbox.settle_refund(refund_id, outcome)

    def open_dispute(self, target_id: str, reason: str = "fraudulent", amount=None) -> dict:
        """Open a dispute on a charge or payment intent."""
        return self.sandbox.open_dispute(target_id, reason=reason, amount=amount)

    def move_dispute(self, dispute_id: str, status: str) -> dict:
        """Move an open dispute on (`under_review`, `warning_under_review`, `needs_response`)."""
        return self.sandbox.move_dispute(dispute_id, status)

    def close_dispute(self, dispute_id: str, outcome: str) -> dict:
        """Close a dispute `won`, `lost`, `prevented` or `warning_closed`."""
        return self.sandbox.close_dispute(dispute_id, outcome)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    backoff: float = 0.5,
    max_attempts: int = 8,
    sweep_interval: float = 1.0,
    public_url: str | None = None,
    api_version: str | None = None,
    quiet: bool = True,
) -> SandboxHandle:
    """Start a sandbox in a background thread (port 0: any free port) and return its handle."""
    sandbox = Sandbox(
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        backoff=backoff,
        max_attempts=max_attempts,
        sweep_interval=sweep_interval,
        public_url=public_url,
        api_version=api_version,
    )
    handler = _QuietHandler if quiet else WSGIRequestHandler
    server = make_server(host, port, create_app(sandbox), threaded=True, request_handler=handler)
    sandbox.start()
    # A short poll keeps `stop()` quick, which matters when every test starts its own sandbox.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-http",
        daemon=True,
    )
    thread.start()
    return SandboxHandle(sandbox, server, thread)


def default_port() -> int:
    """STRIPE_SANDBOX_PORT, or 12111."""
    return int(os.environ.get("STRIPE_SANDBOX_PORT") or DEFAULT_PORT)


def serve(port: int, host: str = "127.0.0.1", **options) -> None:
    """Run the sandbox in the foreground until interrupted (`python -m sandbox`)."""
    handle = start(port, host=host, quiet=False, **options)
    log.info("Stripe sandbox (TEST MODE) listening on %s", handle.url)
    try:
        handle._thread.join()
    except KeyboardInterrupt:
        log.info("Stopping the Stripe sandbox")
    finally:
        handle.stop()
