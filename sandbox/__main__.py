"""`python -m sandbox`: run the local Stripe-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import secrets

from .server import default_port, serve

log = logging.getLogger("sandbox")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port(), help="default 12111")
    parser.add_argument("--webhook-url", help="where to POST signed events")
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        help="signing secret (default: $STRIPE_WEBHOOK_SECRET, else a new one)",
    )
    parser.add_argument("--backoff", type=float, default=0.5, help="first retry delay, seconds")
    parser.add_argument("--max-attempts", type=int, default=8, help="delivery attempts per event")
    parser.add_argument("--public-url", help="base URL for hosted pages, if not host:port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = args.webhook_secret
    if args.webhook_url and not secret:
        # Like `stripe listen`: make one and say it, so the app can be given the same.
        secret = "whsec_" + secrets.token_hex(24)
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
