"""Donors' contact details that nothing requires us to keep, removed a set time after the day.

A donation keeps its donor's name and email address while a Gift Aid declaration needs them
(HMRC: 6 years), or while the donor still wants to hear how the event goes (their consent
records say yes to the event's news and they have not unsubscribed), for at most
DONOR_NEWS_RETENTION_MONTHS after the event. Otherwise `flask privacy purge` blanks them
DONOR_CONTACT_RETENTION_MONTHS after the event, with the copies of emails sent to those
addresses, the after-event deliveries and the consent history: run again later, it removes
those whose consent has ended since. The money stays, to the penny."""

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select

from app import audit
from app.database import begin_write
from app.events.service import get_event
from app.extensions import db
from app.mailing import consent
from app.models import AfterEventDelivery, ConsentRecord, Donation, OutboxMessage, User, utcnow
from app.privacy import rules


class TooEarly(Exception):
    """The retention period has not ended (or there is no event to count it from)."""


@dataclass
class PurgeReport:
    """What one purge removed and kept."""

    donations_cleared: int = 0
    addresses: int = 0
    emails_deleted: int = 0
    kept_for_gift_aid: int = 0
    kept_for_consent: int = 0


def _has_consent_to_hear_more(donation: Donation) -> bool:
    """True if the donor's address may still get the event's news: they said yes ("Tell me
    how the event goes", on any of their donations) and have not unsubscribed since."""
    return consent.may_email(donation.donor_email, "event_news")


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` that many calendar months later (31 January + 1 month: 28 or 29 February)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def purge_date() -> datetime | None:
    """When donors' contact details are due for removal (None: no event configured)."""
    event = get_event()
    if event is None:
        return None
    return add_months(event.starts_at, rules.contact_retention_months())


def news_purge_date() -> datetime | None:
    """When even consenting donors' contact details are due for removal (None: no event)."""
    event = get_event()
    if event is None:
        return None
    return add_months(event.starts_at, rules.news_retention_months())


def purge(force: bool = False, now: datetime | None = None) -> PurgeReport:
    """Remove contact details nothing requires us to keep, and commit; raises TooEarly before
    the purge date unless `force`."""
    now = now or utcnow()
    due = purge_date()
    if not force and (due is None or now < due):
        raise TooEarly(due)
    news_due = news_purge_date()
    consent_may_keep = news_due is None or now < news_due
    report = PurgeReport()
    begin_write()
    with_contact = or_(Donation.donor_email != "", Donation.donor_name != "")
    donations = db.session.scalars(
        select(Donation).where(with_contact).order_by(Donation.id).with_for_update()
    ).all()
    removed: set[str] = set()
    for donation in donations:
        if donation.gift_aid:
            report.kept_for_gift_aid += 1
            continue
        if consent_may_keep and _has_consent_to_hear_more(donation):
            report.kept_for_consent += 1
            continue
        if donation.donor_email:
            removed.add(donation.donor_email.strip().lower())
        before = donation.contribution()
        donation.donor_name = ""
        donation.donor_email = ""
        donation.anonymous = True
        if donation.contribution() != before:  # names and addresses are never money
            raise RuntimeError(f"removing donation {donation.id}'s contact would change totals")
        report.donations_cleared += 1
    db.session.flush()
    report.addresses = len(removed)
    report.emails_deleted = _delete_sent_copies(removed)
    audit.record(
        "privacy.contacts_removed",
        detail=f"{report.donations_cleared} donations, {report.addresses} addresses, "
        f"{report.emails_deleted} sent emails; kept {report.kept_for_gift_aid} for Gift Aid "
        f"and {report.kept_for_consent} for consent to hear more",
    )
    db.session.commit()
    return report


def _delete_sent_copies(addresses: set[str]) -> int:
    """Delete the copies of sent emails to addresses nothing else still holds (no account, no
    donation kept for Gift Aid or consent), the after-event deliveries that point at them and
    the addresses' consent histories (nothing is sent to an address no donation holds)."""
    if not addresses:
        return 0
    still_held = set(
        db.session.scalars(
            select(func.lower(func.trim(Donation.donor_email))).where(
                func.lower(func.trim(Donation.donor_email)).in_(addresses)
            )
        )
    )
    still_held |= set(db.session.scalars(select(User.email).where(User.email.in_(addresses))))
    gone = sorted(addresses - still_held)
    if not gone:
        return 0
    sent_copies = select(OutboxMessage.id).where(
        func.lower(func.trim(OutboxMessage.to_address)).in_(gone),
        OutboxMessage.sent_at.is_not(None),
    )
    # A delivery row points at its copy: it goes first, as a record of the same sent email.
    db.session.execute(
        delete(AfterEventDelivery).where(AfterEventDelivery.outbox_message_id.in_(sent_copies))
    )
    db.session.execute(
        delete(ConsentRecord).where(ConsentRecord.email.in_({consent.normalise(a) for a in gone}))
    )
    return db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(sent_copies))
        .execution_options(synchronize_session=False)
    ).rowcount
