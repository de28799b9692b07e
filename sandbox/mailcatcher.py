"""A local SMTP server for development: prints each email and keeps a copy in instance/mail/."""

import logging
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class MailCatcher:
    """aiosmtpd handler that shows what the site would have sent, and never sends it anywhere."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=default_policy)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.folder / f"{stamp}.eml"
        path.write_bytes(envelope.content)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        print(  # noqa: T201 - showing the mail on the console is the point
            f"\n--- mail to {message['To']}: {message['Subject']} (saved as {path})\n{text}---",
            flush=True,
        )
        return "250 Message accepted for delivery"


def start(port: int, folder: Path) -> Controller:
    """Start the mail catcher on 127.0.0.1:`port` in a background thread."""
    # aiosmtpd logs every SMTP command at INFO; the catcher prints each email itself.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(MailCatcher(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
