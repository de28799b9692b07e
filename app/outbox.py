"""Email through a transactional outbox: queue in the caller's transaction, send after commit.

SMTP being down loses nothing: a failed message stays in the outbox and is retried with
backoff, by the next request that commits mail or by `flask --app wsgi mail send-outbox`."""

import json
import logging
import smtplib
import socket
from contextlib import contextmanager, suppress
from datetime import timedelta
from email.utils import formataddr, parseaddr

import click
import css_inline
from flask import Flask, current_app, g, render_template
from flask.cli import AppGroup
from flask_mail import Message
from jinja2 import TemplateNotFound
from sqlalchemy import or_, select, update

from app.database import begin_write
from app.extensions import db, mail
from app.mailing import throttle
from app.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
mail_cli = AppGroup("mail", help="The email outbox.")
# The layout's <style> goes into style="" attributes (many mail clients drop <style>); only
# @media rules stay behind. Nothing is ever fetched: an email links no stylesheet.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def queue(
    to: str,
    subject: str,
    template: str,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
    **context,
) -> OutboxMessage:
    """Add an email to the outbox in the current transaction; it is sent once that commits.

    Renders `templates/mail/<template>.txt` and, if present, `<template>.html`; `headers` are
    sent with it (e.g. List-Unsubscribe). A `bulk` message (one of many copies) waits behind
    service mail and goes at most MAIL_BULK_PER_SECOND across every sending process."""
    text, html = render(template, subject, **context)
    message = OutboxMessage(
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=json.dumps(headers) if headers else "",
        bulk=bulk,
    )
    db.session.add(message)
    g.outbox_has_mail = True
    return message


def render(template: str, subject: str, /, **context) -> tuple[str, str]:
    """An email's plain text and its HTML version ("" if `<template>.html` does not exist),
    from the same context, so both say the same; the HTML has its CSS inlined."""
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html = render_template(f"mail/{template}.html", **{"subject": subject, **context})
    except TemplateNotFound as missing:
        if missing.name != f"mail/{template}.html":
            raise  # a template the HTML version uses is missing: a bug, not "no HTML"
        return text, ""
    return text, _INLINER.inline(html)


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try: 30 s, 1 min, 2 min, ... up to an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_due(limit: int = 50, wait_for_bulk: bool = False) -> tuple[int, int]:
    """Send every message that is due; returns (sent, failed). Safe to run in many processes.

    Service mail goes first. Bulk mail goes as the throttle allows: a request's sender takes a
    free slot or leaves the rest for later; the outbox service (`wait_for_bulk`) waits."""
    now = utcnow()
    due = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.bulk)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.bulk, OutboxMessage.id)
        .limit(limit)
    ).all()
    ids = [message_id for message_id, bulk in due]
    bulk_ids = {message_id for message_id, bulk in due if bulk}
    # No read is held open while we send: on SQLite a read that later writes fails at once
    # ("database is locked") if anyone else wrote meanwhile, and the mail would go out twice.
    db.session.commit()
    sent = failed = 0
    for message_id in ids:
        if message_id in bulk_ids and not throttle.take_slot(wait=wait_for_bulk):
            break  # bulk mail is last in the list: the rest waits for the next run
        if not _claim(message_id):
            continue
        outgoing = _to_flask_mail(db.session.get(OutboxMessage, message_id))
        db.session.commit()
        try:
            with _smtp_timeout(current_app.config["MAIL_TIMEOUT_SECONDS"]):
                _deliver(outgoing)
        except Exception as exc:  # noqa: BLE001 - any SMTP failure means "try later"
            begin_write()
            message = db.session.get(OutboxMessage, message_id)
            message.attempts += 1
            message.next_attempt_at = utcnow() + backoff(message.attempts)
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.claimed_until = None
            failed += 1
            # The address is personal data; the id is enough to find the message.
            log.warning("outbox message %s not sent (attempt %s)", message.id, message.attempts)
        else:
            begin_write()
            db.session.get(OutboxMessage, message_id).sent_at = utcnow()
            sent += 1
        db.session.commit()
    return sent, failed


def _deliver(outgoing: Message) -> None:
    """Send one message. Once the server has accepted it, a failure to say goodbye (QUIT, the
    server going away just then) is not a failure: retrying would send it twice."""
    with mail.connect() as connection:
        connection.send(outgoing)
        host, connection.host = connection.host, None  # the goodbye is ours to make, below
    if host is not None:
        with suppress(smtplib.SMTPException, OSError):
            host.quit()


def _claim(message_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return claimed.rowcount == 1


class _Message(Message):
    """Flask-Mail's message, except that text with an HTML version and no attachments is sent
    as a top-level multipart/alternative (text first, as RFC 2046 wants the plainest first):
    Flask-Mail wraps that in a multipart/mixed of one part, which some clients show as an
    attachment. tests/test_mail_html.py checks the shape through a real SMTP server."""

    def _message(self):
        message = super()._message()
        if self.attachments or message.get_content_type() != "multipart/mixed":
            return message
        [alternative] = message.get_payload()
        for header, value in message.items():
            if header.lower() not in {"content-type", "mime-version"}:
                alternative[header] = value
        alternative.policy = message.policy
        return alternative


def _to_flask_mail(message: OutboxMessage) -> Message:
    return _Message(
        subject=message.subject,
        sender=sender(),
        recipients=[message.to_address],
        body=message.body_text,
        html=message.body_html or None,
        extra_headers=json.loads(message.headers) if message.headers else None,
    )


def sender() -> str:
    """MAIL_DEFAULT_SENDER, in the charity's name when it names nobody itself: set to
    abseil@example.org, mail goes from "Carers Voice <abseil@example.org>"."""
    from app.events.service import get_event  # the event's module queues mail through here

    configured = current_app.config["MAIL_DEFAULT_SENDER"]
    name, address = parseaddr(configured)
    event = None if name else get_event()
    return formataddr((event.charity_name, address)) if event else configured


@contextmanager
def _smtp_timeout(seconds: float):
    # Flask-Mail opens smtplib connections without a timeout; a dead server must not hang us.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def init_app(app: Flask) -> None:
    """Send queued mail after the response has gone, once the request's transaction committed."""

    @app.after_request
    def _send_after_response(response):
        if g.pop("outbox_has_mail", False):
            app_obj = current_app._get_current_object()

            def send():
                with app_obj.app_context():
                    try:
                        send_due()
                    except Exception:  # noqa: BLE001 - the outbox keeps it for the next run
                        log.exception("sending the outbox failed; messages stay queued")

            response.call_on_close(send)
        return response

    app.cli.add_command(mail_cli)


@mail_cli.command("send-outbox")
@click.option("--loop", is_flag=True, help="Keep running, sending due mail every 15 seconds.")
def send_outbox_command(loop: bool) -> None:
    """Send every email that is due (retrying failed ones whose backoff has passed)."""
    import time

    while True:
        sent, failed = send_due(limit=500, wait_for_bulk=True)
        waiting = db.session.scalar(
            select(db.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
        )
        click.echo(f"Sent {sent}, failed {failed}, still waiting {waiting}.")
        if not loop:
            break
        time.sleep(15)
