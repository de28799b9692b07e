"""One pace for bulk mail across every process: MAIL_BULK_PER_SECOND, so a shared SMTP relay
is never flooded by the message after the event. A slot is one atomic UPDATE of one row, so
two senders (a web worker's after-request send and the outbox service) never both take it."""

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import OutboxThrottle, utcnow

ROW = 1


def gap() -> timedelta:
    """The time between two bulk messages (none when the setting is 0: no throttle)."""
    rate = float(current_app.config["MAIL_BULK_PER_SECOND"])
    return timedelta(seconds=1 / rate) if rate > 0 else timedelta(0)


def take_slot(wait: bool = False) -> bool:
    """Take the right to send one bulk message now. With `wait`, sleep until the next slot;
    without, False when the slot is not free yet (the caller leaves bulk mail for later)."""
    between = gap()
    if not between:
        return True
    while True:
        now = utcnow()
        taken = db.session.execute(
            update(OutboxThrottle)
            .where(OutboxThrottle.id == ROW, OutboxThrottle.next_bulk_at <= now)
            .values(next_bulk_at=now + between)
            .execution_options(synchronize_session=False)
        ).rowcount
        next_at = (
            None
            if taken
            else db.session.scalar(
                select(OutboxThrottle.next_bulk_at).where(OutboxThrottle.id == ROW)
            )
        )
        if not taken and next_at is None:
            taken = _first_slot(now + between)
        db.session.commit()
        if taken:
            return True
        if not wait:
            return False
        if next_at is not None:
            time.sleep(
                min(max((next_at - utcnow()).total_seconds(), 0.001), between.total_seconds())
            )


def _first_slot(next_at) -> bool:
    """Make the row, taking the first slot; False if another process made it first."""
    try:
        with db.session.begin_nested():
            db.session.add(OutboxThrottle(id=ROW, next_bulk_at=next_at))
        return True
    except IntegrityError:
        return False
