"""Writing and reading the audit history (`audit_entries`): every change to money or moderation.

An entry is added in the same transaction as the change it describes, so the history and the
data never disagree: both are committed, or neither is."""

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditEntry, Donation, SponsorPage, User

# What each action means, in words for the history page.
ACTIONS = {
    "offline.recorded": "Recorded offline money",
    "offline.reported": "Participant reported cash",
    "offline.confirmed": "Confirmed reported cash",
    "offline.rejected": "Rejected reported cash",
    "refund.requested": "Asked Stripe for a refund",
    "refund.recorded": "Refund recorded",
    "refund.failed": "A refund failed: the money stayed with the charity",
    "dispute.open": "Card dispute opened",
    "dispute.won": "Card dispute closed in the charity's favour",
    "dispute.lost": "Card dispute lost",
    "dispute.withdrawn": "Stripe withdrew disputed money",
    "dispute.reinstated": "Stripe gave disputed money back",
    "donation.held": "Held for review: Stripe's figure differs",
    "donation.review_decided": "Counted a held donation as Stripe took it",
    "gift_aid.corrected": "Corrected Gift Aid details",
    "gift_aid.asked": "Emailed the donor to complete their Gift Aid details",
    "gift_aid.completed_by_donor": "The donor completed their Gift Aid details",
    "gift_aid.flag_cleared": "Let a flagged gift's Gift Aid be claimed",
    "gift_aid.claim_started": "Started a Gift Aid claim",
    "gift_aid.claim_submitted": "Marked a Gift Aid claim submitted to HMRC",
    "gift_aid.claim_discarded": "Discarded a Gift Aid claim",
    "message.hidden": "Hid a donor's message",
    "message.restored": "Restored a donor's message",
    "update.hidden": "Hid a sponsor update",
    "news.hidden": "Hid an item of news on the day",
    "update.restored": "Restored a sponsor update",
    "page.approve": "Approved a sponsor page",
    "page.hide": "Hid a sponsor page",
    "page.unhide": "Restored a sponsor page",
    "organiser.invited": "Invited an organiser",
    "organiser.joined": "Organiser accepted an invitation",
    "planner.invited": "Invited a planner",
    "planner.joined": "Planner accepted an invitation",
    "organiser.second_factor_reset": "Reset an organiser's second factor (a lost phone)",
    "account.second_factor_on": "Turned on a second factor for log-in",
    "event.settings": "Changed the event's settings",
    # People's data rights (app/privacy): entries name a person by a digest, never an address.
    "privacy.viewed": "Looked up what is held about a person",
    "privacy.downloaded": "Downloaded what is held about a person (subject access)",
    "privacy.corrected": "Corrected a person's details",
    "privacy.erased": "Erased a person's details",
    "privacy.account_deleted": "A participant deleted their own account",
    "privacy.contacts_removed": "Removed donors' contact details after the retention period",
}


def _logged_in_user() -> User | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record(
    action: str,
    *,
    actor: User | None = None,
    donation: Donation | None = None,
    sponsor_page: SponsorPage | None = None,
    sponsor_update_id: int | None = None,
    subject_user: User | None = None,
    before_pence: int | None = None,
    after_pence: int | None = None,
    reason: str = "",
    detail: str = "",
) -> AuditEntry:
    """Add one entry to the history in the caller's transaction (the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor = actor or _logged_in_user()
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor else None,
        donation_id=donation.id if donation is not None else None,
        sponsor_page_id=sponsor_page.id if sponsor_page is not None else None,
        sponsor_update_id=sponsor_update_id,
        subject_user_id=subject_user.id if subject_user is not None else None,
        before_pence=before_pence,
        after_pence=after_pence,
        reason=reason or "",
        detail=detail or "",
    )
    db.session.add(entry)
    return entry


def entries(
    donation_id: int | None = None, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest entries first (all, or one donation's), `limit` at a time, older than
    `before_id` when paging back."""
    query = select(AuditEntry).options(
        joinedload(AuditEntry.actor), joinedload(AuditEntry.subject_user)
    )
    if donation_id is not None:
        query = query.where(AuditEntry.donation_id == donation_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def describe(entry: AuditEntry) -> str:
    """An entry's action in words."""
    return ACTIONS.get(entry.action, entry.action)
