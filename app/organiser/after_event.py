"""The one message after the event: what was raised (Gift Aid included), what it will do, a
photo; previewed, tried on the organiser, then sent once to every consenting donor and every
participant through the outbox, throttled (MAIL_BULK_PER_SECOND).

Sending twice is impossible: starting a send is one UPDATE that only the first can win, and
each address has at most one delivery row (a unique constraint), so a donor who gave five
times, under five spellings of their address, gets one email."""

from dataclasses import dataclass
from typing import IO

from flask import render_template
from flask_login import current_user
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from app import mailing, outbox
from app.database import begin_write
from app.events.service import event_progress, get_event
from app.extensions import db
from app.images import service as image_store
from app.mailing.links import non_service_headers, unsubscribe_link
from app.models import (
    EVENT_ID,
    AfterEventDelivery,
    AfterEventMessage,
    Donation,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from app.pages import photos
from app.urls import absolute_url

TEMPLATE = "after_event"
SUBJECT_MAX, BODY_MAX, ALT_MAX = 150, 5000, 200


class AlreadySent(Exception):
    """The message has been sent (or is being sent) already: it never goes twice."""


@dataclass(frozen=True)
class Recipient:
    """One address the message goes to, and the kind of email it is for them."""

    email: str
    kind: str  # "participant_news" for participants, "event_news" for donors


@dataclass(frozen=True)
class Counts:
    """Where the copies are: sent, waiting their turn, and failed (to be retried)."""

    sent: int = 0
    waiting: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """Every copy queued."""
        return self.sent + self.waiting + self.failed

    @property
    def done(self) -> bool:
        """Nothing left to send."""
        return self.waiting == 0 and self.failed == 0

    @property
    def etag(self) -> str:
        """Changes whenever a count does (the status partial's ETag)."""
        return f"after-event-{self.sent}-{self.waiting}-{self.failed}"


def message() -> AfterEventMessage | None:
    """The event's message, draft or sent (None before one is written)."""
    return db.session.scalar(
        select(AfterEventMessage).where(AfterEventMessage.event_id == EVENT_ID)
    )


def save_draft(
    subject: str,
    body: str,
    *,
    photo: IO[bytes] | None = None,
    photo_alt: str = "",
    remove_photo: bool = False,
) -> AfterEventMessage:
    """Write or change the draft (raises AlreadySent once sent; PhotoError for a bad photo)."""
    begin_write()
    draft = message()
    if draft is not None and draft.sent_at is not None:
        db.session.rollback()
        raise AlreadySent
    if draft is None:
        draft = AfterEventMessage(event_id=EVENT_ID, subject=subject, body=body)
        db.session.add(draft)
    draft.subject, draft.body, draft.updated_at = subject, body, utcnow()
    old = draft.photo_sha256
    if photo is not None:
        draft.photo = image_store.store(photos.clean_jpeg(photo))
    elif remove_photo:
        draft.photo = None
    if draft.photo_sha256 is not None:
        draft.photo_alt = photo_alt or draft.photo_alt
    else:
        draft.photo_alt = ""
    db.session.flush()
    if old and old != draft.photo_sha256:
        image_store.release(old)
    db.session.commit()
    return draft


def figures(draft: AfterEventMessage) -> tuple[int, int]:
    """(raised, Gift Aid) in pence: as sent once sent, else the totals now (one read)."""
    if draft.raised_pence is not None:
        return draft.raised_pence, draft.gift_aid_pence or 0
    progress = event_progress()
    return (progress.raised_pence, progress.gift_aid_pence) if progress else (0, 0)


def recipients() -> list[Recipient]:
    """Every participant (unless they said no) and every donor who gave and said yes, each
    address once, however it was typed and however many times they gave."""
    chosen: dict[str, Recipient] = {}
    participants = db.session.scalars(select(User.email).where(User.role == Role.PARTICIPANT))
    participant_addresses = {mailing.normalise(email) for email in participants}
    for address in participant_addresses:
        if address and mailing.may_email(address, "participant_news"):
            chosen[address] = Recipient(address, "participant_news")
    donors = db.session.scalars(
        select(Donation.donor_email)
        .where(Donation.paid_at.is_not(None), Donation.donor_email != "")
        .distinct()
    )
    for email in donors:
        address = mailing.normalise(email)
        if address in chosen or address in participant_addresses:
            continue  # a participant who gave too: their "no" as a participant stands
        if mailing.may_email(address, "event_news"):
            chosen[address] = Recipient(address, "event_news")
    return sorted(chosen.values(), key=lambda r: r.email)


def _context(draft: AfterEventMessage, recipient: Recipient) -> dict:
    raised, gift_aid = figures(draft)
    photo_url = (
        absolute_url("images.show_image", sha256=draft.photo_sha256) if draft.photo_sha256 else ""
    )
    return {
        "event": get_event(),
        "body": draft.body,
        "raised_pence": raised,
        "gift_aid_pence": gift_aid,
        "photo_url": photo_url,
        "photo_alt": draft.photo_alt,
        "as_participant": recipient.kind == "participant_news",
    }


def preview_text(draft: AfterEventMessage, email: str) -> str:
    """The plain-text email as a donor will read it (the link in it is the organiser's own)."""
    recipient = Recipient(mailing.normalise(email), "event_news")
    return render_template(
        f"mail/{TEMPLATE}.txt",
        unsubscribe_url=unsubscribe_link(email, "event_news"),
        unsubscribe_label=mailing.KINDS["event_news"].label,
        **_context(draft, recipient),
    )


def send_test(draft: AfterEventMessage, organiser: User) -> None:
    """One copy to the organiser, exactly as donors will get it, marked as a test."""
    recipient = Recipient(mailing.normalise(organiser.email), "event_news")
    outbox.queue(
        organiser.email,
        f"[Test] {draft.subject}",
        TEMPLATE,
        headers=non_service_headers(organiser.email, "event_news"),
        unsubscribe_url=unsubscribe_link(organiser.email, "event_news"),
        unsubscribe_label=mailing.KINDS["event_news"].label,
        **_context(draft, recipient),
    )
    db.session.commit()


def send(organiser: User) -> int:
    """Start sending: fix the figures, queue one copy per recipient (bulk, throttled), all in
    one transaction. Returns how many were queued; raises AlreadySent for a second send."""
    begin_write()
    draft = message()
    if draft is None:
        db.session.rollback()
        raise LookupError("there is no message to send")
    raised, gift_aid = figures(draft)
    started = db.session.execute(
        update(AfterEventMessage)
        .where(AfterEventMessage.id == draft.id, AfterEventMessage.sent_at.is_(None))
        .values(
            sent_at=utcnow(), sent_by_id=organiser.id, raised_pence=raised, gift_aid_pence=gift_aid
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if started != 1:
        db.session.rollback()
        raise AlreadySent
    db.session.refresh(draft)
    queued = 0
    for recipient in recipients():
        copy = mailing.queue_non_service(
            recipient.email,
            draft.subject,
            TEMPLATE,
            recipient.kind,
            bulk=True,
            **_context(draft, recipient),
        )
        if copy is None:
            continue
        db.session.flush()
        db.session.add(
            AfterEventDelivery(
                message_id=draft.id, email=recipient.email, outbox_message_id=copy.id
            )
        )
        queued += 1
    try:
        db.session.commit()
    except IntegrityError:
        # Another send got in first (it can only be the same message): nothing of ours stays.
        db.session.rollback()
        raise AlreadySent from None
    return queued


def counts(draft: AfterEventMessage | None) -> Counts:
    """How many copies are sent, waiting and failed (retried by the outbox), in one query."""
    if draft is None or draft.sent_at is None:
        return Counts()
    sent = func.count(OutboxMessage.sent_at)
    failed = func.sum(
        case((OutboxMessage.sent_at.is_(None) & (OutboxMessage.attempts > 0), 1), else_=0)
    )
    waiting = func.sum(
        case((OutboxMessage.sent_at.is_(None) & (OutboxMessage.attempts == 0), 1), else_=0)
    )
    row = db.session.execute(
        select(sent, waiting, failed)
        .select_from(AfterEventDelivery)
        .join(OutboxMessage, OutboxMessage.id == AfterEventDelivery.outbox_message_id)
        .where(AfterEventDelivery.message_id == draft.id)
    ).one()
    return Counts(sent=row[0] or 0, waiting=row[1] or 0, failed=row[2] or 0)


def photo_audience(sha256: str) -> str | None:
    """ "public" once the sent message shows this photo; "private" (organisers) while a draft
    does; None if the message does not show it."""
    draft = db.session.scalar(
        select(AfterEventMessage).where(AfterEventMessage.photo_sha256 == sha256)
    )
    if draft is None:
        return None
    if draft.sent_at is not None:
        return "public"
    return "private" if getattr(current_user, "is_organiser", False) else None
