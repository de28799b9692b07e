"""Email that is not a service message: say-so, unsubscribe links and headers, sending.

Receipts, refund notices and account emails are service messages and go through
`app.outbox.queue` as before. Everything else goes through `queue_non_service`, which asks
`may_email` first and adds the unsubscribe link and headers (RFC 2369, RFC 8058)."""

from app.mailing.consent import KINDS, may_email, normalise, record
from app.mailing.links import non_service_headers, queue_non_service, unsubscribe_link

__all__ = [
    "KINDS",
    "may_email",
    "non_service_headers",
    "normalise",
    "queue_non_service",
    "record",
    "unsubscribe_link",
]
