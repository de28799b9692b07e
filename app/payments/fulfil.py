"""Moving donations forward from what Stripe says. Every function here is idempotent.

Only a verified webhook or a server-side retrieve may call these; never the browser's word.
The money counted for a donation is what Stripe took (`amount_total` of each paid Checkout
Session); when that disagrees with the form, or Stripe took it twice, the donation is held for
an organiser and counts nothing until they decide."""

import logging
from datetime import datetime

from sqlalchemy import select

from app import audit, outbox, totals
from app.extensions import db
from app.models import CheckoutSession, Donation, DonationSource, DonationStatus, utcnow
from app.money import format_pence
from app.payments.facts import SessionFacts

log = logging.getLogger(__name__)

_SESSION_RANK = {"open": 0, "complete": 1, "expired": 1}


def lock_donation(donation_id) -> Donation | None:
    """Load a donation for changing it, holding its row (or SQLite's write lock) until commit."""
    try:
        donation_id = int(donation_id)
    except (TypeError, ValueError):
        return None
    if not 0 < donation_id < 2**31:  # no such row, and a bigger number overflows the column
        return None
    return db.session.scalar(select(Donation).where(Donation.id == donation_id).with_for_update())


def remember_session(donation: Donation, facts: SessionFacts) -> CheckoutSession:
    """Keep a Checkout Session made for this donation (the caller commits)."""
    record = db.session.get(CheckoutSession, facts.id)
    if record is None:
        record = CheckoutSession(
            id=facts.id,
            donation_id=donation.id,
            amount_total_pence=facts.amount_total,
            status=facts.status,
            payment_status=facts.payment_status,
            payment_intent_id=facts.payment_intent_id,
            created_at=facts.created,
        )
        db.session.add(record)
        db.session.flush()
    elif _SESSION_RANK[facts.status] > _SESSION_RANK.get(record.status, 0):
        record.status = facts.status
    if facts.status == "complete" and record.payment_status != "failed":
        record.payment_status = facts.payment_status
    record.payment_intent_id = record.payment_intent_id or facts.payment_intent_id
    return record


def apply_session(facts: SessionFacts, occurred_at: datetime, *, failed=False) -> Donation | None:
    """Apply a Checkout Session's state to its donation: paid, processing, failed or expired.

    `occurred_at` is Stripe's time for it (the event's `created`); a charge time that Stripe
    expanded on the session wins. The caller has begun a write transaction and commits."""
    donation = lock_donation(facts.donation_id)
    if donation is None or donation.source != DonationSource.ONLINE:
        return None
    record = remember_session(donation, facts)
    if record.donation_id != donation.id:
        log.warning(
            "session %s belongs to donation %s, not %s", facts.id, record.donation_id, donation.id
        )
        return None
    if facts.paid:
        _count_payment(donation, record, facts.charged_at or occurred_at)
    elif failed:
        record.payment_status = "failed"
        if _waiting(donation) and not _other_hope(donation, record):
            _move(donation, DonationStatus.FAILED)
    elif facts.processing:
        if donation.status == DonationStatus.PENDING:
            _move(donation, DonationStatus.PROCESSING)
    elif facts.status == "expired" and _waiting(donation) and not _other_hope(donation, record):
        _move(donation, DonationStatus.EXPIRED)
    return donation


def _waiting(donation: Donation) -> bool:
    return donation.status in (DonationStatus.PENDING, DonationStatus.PROCESSING)


def _other_hope(donation: Donation, record: CheckoutSession) -> bool:
    """Another of the donation's sessions may still be paid: an old session's expiry must not
    close a donation whose newer session is open or settling."""
    return (
        db.session.scalar(
            select(CheckoutSession.id).where(
                CheckoutSession.donation_id == donation.id,
                CheckoutSession.id != record.id,
                CheckoutSession.status.in_(["open", "complete"]),
                CheckoutSession.payment_status != "failed",
            )
        )
        is not None
    )


def _move(donation: Donation, status: DonationStatus) -> None:
    if donation.can_move_to(status):
        with totals.tracking(donation):
            donation.status = status


def _count_payment(donation: Donation, record: CheckoutSession, paid_at: datetime) -> None:
    """Count the money Stripe took on one session, once, whatever state the donation is in:
    a payment is never lost, even on a donation an older session's expiry had closed."""
    if record.paid_at is not None:
        return
    first = donation.taken_pence == 0
    expected = donation.amount_pence + donation.fee_cover_pence
    with totals.tracking(donation):
        record.paid_at = paid_at
        donation.taken_pence += record.amount_total_pence
        donation.status = DonationStatus.PAID
        if first:
            donation.paid_at = paid_at
            donation.stripe_payment_intent_id = record.payment_intent_id
            if record.amount_total_pence != expected:
                donation.review_reason = (
                    f"Stripe took {format_pence(record.amount_total_pence)}, but the form "
                    f"said {format_pence(expected)}."
                )
        else:
            donation.review_reason = (
                f"Paid twice: Stripe took {format_pence(record.amount_total_pence)} more on a "
                f"second payment page ({record.id}). Refund one, or count both."
            )
    if donation.held_for_review:
        audit.record(
            "donation.held",
            donation=donation,
            after_pence=donation.taken_pence,
            reason=donation.review_reason,
            detail=record.id,
        )
        log.warning("donation %s held for review: %s", donation.id, donation.review_reason)
    elif first:
        queue_thanks(donation)


def count_as_taken(donation: Donation, organiser, note: str) -> None:
    """An organiser's decision on a held donation: count what Stripe took. The gift becomes
    what was taken less any fee cover, so the totals equal Stripe's figure from now on."""
    before = donation.contribution().raised_pence
    with totals.tracking(donation):
        # The fee cover stays only if Stripe took more than it; a gift is never 0p (a session
        # Stripe calls paid has taken at least its minimum charge).
        fee = donation.fee_cover_pence if donation.taken_pence > donation.fee_cover_pence else 0
        donation.fee_cover_pence = fee
        donation.amount_pence = max(1, donation.taken_pence - fee)
        reason, donation.review_reason = donation.review_reason, ""
    audit.record(
        "donation.review_decided",
        actor=organiser,
        donation=donation,
        before_pence=before,
        after_pence=donation.contribution().raised_pence,
        reason=note,
        detail=reason,
    )
    if donation.receipt_queued_at is None:
        queue_thanks(donation)


def queue_thanks(donation: Donation) -> None:
    """The donor's receipt and the participant's notice, once per donation."""
    from app.donations.gift_aid import declaration_text
    from app.events.service import get_event

    if donation.receipt_queued_at is not None:
        return
    donation.receipt_queued_at = utcnow()
    event = get_event()
    page = donation.sponsor_page
    context = {
        "donation": donation,
        "event": event,
        "page": page,
        "amount": format_pence(donation.amount_pence),
        "charged": format_pence(donation.amount_pence + donation.fee_cover_pence),
        "declaration": declaration_text(donation.amount_pence, event.charity_name),
    }
    if donation.donor_email:
        outbox.queue(
            donation.donor_email,
            f"Thank you for your donation to {event.charity_name}",
            "receipt",
            **context,
        )
    if page is not None:
        outbox.queue(
            page.participant.email,
            f"New donation on your page: {context['amount']}",
            "new_donation",
            **context,
        )
