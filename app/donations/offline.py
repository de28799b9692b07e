"""Offline money: cash and cheques. An organiser's record counts at once; a participant's report
of cash they collected counts only once an organiser confirms it. Each step is audited.

Every change goes through `totals.tracking`, so the totals follow in the same transaction."""

from datetime import datetime

from sqlalchemy import select

from app import audit, outbox, totals
from app.database import begin_write
from app.donations.gift_aid import GiftAidDetails
from app.extensions import db
from app.mailing import consent
from app.models import (
    Donation,
    DonationSource,
    DonationStatus,
    SponsorPage,
    User,
    utcnow,
)
from app.money import format_pence
from app.payments.fulfil import lock_donation
from app.payments.reversals import record_cash_refund

# Gift Aid from a paper sponsorship form: the form's own wording, not our web version.
PAPER_DECLARATION = "paper"


def apply_gift_aid(donation: Donation, details: GiftAidDetails | None, declared_at: datetime):
    """Store a paper declaration on a donation (or none)."""
    donation.gift_aid = details is not None
    donation.gift_aid_confirmed_sponsorship = details is not None
    donation.gift_aid_declaration_version = PAPER_DECLARATION if details else ""
    donation.gift_aid_sponsorship_version = PAPER_DECLARATION if details else ""
    donation.gift_aid_declared_at = declared_at if details else None
    donation.gift_aid_title = details.title if details else ""
    donation.gift_aid_first_name = details.first_name if details else ""
    donation.gift_aid_last_name = details.last_name if details else ""
    donation.gift_aid_house = details.house if details else ""
    donation.gift_aid_postcode = details.postcode if details else ""


def record_offline(
    organiser: User,
    amount_pence: int,
    sponsor_page: SponsorPage | None,
    *,
    method: str,
    received_at: datetime,
    donor_name: str = "",
    donor_email: str = "",
    anonymous: bool = False,
    keep_in_touch: bool = False,
    note: str = "",
    gift_aid: GiftAidDetails | None = None,
) -> Donation:
    """An organiser records cash or a cheque they hold: it counts at once. `keep_in_touch`:
    the donor asked (on paper, in person) to be told how the event goes."""
    donation = Donation(
        source=DonationSource.OFFLINE,
        sponsor_page_id=sponsor_page.id if sponsor_page else None,
        amount_pence=amount_pence,
        donor_name=donor_name,
        donor_email=donor_email,
        anonymous=anonymous,
        recorded_by_id=organiser.id,
        confirmed_by_id=organiser.id,
    )
    apply_gift_aid(donation, gift_aid, received_at)
    with totals.tracking(donation):
        donation.status = DonationStatus.PAID
        donation.paid_at = received_at
    audit.record(
        "offline.recorded",
        actor=organiser,
        donation=donation,
        sponsor_page=sponsor_page,
        before_pence=0,
        after_pence=amount_pence,
        reason=note,
        detail=method,
    )
    if keep_in_touch and donor_email:
        consent.record(
            donor_email,
            "event_news",
            True,
            wording_version=consent.OFFLINE_VERSION,
            source="offline form",
            donation_id=donation.id,
            recorded_by=organiser,
        )
    db.session.commit()
    return donation


def report_cash(participant: User, sponsor_page: SponsorPage, amount_pence: int, note: str):
    """A participant says they collected cash for their page; it waits for an organiser."""
    first_name = participant.name.split()[0] if participant.name.split() else participant.name
    donation = Donation(
        source=DonationSource.OFFLINE,
        status=DonationStatus.PENDING,
        sponsor_page_id=sponsor_page.id,
        amount_pence=amount_pence,
        donor_name=f"Cash collected by {first_name}"[:100],
        recorded_by_id=participant.id,
    )
    with totals.tracking(donation):
        pass  # a pending donation adds nothing; this saves it the same way as every other
    audit.record(
        "offline.reported",
        actor=participant,
        donation=donation,
        sponsor_page=sponsor_page,
        before_pence=0,
        after_pence=0,
        reason=note,
        detail="cash",
    )
    db.session.commit()
    return donation


def reports_by(participant: User, limit: int = 20) -> list[Donation]:
    """The cash a participant reported, newest first, with where each one stands."""
    return list(
        db.session.scalars(
            select(Donation)
            .where(
                Donation.recorded_by_id == participant.id,
                Donation.source == DonationSource.OFFLINE,
            )
            .order_by(Donation.id.desc())
            .limit(limit)
        )
    )


def _locked_report(donation_id: int) -> Donation | None:
    begin_write()
    donation = lock_donation(donation_id)
    if donation is None or donation.source != DonationSource.OFFLINE:
        db.session.rollback()
        return None
    return donation


def confirm_cash(donation_id: int, organiser: User) -> tuple[Donation | None, bool]:
    """Count a participant's reported cash. Returns the donation (None if there is no such
    report) and whether this call confirmed it (False if someone already had)."""
    donation = _locked_report(donation_id)
    if donation is None or donation.status != DonationStatus.PENDING:
        db.session.commit()
        return donation, False
    with totals.tracking(donation):
        donation.status = DonationStatus.PAID
        donation.paid_at = utcnow()
        donation.confirmed_by_id = organiser.id
    audit.record(
        "offline.confirmed",
        actor=organiser,
        donation=donation,
        before_pence=0,
        after_pence=donation.net_pence,
    )
    _tell_participant(donation, confirmed=True)
    db.session.commit()
    return donation, True


def reject_cash(donation_id: int, organiser: User, reason: str) -> tuple[Donation | None, bool]:
    """Do not count a participant's reported cash, saying why (they are told)."""
    donation = _locked_report(donation_id)
    if donation is None or donation.status != DonationStatus.PENDING:
        db.session.commit()
        return donation, False
    with totals.tracking(donation):
        donation.status = DonationStatus.FAILED
    audit.record(
        "offline.rejected",
        actor=organiser,
        donation=donation,
        before_pence=0,
        after_pence=0,
        reason=reason,
    )
    _tell_participant(donation, confirmed=False, reason=reason)
    db.session.commit()
    return donation, True


def refund_offline(donation: Donation, organiser: User, amount_pence: int, reason: str) -> None:
    """Record cash or a cheque given back: it comes off the totals at once (the caller holds
    the donation's lock and has checked the amount)."""
    record_cash_refund(
        donation, donation.refunded_pence + amount_pence, actor=organiser, reason=reason
    )
    db.session.commit()


def _tell_participant(donation: Donation, confirmed: bool, reason: str = "") -> None:
    participant = db.session.get(User, donation.recorded_by_id) if donation.recorded_by_id else None
    if participant is None or participant.is_organiser:
        return
    amount = format_pence(donation.amount_pence)
    outcome = "is counted" if confirmed else "isn't counted yet"
    subject = f"Your cash of {amount} {outcome}"
    outbox.queue(
        participant.email,
        subject,
        "cash_report",
        name=participant.name,
        amount=amount,
        confirmed=confirmed,
        reason=reason,
    )
