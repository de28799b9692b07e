"""Moderation: hide or restore a donor's message or a sponsor update, saying why; pages use
`app.pages.service.moderate`. Every step is in the audit history."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import audit
from app.events.service import counted_clause
from app.extensions import db
from app.models import Donation, DonationStatus, SponsorPage, SponsorUpdate, utcnow
from app.pages import service as pages

RECENT = 20


def hide_message(donation: Donation, reason: str) -> str:
    """Hide a donor's message from the public pages; the donation still counts."""
    if donation.message_hidden_at is None:
        donation.message_hidden_at = utcnow()
        audit.record("message.hidden", donation=donation, reason=reason)
    db.session.commit()
    return "The message is hidden from the public."


def restore_message(donation: Donation, reason: str = "") -> str:
    """Show a hidden message again."""
    if donation.message_hidden_at is not None:
        donation.message_hidden_at = None
        audit.record("message.restored", donation=donation, reason=reason)
    db.session.commit()
    return "The message is shown again."


def moderate_message(donation: Donation, action: str, reason: str) -> str:
    """Hide or restore a message; returns what happened, in words."""
    return hide_message(donation, reason) if action == "hide" else restore_message(donation, reason)


def moderate_update(update: SponsorUpdate, action: str, reason: str) -> str:
    """Hide or restore a sponsor update; returns what happened, in words."""
    if action == "hide":
        pages.hide_update(update, reason)
        return "The update is hidden from the public."
    pages.restore_update(update, reason)
    return "The update is shown again."


def _public_or_soon():
    """Donations whose message the public sees (they count) or is about to see (a bank debit
    still settling). Declined, abandoned and expired ones were never public: nothing to moderate."""
    return counted_clause() | (Donation.status == DonationStatus.PROCESSING)


def recent_messages(limit: int = RECENT) -> list[Donation]:
    """The latest donations with a message the public sees or will, hidden or not, newest first."""
    return list(
        db.session.scalars(
            select(Donation)
            .options(joinedload(Donation.sponsor_page).joinedload(SponsorPage.participant))
            .where(Donation.message != "", _public_or_soon())
            .order_by(Donation.id.desc())
            .limit(limit)
        )
    )


def recent_updates(limit: int = RECENT) -> list[SponsorUpdate]:
    """The latest sponsor updates, hidden or not, newest first."""
    return list(
        db.session.scalars(
            select(SponsorUpdate)
            .options(joinedload(SponsorUpdate.sponsor_page).joinedload(SponsorPage.participant))
            .order_by(SponsorUpdate.id.desc())
            .limit(limit)
        )
    )


def hidden_messages(limit: int = 100) -> list[Donation]:
    """Messages an organiser hid (that restoring would show), most recently hidden first."""
    return list(
        db.session.scalars(
            select(Donation)
            .where(Donation.message_hidden_at.is_not(None), _public_or_soon())
            .order_by(Donation.message_hidden_at.desc())
            .limit(limit)
        )
    )


def hidden_updates(limit: int = 100) -> list[SponsorUpdate]:
    """Updates an organiser hid, most recently hidden first."""
    return list(
        db.session.scalars(
            select(SponsorUpdate)
            .options(joinedload(SponsorUpdate.sponsor_page).joinedload(SponsorPage.participant))
            .where(SponsorUpdate.hidden_at.is_not(None))
            .order_by(SponsorUpdate.hidden_at.desc())
            .limit(limit)
        )
    )
