"""The data model, split by domain; import models from here."""

from app.models.accounts import LoginSession, RecoveryCode, SecondFactor
from app.models.audit import AuditEntry, AuditEntryChanged
from app.models.donations import (
    Contribution,
    DisputeStatus,
    Donation,
    DonationSource,
    DonationStatus,
)
from app.models.event import EVENT_ID, Event
from app.models.gift_aid_claims import (
    ClaimRecordChanged,
    ClaimStatus,
    GiftAidClaim,
    GiftAidClaimLine,
    OverclaimSettlement,
)
from app.models.images import ShareImage, StoredImage
from app.models.mailing import (
    AfterEventDelivery,
    AfterEventMessage,
    ConsentRecord,
    ConsentRecordChanged,
)
from app.models.news import NewsItem, NewsKind
from app.models.nudges import NudgeKind, NudgeOptOut, NudgeSent
from app.models.outbox import OutboxMessage, OutboxThrottle
from app.models.paper import PaperClaimMethod, PaperLine, PaperSeries, PaperSheet, SheetStatus
from app.models.people import PendingSignup, Role, User
from app.models.planning import (
    Decision,
    DecisionGroup,
    DecisionOutcome,
    DecisionRecordChanged,
    DecisionResponse,
    PlanningGroup,
    PlanningMember,
    PlanningReminders,
    Stance,
)
from app.models.safety import (
    AppendOnlyError,
    ChecklistItem,
    CompletedBy,
    HistoryAction,
    ItemKind,
    SafetyAnswer,
    SafetyHistory,
    SafetyRecord,
    SafetySettings,
    SafetySignOff,
)
from app.models.sponsor_pages import PageStatus, PreviousSlug, SponsorPage, SponsorUpdate
from app.models.stripe_events import StripeEvent
from app.models.stripe_records import (
    CheckoutSession,
    Dispute,
    ReconcileRun,
    Refund,
    RefundStatus,
)
from app.models.teams import JoinApproval, Team, TeamMember, team_scope
from app.models.totals import EVENT_SCOPE, Totals
from app.models.types import utcnow

__all__ = [
    "PaperClaimMethod",
    "PaperLine",
    "PaperSeries",
    "PaperSheet",
    "SheetStatus",
    "AppendOnlyError",
    "ChecklistItem",
    "CompletedBy",
    "HistoryAction",
    "ItemKind",
    "SafetyAnswer",
    "SafetyHistory",
    "SafetyRecord",
    "SafetySettings",
    "SafetySignOff",
    "AuditEntry",
    "AuditEntryChanged",
    "ClaimRecordChanged",
    "ClaimStatus",
    "GiftAidClaim",
    "GiftAidClaimLine",
    "OverclaimSettlement",
    "EVENT_ID",
    "EVENT_SCOPE",
    "NewsItem",
    "NewsKind",
    "NudgeKind",
    "NudgeOptOut",
    "NudgeSent",
    "OutboxMessage",
    "OutboxThrottle",
    "AfterEventDelivery",
    "AfterEventMessage",
    "ConsentRecord",
    "ConsentRecordChanged",
    "Contribution",
    "Decision",
    "DecisionGroup",
    "DecisionOutcome",
    "DecisionRecordChanged",
    "DecisionResponse",
    "PlanningGroup",
    "PlanningMember",
    "PlanningReminders",
    "Stance",
    "LoginSession",
    "RecoveryCode",
    "SecondFactor",
    "DisputeStatus",
    "Donation",
    "DonationSource",
    "DonationStatus",
    "Event",
    "PageStatus",
    "PendingSignup",
    "PreviousSlug",
    "Role",
    "SponsorPage",
    "ShareImage",
    "StoredImage",
    "SponsorUpdate",
    "StripeEvent",
    "CheckoutSession",
    "Dispute",
    "ReconcileRun",
    "Refund",
    "RefundStatus",
    "JoinApproval",
    "Team",
    "TeamMember",
    "team_scope",
    "Totals",
    "User",
    "utcnow",
]
