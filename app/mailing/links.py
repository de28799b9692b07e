"""Unsubscribe links and headers, and queueing an email that is not a service message."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app import outbox
from app.mailing.consent import ALL, KINDS, may_email, normalise
from app.models import OutboxMessage
from app.urls import absolute_url

_SALT = "unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        current_app.secret_key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def unsubscribe_token(email: str, kind: str) -> str:
    """A token naming one address and one kind, signed with the site's secret: it cannot be
    guessed, and changing the address in it breaks the signature. It never expires (an old
    email's link must still work)."""
    if kind != ALL and kind not in KINDS:
        raise ValueError(f"unknown kind of email {kind!r}")
    return _serializer().dumps([normalise(email), kind])


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """The (address, kind) a token names, or None if it is forged, cut short or not ours."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, str) for x in data)):
        return None
    address, kind = data
    if not address or (kind != ALL and kind not in KINDS):
        return None
    return address, kind


def unsubscribe_link(email: str, kind: str) -> str:
    """The public https address that unsubscribes this address from this kind, no log-in."""
    return absolute_url("mailing.unsubscribe", token=unsubscribe_token(email, kind))


def non_service_headers(email: str, kind: str = "event_news") -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058): mail clients show an
    "Unsubscribe" button that POSTs to the link. Only the https link: nobody reads replies to
    a mailto address here, so offering one would promise what we cannot do at once."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_link(email, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


class MissingUnsubscribeLink(Exception):
    """A non-service template that does not show its unsubscribe link: a bug, never sent."""


def queue_non_service(
    to: str, subject: str, template: str, kind: str, *, bulk: bool = False, **context
) -> OutboxMessage | None:
    """Queue an email that is not a service message, if `may_email(to, kind)`; None if not.

    The template gets `unsubscribe_url` and must show it (include "mail/_unsubscribe.txt");
    the headers go with it. `bulk` marks one copy of many (sent after service mail, throttled)."""
    if not may_email(to, kind):
        return None
    url = unsubscribe_link(to, kind)
    message = outbox.queue(
        to,
        subject,
        template,
        headers=non_service_headers(to, kind),
        bulk=bulk,
        unsubscribe_url=url,
        unsubscribe_label=KINDS[kind].label,
        **context,
    )
    if url not in message.body_text:
        raise MissingUnsubscribeLink(f"mail/{template}.txt does not show its unsubscribe link")
    return message
