"""`make run`: the site, the Stripe sandbox and a mail catcher in one process, no keys needed.

python -m sandbox.devserver --port 5000
"""

import argparse
import os
import secrets
import threading
import time
from pathlib import Path

from werkzeug.serving import run_simple

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
MAIL_DIR = INSTANCE / "mail"


def webhook_secret() -> str:
    """STRIPE_WEBHOOK_SECRET, or one made up once and kept in instance/ so restarts agree."""
    if os.environ.get("STRIPE_WEBHOOK_SECRET"):
        return os.environ["STRIPE_WEBHOOK_SECRET"]
    path = INSTANCE / "dev-webhook-secret"
    if not path.exists():
        INSTANCE.mkdir(exist_ok=True)
        path.write_text("whsec_dev_" + secrets.token_hex(16))
    return path.read_text().strip()


# The sandbox and the mail catcher keep their distance from the site's port, so PORT=5300 and
# the default 5000 can run side by side: 5000 -> 12111 and 1025, 5300 -> 12411 and 1325.
SANDBOX_OFFSET = 12111 - 5000
MAIL_OFFSET = 1025 - 5000


def helper_ports(port: int, environ=os.environ) -> dict[str, int]:
    """STRIPE_SANDBOX_PORT and MAIL_PORT for a site on `port`: as set, else moved with it."""
    ports = {}
    for name, offset in (("STRIPE_SANDBOX_PORT", SANDBOX_OFFSET), ("MAIL_PORT", MAIL_OFFSET)):
        if environ.get(name):
            ports[name] = int(environ[name])
            continue
        ports[name] = port + offset
        if not 1024 <= ports[name] <= 65535:
            raise SystemExit(
                f"PORT={port} would put {name} at {ports[name]}, outside 1024-65535: "
                f"set {name} yourself, or choose a PORT between 3999 and 53424."
            )
    return ports


def main() -> None:
    """Start everything the demo needs, then serve the site until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    args = parser.parse_args()
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env")
    os.environ["STRIPE_WEBHOOK_SECRET"] = webhook_secret()
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{args.port}")
    os.environ.update({name: str(value) for name, value in helper_ports(args.port).items()})
    from app import create_app

    app = create_app(env="development")
    stops = []
    if not app.config["STRIPE_SECRET_KEY"]:
        from sandbox import server

        stripe = server.start(
            port=app.config["STRIPE_SANDBOX_PORT"],
            webhook_url=f"http://127.0.0.1:{args.port}/stripe/webhook",
            webhook_secret=os.environ["STRIPE_WEBHOOK_SECRET"],
        )
        stops.append(stripe.stop)
        _say(f"Stripe sandbox (TEST MODE): {stripe.url}")
    if app.config["MAIL_SERVER"] in ("127.0.0.1", "localhost") and not app.config["MAIL_USERNAME"]:
        from sandbox import mailcatcher

        catcher = mailcatcher.start(app.config["MAIL_PORT"], MAIL_DIR)
        stops.append(catcher.stop)
        _say(
            f"Mail catcher: 127.0.0.1:{app.config['MAIL_PORT']}; the emails the demo sends are "
            f"saved in {MAIL_DIR.relative_to(ROOT)}/ (and printed here)"
        )
    threading.Thread(target=_send_outbox_forever, args=(app,), daemon=True).start()
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    _say(f"Plunge: http://127.0.0.1:{args.port}  (webhook secret {secret})")
    try:
        run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)
    finally:
        for stop in stops:
            stop()


def _send_outbox_forever(app) -> None:
    # Retry mail that failed (say, before the catcher was up), as the production service does.
    from app.outbox import send_due

    while True:
        time.sleep(15)
        with app.app_context():
            send_due()


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the console is this tool's interface


if __name__ == "__main__":
    main()
