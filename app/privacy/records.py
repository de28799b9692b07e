"""Everything Plunge holds about one email address, as a subject access request needs it.

An address matches without case or surrounding spaces (as log-in compares them), and only by
equality: never LIKE, so "fiona@example.org" never finds "xfiona@example.org". What is
someone else's (donors to a participant's page, the organisers who signed things off) is left
out: a participant's page comes with its totals, not its donors."""

import hashlib
import hmac
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, or_, select

from app.auth.service import normalise_email
from app.extensions import db
from app.mailing import consent
from app.models import (
    AfterEventDelivery,
    AuditEntry,
    ConsentRecord,
    DecisionResponse,
    Donation,
    GiftAidClaimLine,
    OutboxMessage,
    PendingSignup,
    PlanningMember,
    SafetyAnswer,
    SafetyHistory,
    SafetyRecord,
    SafetySignOff,
    User,
)


def person_ref(address: str) -> str:
    """A keyed digest naming an address in the history without writing the address there
    (the history is append-only: an address in it could never be erased)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()
    return digest[:16]


def matches(column, address: str):
    """An SQL condition: `column` holds `address`, ignoring case and surrounding spaces."""
    return func.lower(func.trim(column)) == normalise_email(address)


@dataclass
class PersonRecords:
    """What is held about one address, as rows (for the page and for erasure)."""

    address: str
    account: User | None = None
    pending_signups: list[PendingSignup] = field(default_factory=list)
    donations: list[Donation] = field(default_factory=list)
    claim_lines: list[GiftAidClaimLine] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    # Each yes and no about emails that are not service messages, and the after-event message.
    consent_records: list[ConsentRecord] = field(default_factory=list)
    after_event_deliveries: list[AfterEventDelivery] = field(default_factory=list)
    safety_answers: list[SafetyAnswer] = field(default_factory=list)
    safety_sign_offs: list[SafetySignOff] = field(default_factory=list)
    safety_record: SafetyRecord | None = None
    safety_history: list[SafetyHistory] = field(default_factory=list)
    planning_groups: list[PlanningMember] = field(default_factory=list)
    planning_responses: list[DecisionResponse] = field(default_factory=list)
    history: list[AuditEntry] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """True if anything at all is held about the address."""
        return bool(
            self.account
            or self.pending_signups
            or self.donations
            or self.messages
            or self.consent_records
            or self.after_event_deliveries
        )

    @property
    def gift_aid_donations(self) -> list[Donation]:
        """Donations whose Gift Aid declaration must be kept."""
        return [d for d in self.donations if d.gift_aid]


def find(address: str) -> PersonRecords:
    """Every record held about `address` (ordered oldest first, so a download reads as a story)."""
    address = normalise_email(address)
    records = PersonRecords(address=address)
    if not address:
        return records
    scalars = db.session.scalars
    records.account = db.session.scalar(select(User).where(matches(User.email, address)))
    records.pending_signups = list(
        scalars(select(PendingSignup).where(matches(PendingSignup.email, address)))
    )
    records.donations = list(
        scalars(
            select(Donation).where(matches(Donation.donor_email, address)).order_by(Donation.id)
        )
    )
    donation_ids = [d.id for d in records.donations]
    records.claim_lines = list(
        scalars(
            select(GiftAidClaimLine)
            .where(GiftAidClaimLine.donation_id.in_(donation_ids))
            .order_by(GiftAidClaimLine.id)
        )
    )
    records.messages = list(
        scalars(
            select(OutboxMessage)
            .where(matches(OutboxMessage.to_address, address))
            .order_by(OutboxMessage.id)
        )
    )
    records.consent_records = consent.history(address)
    records.after_event_deliveries = list(
        scalars(
            select(AfterEventDelivery)
            .where(matches(AfterEventDelivery.email, address))
            .order_by(AfterEventDelivery.id)
        )
    )
    user = records.account
    if user is not None:
        _add_account_records(records, user)
    about = [AuditEntry.donation_id.in_(donation_ids)]
    if user is not None:
        about += [AuditEntry.subject_user_id == user.id, AuditEntry.actor_id == user.id]
    records.history = list(scalars(select(AuditEntry).where(or_(*about)).order_by(AuditEntry.id)))
    return records


def _add_account_records(records: PersonRecords, user: User) -> None:
    scalars = db.session.scalars
    records.safety_answers = list(
        scalars(
            select(SafetyAnswer)
            .where(SafetyAnswer.participant_id == user.id)
            .order_by(SafetyAnswer.id)
        )
    )
    records.safety_sign_offs = list(
        scalars(select(SafetySignOff).where(SafetySignOff.participant_id == user.id))
    )
    records.safety_record = db.session.get(SafetyRecord, user.id)
    records.safety_history = list(
        scalars(
            select(SafetyHistory)
            .where(SafetyHistory.participant_id == user.id)
            .order_by(SafetyHistory.id)
        )
    )
    records.planning_groups = list(
        scalars(select(PlanningMember).where(PlanningMember.user_id == user.id))
    )
    records.planning_responses = list(
        scalars(
            select(DecisionResponse)
            .where(DecisionResponse.user_id == user.id)
            .order_by(DecisionResponse.id)
        )
    )
