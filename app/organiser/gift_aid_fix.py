"""Gift Aid that cannot be claimed yet, and putting it right: an organiser corrects a donor's
details, asks the donor by email to complete them, or decides on a flagged gift.

Every change goes through `totals.tracking`, so the Gift Aid on the public bar, the dashboard
and the claim move together the moment a donation becomes claimable."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app import audit, outbox, totals
from app.database import begin_write
from app.donations.gift_aid import (
    DECLARATION_VERSION,
    GiftAidDetails,
    claim_pence,
    claim_problems,
    gift_aid_on,
    only_the_donor_can_fix,
    sponsorship_version,
)
from app.events.service import counted_clause, get_event
from app.extensions import db
from app.models import Donation, User, utcnow
from app.money import format_pence
from app.payments.fulfil import lock_donation
from app.urls import absolute_url

# How long the link in a "please complete your Gift Aid details" email works.
ASK_LINK_LIFETIME = timedelta(days=60)
_ASK_SALT = "gift-aid-details"


@dataclass(frozen=True)
class NeedsAttention:
    """A Gift Aid declaration that cannot be claimed, and what would let it be."""

    donation: Donation
    problems: tuple[str, ...]

    @property
    def donor_must_answer(self) -> bool:
        """Only the donor can give what is missing (an organiser cannot correct it)."""
        return only_the_donor_can_fix(list(self.problems))

    @property
    def flagged(self) -> bool:
        """An organiser's decision is what is needed (the participant's own gift, say)."""
        return bool(self.donation.gift_aid_flag)

    @property
    def gift_aid_pence(self) -> int:
        """The Gift Aid it would add once put right."""
        return gift_aid_on(claim_pence(self.donation))


def needing_attention(limit: int = 200) -> list[NeedsAttention]:
    """Counted donations whose donor declared Gift Aid that cannot be claimed, oldest first:
    exactly those the totals leave out of the Gift Aid figure (`Donation.contribution`)."""
    query = (
        select(Donation)
        .where(counted_clause() & Donation.gift_aid.is_(True))
        .order_by(Donation.paid_at, Donation.id)
        .execution_options(yield_per=500)
    )
    found = []
    for donation in db.session.scalars(query):
        problems = claim_problems(donation)
        if problems:
            found.append(NeedsAttention(donation, tuple(problems)))
            if len(found) >= limit:
                break
    return found


def _as_text(donation: Donation) -> str:
    parts = (
        donation.gift_aid_title,
        donation.gift_aid_first_name,
        donation.gift_aid_last_name,
        donation.gift_aid_house,
        donation.gift_aid_postcode,
    )
    return " | ".join(parts)


def _store(donation: Donation, details: GiftAidDetails) -> None:
    donation.gift_aid_title = details.title
    donation.gift_aid_first_name = details.first_name
    donation.gift_aid_last_name = details.last_name
    donation.gift_aid_house = details.house
    donation.gift_aid_postcode = details.postcode


def _locked_gift_aid(donation_id: int) -> Donation | None:
    begin_write()
    donation = lock_donation(donation_id)
    if donation is None or not donation.gift_aid:
        db.session.rollback()
        return None
    return donation


def correct_gift_aid(donation_id: int, details: GiftAidDetails, reason: str) -> Donation | None:
    """Replace the name and address on a donation's declaration (None: no such Gift Aid
    donation); the history keeps both, and the totals follow."""
    donation = _locked_gift_aid(donation_id)
    if donation is None:
        return None
    before = _as_text(donation)
    with totals.tracking(donation):
        _store(donation, details)
    audit.record(
        "gift_aid.corrected",
        donation=donation,
        reason=reason,
        detail=f"Was: {before}\nNow: {_as_text(donation)}",
    )
    db.session.commit()
    return donation


def decide_flag(donation_id: int, organiser: User, reason: str) -> Donation | None:
    """An organiser has checked a flagged gift (it was not the participant's own) and lets
    its Gift Aid be claimed, saying how they know. None: nothing flagged to decide."""
    donation = _locked_gift_aid(donation_id)
    if donation is None or not donation.gift_aid_flag:
        db.session.rollback()
        return None
    flag = donation.gift_aid_flag
    with totals.tracking(donation):
        donation.gift_aid_flag = ""
    audit.record(
        "gift_aid.flag_cleared", actor=organiser, donation=donation, reason=reason, detail=flag
    )
    db.session.commit()
    return donation


# Asking the donor ------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_ASK_SALT)


def ask_link(donation: Donation) -> str:
    """The donor's own link to complete their Gift Aid details on this donation."""
    return absolute_url("gift_aid_details.complete", token=_serializer().dumps(donation.id))


class AskLinkExpired(Exception):
    """The link is genuine but older than ASK_LINK_LIFETIME."""


def donation_for_ask_link(token: str) -> Donation | None:
    """The donation a link was made for (None: not a link we made, or no such donation)."""
    try:
        donation_id = _serializer().loads(token, max_age=int(ASK_LINK_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise AskLinkExpired from exc
    except BadSignature:
        return None
    if not isinstance(donation_id, int) or not 0 < donation_id < 2**31:
        return None
    return db.session.get(Donation, donation_id)


def ask_email(donation: Donation) -> dict:
    """The email asking the donor, ready to send: what the organiser sees before sending."""
    event = get_event()
    problems = claim_problems(donation)
    return {
        "to": donation.donor_email,
        "subject": f"Could you complete your Gift Aid details for {event.name}?",
        "template": "gift_aid_request",
        "context": {
            "donation": donation,
            "event": event,
            "amount": format_pence(donation.amount_pence),
            "gift_aid": format_pence(gift_aid_on(claim_pence(donation))),
            "problems": problems,
            "donor_must_answer": only_the_donor_can_fix(problems),
            "link": ask_link(donation),
            "lifetime_days": ASK_LINK_LIFETIME.days,
        },
    }


def ask_donor(donation_id: int, organiser: User) -> Donation | None:
    """Email the donor a link to complete their Gift Aid details (None: no email address, or
    nothing left to ask)."""
    donation = _locked_gift_aid(donation_id)
    if donation is None or not donation.donor_email or not claim_problems(donation):
        db.session.rollback()
        return None
    email = ask_email(donation)
    outbox.queue(email["to"], email["subject"], email["template"], **email["context"])
    donation.gift_aid_asked_at = utcnow()
    audit.record("gift_aid.asked", actor=organiser, donation=donation)
    db.session.commit()
    return donation


def complete_by_donor(donation_id: int, details: GiftAidDetails) -> Donation | None:
    """The donor gave their details and confirmed the declaration and the sponsorship
    wording they were shown today. None: the donation no longer needs anything."""
    donation = _locked_gift_aid(donation_id)
    if donation is None or not claim_problems(donation) or donation.gift_aid_flag:
        db.session.rollback()
        return None
    before = _as_text(donation)
    event = get_event()
    with totals.tracking(donation):
        _store(donation, details)
        donation.gift_aid_declaration_version = DECLARATION_VERSION
        donation.gift_aid_declared_at = utcnow()
        donation.gift_aid_confirmed_sponsorship = True
        donation.gift_aid_sponsorship_version = sponsorship_version(event.charity_pays_event_costs)
    audit.record(
        "gift_aid.completed_by_donor",
        donation=donation,
        detail=f"Was: {before}\nNow: {_as_text(donation)}",
    )
    db.session.commit()
    return donation
