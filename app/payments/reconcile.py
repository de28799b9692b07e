"""`flask stripe reconcile`: compare every recent card donation with Stripe, and fix or flag
each difference, so nothing is lost when a webhook never arrives or arrives wrong.

Per donation: each of its Checkout Sessions (with the charge), every refund and dispute of its
payments. Then every session Stripe made in the window, to find money Stripe took for which
Plunge has no donation. Stripe is asked before each donation's write transaction begins."""

import dataclasses
import logging
from datetime import timedelta

from sqlalchemy import select

from app import payments
from app.database import begin_write
from app.extensions import db
from app.models import CheckoutSession, Donation, DonationSource, ReconcileRun, utcnow
from app.money import format_pence
from app.payments import facts
from app.payments.fulfil import apply_session
from app.payments.reversals import apply_dispute, apply_refund

log = logging.getLogger(__name__)


def reconcile(days: int) -> ReconcileRun:
    """Check the last `days` days against Stripe; the run (kept for the dashboard) says what
    was checked, fixed and found. Raises `PaymentsUnavailable` if Stripe could not be asked,
    after recording how far the run got."""
    begin_write()
    run = ReconcileRun(days=days, findings=[])
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    since = utcnow() - timedelta(days=days)
    findings: list[dict] = []
    checked = fixed = 0
    error = ""
    try:
        for donation_id in _recent_card_donations(since):
            checked += 1
            fixed += _check_donation(donation_id, findings)
        fixed += _find_unknown_payments(since, findings)
    except payments.PaymentsUnavailable as exc:
        error = f"Stripe could not be reached: {exc}"[:500]
        raise
    finally:
        db.session.rollback()
        begin_write()
        run = db.session.get(ReconcileRun, run_id)
        run.checked, run.fixed, run.findings, run.error = checked, fixed, findings, error
        run.finished_at = utcnow()
        db.session.commit()
        log.info(
            "reconcile over %d days: %d checked, %d fixed, %d findings%s",
            days,
            checked,
            fixed,
            len(findings),
            f" ({error})" if error else "",
        )
    return run


def last_run() -> ReconcileRun | None:
    """The latest reconcile run, for the dashboard."""
    return db.session.scalar(select(ReconcileRun).order_by(ReconcileRun.id.desc()).limit(1))


def _recent_card_donations(since) -> list[int]:
    ids = db.session.scalars(
        select(Donation.id)
        .where(
            Donation.source == DonationSource.ONLINE,
            Donation.created_at >= since,
            Donation.stripe_session_id.is_not(None),
        )
        .order_by(Donation.id)
    ).all()
    db.session.commit()
    return list(ids)


def _state(donation: Donation) -> tuple:
    return (
        donation.status,
        donation.taken_pence,
        donation.refunded_pence,
        donation.disputed_pence,
        donation.review_reason,
    )


def _check_donation(donation_id: int, findings: list[dict]) -> bool:
    """Bring one donation in line with Stripe; True if anything changed."""
    session_ids = set(
        db.session.scalars(
            select(CheckoutSession.id).where(CheckoutSession.donation_id == donation_id)
        )
    )
    donation = db.session.get(Donation, donation_id)
    session_ids.add(donation.stripe_session_id)
    db.session.commit()
    sessions = []
    for session_id in sorted(session_ids):
        session = payments.retrieve_checkout_session(session_id)
        if session is None:
            findings.append(_finding(donation_id, session_id, "Stripe has no such session."))
            continue
        sessions.append(facts.session(session))
    intents = {s.payment_intent_id for s in sessions if s.payment_intent_id}
    refunds = [
        facts.refund(r) for pi in sorted(intents) for r in payments.list_refunds(payment_intent=pi)
    ]
    disputes = [facts.dispute(d) for pi in sorted(intents) for d in payments.list_disputes(pi)]

    begin_write()
    donation = db.session.get(Donation, donation_id, populate_existing=True)
    before = _state(donation)
    for found in sessions:
        apply_session(found, found.charged_at or found.created)
    for found in refunds:
        apply_refund(_with_donation(found, donation_id))
    for found in disputes:
        apply_dispute(_with_donation(found, donation_id))
    after = _state(donation)
    if after[-1] and after[-1] != before[-1]:
        findings.append(_finding(donation_id, donation.stripe_session_id, after[-1]))
    db.session.commit()
    if after != before:
        log.info("reconcile fixed donation %s: %s -> %s", donation_id, before, after)
    return after != before


def _with_donation(found, donation_id: int):
    return found if found.donation_id else dataclasses.replace(found, donation_id=donation_id)


def _find_unknown_payments(since, findings: list[dict]) -> int:
    """Sessions Stripe made that Plunge never recorded: count those that belong to a donation,
    list paid ones that belong to none. Returns how many donations changed."""
    known = set(db.session.scalars(select(CheckoutSession.id)))
    db.session.commit()
    fixed = 0
    for session in payments.list_checkout_sessions(int(since.timestamp())):
        found = facts.session(session)
        if found.id in known:
            continue
        begin_write()
        donation = apply_session(found, found.charged_at or found.created)
        db.session.commit()
        if donation is not None:
            fixed += 1
        elif found.paid:
            findings.append(
                _finding(
                    None,
                    found.id,
                    f"Stripe took {format_pence(found.amount_total)} on a payment page that no "
                    "Plunge donation made.",
                )
            )
    return fixed


def _finding(donation_id: int | None, stripe_id: str | None, what: str) -> dict:
    return {"donation_id": donation_id, "stripe_id": stripe_id or "", "what": what}
