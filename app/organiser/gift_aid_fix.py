"""Correcting a donor's Gift Aid details, so a row HMRC would refuse can be claimed."""

from app import audit
from app.donations.gift_aid import GiftAidDetails
from app.extensions import db
from app.models import Donation


def _as_text(donation: Donation) -> str:
    parts = (
        donation.gift_aid_title,
        donation.gift_aid_first_name,
        donation.gift_aid_last_name,
        donation.gift_aid_house,
        donation.gift_aid_postcode,
    )
    return " | ".join(parts)


def correct_gift_aid(donation: Donation, details: GiftAidDetails, reason: str) -> None:
    """Replace the name and address on a donation's declaration; the history keeps both."""
    before = _as_text(donation)
    donation.gift_aid_title = details.title
    donation.gift_aid_first_name = details.first_name
    donation.gift_aid_last_name = details.last_name
    donation.gift_aid_house = details.house
    donation.gift_aid_postcode = details.postcode
    audit.record(
        "gift_aid.corrected",
        donation=donation,
        reason=reason,
        detail=f"Was: {before}\nNow: {_as_text(donation)}",
    )
    db.session.commit()
