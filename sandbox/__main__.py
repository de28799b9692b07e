"""`python -m sandbox`: run the local Stripe-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse
import logging
import os

from dotenv import find_dotenv, load_dotenv

from .server import default_port, serve

log = logging.getLogger("sandbox")
# Used when no secret is given, so `make sandbox` and `make run` agree without setup.
# Development only: the sandbox never signs anything real.
DEFAULT_WEBHOOK_SECRET = "whsec_plunge_sandbox_not_secret"


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until Ctrl-C."""
    # The same .env as the app, so both sides agree on the port and the webhook secret.
    load_dotenv(find_dotenv(usecwd=True))
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port(), help="default 12111")
    parser.add_argument("--webhook-url", help="where to POST signed events")
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        help=f"signing secret (default: $STRIPE_WEBHOOK_SECRET, else {DEFAULT_WEBHOOK_SECRET})",
    )
    parser.add_argument("--backoff", type=float, default=0.5, help="first retry delay, seconds")
    parser.add_argument("--max-attempts", type=int, default=8, help="delivery attempts per event")
    parser.add_argument("--public-url", help="base URL for hosted pages, if not host:port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = args.webhook_secret
    if args.webhook_url and not secret:
        secret = DEFAULT_WEBHOOK_SECRET
        log.info("No STRIPE_WEBHOOK_SECRET given; signing webhooks with %s", secret)
    serve(
        args.port,
        host=args.host,
        webhook_url=args.webhook_url,
        webhook_secret=secret,
        backoff=args.backoff,
        max_attempts=args.max_attempts,
        public_url=args.public_url,
    )


if __name__ == "__main__":
    main()
