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


def webhook_secret() -> str:
    """STRIPE_WEBHOOK_SECRET, or one made up once and kept in instance/ so restarts agree."""
    if os.environ.get("STRIPE_WEBHOOK_SECRET"):
        return os.environ["STRIPE_WEBHOOK_SECRET"]
    path = INSTANCE / "dev-webhook-secret"
    if not path.exists():
        INSTANCE.mkdir(exist_ok=True)
        path.write_text("whsec_dev_" + secrets.token_hex(16))
    return path.read_text().strip()


def main() -> None:
    """Start everything the demo needs, then serve the site until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    args = parser.parse_args()
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env")
    os.environ["STRIPE_WEBHOOK_SECRET"] = webhook_secret()
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{args.port}")
    from app import create_app

    app = create_app()
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

        catcher = mailcatcher.start(app.config["MAIL_PORT"], INSTANCE / "mail")
        stops.append(catcher.stop)
        _say(f"Mail catcher: 127.0.0.1:{app.config['MAIL_PORT']}, copies in instance/mail/")
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
    from app.mail import send_due

    while True:
        time.sleep(15)
        with app.app_context():
            send_due()


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the console is this tool's interface


if __name__ == "__main__":
    main()
