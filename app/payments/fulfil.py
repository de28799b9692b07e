"""Moving donations forward from what Stripe says. Every function here is idempotent.

Only a verified webhook or a server-side retrieve may call these; never the browser's word."""

import logging

from sqlalchemy import select

from app import audit, mail, totals
from app.database import begin_write
from app.extensions import db
from app.models import DisputeStatus, Donation, DonationStatus, utcnow
from app.money import format_pence

log = logging.getLogger(__name__)

_DISPUTE_RANK = {
    DisputeStatus.NONE: 0,
    DisputeStatus.OPEN: 1,
    DisputeStatus.WON: 2,
    DisputeStatus.LOST: 2,
}


def lock_donation(donation_id) -> Donation | None:
    """Load a donation for changing it, holding its row (or SQLite's write lock) until commit."""
    try:
        donation_id = int(donation_id)
    except (TypeError, ValueError):
        return None
    if not 0 < donation_id < 2**31:  # no such row, and a bigger number overflows the column
        return None
    return db.session.scalar(select(Donation).where(Donation.id == donation_id).with_for_update())


def donation_id_of(stripe_object) -> str | None:
    """Our donation id from a Checkout Session, PaymentIntent or Charge's metadata."""
    metadata = getattr(stripe_object, "metadata", None)
    metadata = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata or {})
    return metadata.get("donation_id") or getattr(stripe_object, "client_reference_id", None)


def fulfil_checkout(session) -> Donation | None:
    """Apply a Checkout Session's state to its donation: paid, processing, or expired.

    The caller has begun a write transaction and commits afterwards."""
    donation = lock_donation(donation_id_of(session))
    if donation is None:
        return None
    if session.status == "complete" and session.payment_status in ("paid", "no_payment_required"):
        advance(donation, DonationStatus.PAID, session)
    elif session.status == "complete":
        advance(donation, DonationStatus.PROCESSING, session)
    elif session.status == "expired":
        advance(donation, DonationStatus.EXPIRED, session)
    return donation


def advance(donation: Donation, status: DonationStatus, session=None) -> bool:
    """Move a donation to a later status (never back); the totals and emails follow."""
    if not donation.can_move_to(status):
        return False
    with totals.tracking(donation):
        donation.status = status
        if session is not None:
            donation.stripe_session_id = donation.stripe_session_id or session.id
            intent = getattr(session, "payment_intent", None)
            if isinstance(intent, str):
                donation.stripe_payment_intent_id = intent
        if status == DonationStatus.PAID:
            donation.paid_at = utcnow()
    if status == DonationStatus.PAID:
        _queue_thanks(donation)
    return True


def record_refund(donation: Donation, refunded_pence: int, actor=None, reason: str = "") -> bool:
    """Record the cumulative refunded amount (Stripe's, or an organiser's for cash); a late,
    smaller figure changes nothing. The donor is told by email once the money has moved."""
    if refunded_pence <= donation.refunded_pence:
        return False
    before = donation.refunded_pence
    with totals.tracking(donation):
        donation.refunded_pence = refunded_pence
    audit.record(
        "refund.recorded",
        actor=actor,
        donation=donation,
        before_pence=before,
        after_pence=refunded_pence,
        reason=reason,
    )
    _queue_refund_notice(donation, refunded_pence - before)
    return True


def record_dispute(donation: Donation, dispute_status: DisputeStatus) -> bool:
    """Open or close a dispute; a late 'created' after 'closed' does not reopen it."""
    if _DISPUTE_RANK[dispute_status] <= _DISPUTE_RANK[donation.dispute_status]:
        return False
    held_before = donation.contribution().disputed_pence
    with totals.tracking(donation):
        donation.dispute_status = dispute_status
    audit.record(
        f"dispute.{dispute_status.value}",
        donation=donation,
        before_pence=held_before,
        after_pence=donation.contribution().disputed_pence,
    )
    return True


def reconcile(retrieve) -> dict[str, int]:
    """Ask Stripe about every donation still waiting for a webhook, and fix each one."""
    waiting = db.session.scalars(
        select(Donation.id).where(
            Donation.status.in_([DonationStatus.PENDING, DonationStatus.PROCESSING]),
            Donation.stripe_session_id.is_not(None),
        )
    ).all()
    outcome = {"checked": 0, "paid": 0, "expired": 0, "unchanged": 0}
    for donation_id in waiting:
        session_id = db.session.get(Donation, donation_id).stripe_session_id
        db.session.commit()
        session = retrieve(session_id)
        begin_write()
        donation = fulfil_checkout(session)
        status = donation.status if donation is not None else None
        db.session.commit()
        outcome["checked"] += 1
        key = {DonationStatus.PAID: "paid", DonationStatus.EXPIRED: "expired"}.get(status)
        outcome[key or "unchanged"] += 1
    return outcome


def _queue_refund_notice(donation: Donation, refunded_now: int) -> None:
    from app.events.service import get_event

    if not donation.donor_email:
        return
    event = get_event()
    mail.queue(
        donation.donor_email,
        f"Your refund from {event.charity_name}",
        "refund",
        donation=donation,
        event=event,
        refunded=format_pence(refunded_now),
        refunded_in_all=format_pence(donation.refunded_pence),
        kept=format_pence(donation.net_pence),
        amount=format_pence(donation.amount_pence),
    )


def _queue_thanks(donation: Donation) -> None:
    from app.donations.gift_aid import declaration_text
    from app.events.service import get_event

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
        mail.queue(
            donation.donor_email,
            f"Thank you for your donation to {event.charity_name}",
            "receipt",
            **context,
        )
    if page is not None:
        mail.queue(
            page.participant.email,
            f"New donation on your page: {context['amount']}",
            "new_donation",
            **context,
        )
