"""What the organiser dashboard reads: the totals (one row), donations found by search and
filters a page at a time, and every participant with their page and progress."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import joinedload

from app.database import begin_write
from app.donations.gift_aid import gift_aid_on
from app.events.service import page_scope_expression
from app.extensions import db
from app.models import (
    EVENT_ID,
    EVENT_SCOPE,
    AuditEntry,
    CheckoutSession,
    Dispute,
    Donation,
    DonationSource,
    DonationStatus,
    Event,
    PageStatus,
    Refund,
    Role,
    SponsorPage,
    Totals,
    User,
)
from app.money import percent_of
from app.numbers import whole_number
from app.payments.fulfil import count_as_taken, lock_donation

DONATIONS_PER_PAGE = 25
PARTICIPANTS_PER_PAGE = 50
NOT_KNOWN = "—"


# The totals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardTotals:
    """Every figure at the top of the dashboard, from the event's totals row."""

    raised_pence: int
    online_pence: int
    offline_pence: int
    gift_aid_eligible_pence: int
    gift_aid_attention: int
    gift_aid_attention_pence: int
    fees_covered_pence: int
    refunded_pence: int
    disputed_pence: int
    held_pence: int
    supporters: int
    version: int
    target_pence: int
    gift_aid_fills_target: bool

    @property
    def gift_aid_pence(self) -> int:
        """What HMRC adds: 25p per eligible £1."""
        return gift_aid_on(self.gift_aid_eligible_pence)

    @property
    def gift_aid_waiting_pence(self) -> int:
        """The Gift Aid declared that cannot be claimed yet, if it were put right."""
        return gift_aid_on(self.gift_aid_attention_pence)

    @property
    def percent(self) -> int:
        """Whole per cent of the target, counting Gift Aid only where the event says so."""
        counted = self.raised_pence + (self.gift_aid_pence if self.gift_aid_fills_target else 0)
        return percent_of(counted, self.target_pence)

    @property
    def bar_percent(self) -> int:
        """How full to draw the bar."""
        return min(self.percent, 100)

    @property
    def etag(self) -> str:
        """Changes whenever a figure (or the target) does."""
        return f"organiser-{self.version}"


def dashboard_totals() -> DashboardTotals | None:
    """The dashboard's figures in one primary-key read, however many donations there are."""
    row = db.session.execute(
        select(
            Totals.raised_pence,
            Totals.online_pence,
            Totals.offline_pence,
            Totals.gift_aid_eligible_pence,
            Totals.gift_aid_attention,
            Totals.gift_aid_attention_pence,
            Totals.fees_covered_pence,
            Totals.refunded_pence,
            Totals.disputed_pence,
            Totals.held_pence,
            Totals.supporters,
            Totals.version,
            Event.target_pence,
            Event.gift_aid_fills_target,
        )
        .join_from(Totals, Event, Event.id == EVENT_ID)
        .where(Totals.scope == EVENT_SCOPE)
    ).first()
    return DashboardTotals(*row) if row else None


# Donations: search, filters, pages -------------------------------------------------------

STATUS_CHOICES = [(s.value, s.value.capitalize()) for s in DonationStatus]
GIFT_AID_CHOICES = [("yes", "With Gift Aid"), ("no", "Without Gift Aid")]
SOURCE_CHOICES = [("online", "Online (card)"), ("offline", "Offline (cash or cheque)")]
EVENT_ONLY = "event"


@dataclass(frozen=True)
class DonationFilters:
    """What the organiser searched for. Anything not understood is ignored, never an error."""

    q: str = ""
    status: str = ""
    participant: str = ""
    gift_aid: str = ""
    source: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "DonationFilters":
        """Read the filters from a query string, dropping unknown values."""

        def pick(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        participant = (args.get("participant") or "").strip()
        if participant != EVENT_ONLY and whole_number(participant) is None:
            participant = ""
        return cls(
            q=(args.get("q") or "").replace("\x00", "").strip()[:100],
            status=pick("status", {value for value, _ in STATUS_CHOICES}),
            participant=participant,
            gift_aid=pick("gift_aid", {"yes", "no"}),
            source=pick("source", {"online", "offline"}),
        )

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments, leaving out the empty ones."""
        return {name: value for name, value in asdict(self).items() if value}

    @property
    def active(self) -> bool:
        """True when anything narrows the list."""
        return bool(self.args())


@dataclass
class DonationsPage:
    """One page of the donations table, newest first, with cursors to the pages either side."""

    donations: list[Donation] = field(default_factory=list)
    newer_than: int | None = None  # show the page of donations newer than this id
    older_than: int | None = None  # show the page of donations older than this id


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(filters: DonationFilters):
    query = select(Donation)
    if filters.q:
        pattern = _like(filters.q)
        matches = [
            Donation.donor_name.ilike(pattern, escape="\\"),
            Donation.donor_email.ilike(pattern, escape="\\"),
            Donation.message.ilike(pattern, escape="\\"),
        ]
        number = whole_number(filters.q.removeprefix("#"))
        if number is not None:
            matches.append(Donation.id == number)
        query = query.where(or_(*matches))
    if filters.status:
        query = query.where(Donation.status == DonationStatus(filters.status))
    if filters.participant == EVENT_ONLY:
        query = query.where(Donation.sponsor_page_id.is_(None))
    elif filters.participant:
        query = query.where(Donation.sponsor_page_id == whole_number(filters.participant))
    if filters.gift_aid:
        query = query.where(Donation.gift_aid.is_(filters.gift_aid == "yes"))
    if filters.source:
        query = query.where(Donation.source == DonationSource(filters.source))
    return query


def find_donations(
    filters: DonationFilters,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = DONATIONS_PER_PAGE,
) -> DonationsPage:
    """One page of matching donations, newest first, by keyset on the id: the database reads
    one page (plus one row, to know if there is more), however many donations there are."""
    query = _filtered(filters).options(
        joinedload(Donation.sponsor_page).joinedload(SponsorPage.participant)
    )
    if newer_than is not None:
        query = query.where(Donation.id > newer_than).order_by(Donation.id.asc())
    else:
        if older_than is not None:
            query = query.where(Donation.id < older_than)
        query = query.order_by(Donation.id.desc())
    rows = list(db.session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if newer_than is not None:
        rows.reverse()
    result = DonationsPage(donations=rows)
    if rows:
        has_newer = more if newer_than is not None else older_than is not None
        has_older = more if newer_than is None else True
        result.newer_than = rows[0].id if has_newer else None
        result.older_than = rows[-1].id if has_older else None
    return result


def page_choices() -> list[tuple[str, str]]:
    """Each sponsor page as a filter choice, by participant name, after the event itself."""
    rows = db.session.execute(
        select(SponsorPage.id, User.name)
        .join(User, User.id == SponsorPage.participant_id)
        .order_by(User.name, SponsorPage.id)
    ).all()
    return [(EVENT_ONLY, "The event itself")] + [(str(pid), name) for pid, name in rows]


def recipient_page(choice: str) -> SponsorPage | None:
    """The sponsor page a choice from `page_choices` names; None for the event itself."""
    page_id = None if choice == EVENT_ONLY else whole_number(choice)
    return None if page_id is None else db.session.get(SponsorPage, page_id)


def donation_or_none(donation_id: int) -> Donation | None:
    """One donation with its page and participant, for its own page."""
    return db.session.scalar(
        select(Donation)
        .options(joinedload(Donation.sponsor_page).joinedload(SponsorPage.participant))
        .where(Donation.id == donation_id)
    )


def waiting_cash(limit: int = 50) -> list[tuple[Donation, str]]:
    """Cash participants reported that no organiser has confirmed or rejected yet, oldest
    first, each with the note the participant wrote."""
    donations = list(
        db.session.scalars(
            select(Donation)
            .options(joinedload(Donation.sponsor_page).joinedload(SponsorPage.participant))
            .where(
                Donation.source == DonationSource.OFFLINE,
                Donation.status == DonationStatus.PENDING,
            )
            .order_by(Donation.id)
            .limit(limit)
        )
    )
    notes = dict(
        db.session.execute(
            select(AuditEntry.donation_id, AuditEntry.reason).where(
                AuditEntry.donation_id.in_([d.id for d in donations]),
                AuditEntry.action == "offline.reported",
            )
        ).all()
    )
    return [(donation, notes.get(donation.id, "")) for donation in donations]


def held_donations(limit: int = 50) -> list[Donation]:
    """Donations held for review (Stripe's figure differs from the form's, or Stripe took it
    twice), oldest first: they count nothing until an organiser decides."""
    return list(
        db.session.scalars(
            select(Donation)
            # Written out, not bound, so the planner sees it is ix_donations_held's condition.
            .where(Donation.review_reason != literal("", literal_execute=True))
            .order_by(Donation.id)
            .limit(limit)
        )
    )


def count_held(donation_id: int, organiser: User, note: str) -> bool:
    """Count a held donation as what Stripe took; False if it is no longer held."""
    begin_write()
    donation = lock_donation(donation_id)
    if donation is None or not donation.held_for_review:
        db.session.commit()
        return False
    count_as_taken(donation, organiser, note)
    db.session.commit()
    return True


def stripe_records(donation: Donation) -> dict:
    """What Stripe holds about a donation: its sessions, refunds and disputes."""

    def of(model):
        return list(
            db.session.scalars(
                select(model).where(model.donation_id == donation.id).order_by(model.created_at)
            )
        )

    return {"sessions": of(CheckoutSession), "refunds": of(Refund), "disputes": of(Dispute)}


def status_label(donation: Donation) -> str:
    """A donation's state in words for organisers."""
    if donation.held_for_review:
        return "Held for review: counts nothing until an organiser decides"
    if donation.source == DonationSource.OFFLINE:
        if donation.status == DonationStatus.PENDING:
            return "Waiting for confirmation"
        if donation.status == DonationStatus.FAILED:
            return "Rejected"
    label = donation.status.value.capitalize()
    if donation.status == DonationStatus.PAID:
        if donation.refunded_pence >= donation.amount_pence:
            label = "Refunded"
        elif donation.refunded_pence:
            label = "Paid, partly refunded"
        if donation.dispute_status.value in ("open", "lost", "won"):
            label += f"; dispute {donation.dispute_status.value}"
    return label


# Participants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRow:
    """One line of the participants table."""

    user_id: int
    name: str
    email: str
    page: SponsorPage | None
    raised_pence: int
    supporters: int
    safety: str

    @property
    def page_status(self) -> str:
        """The page's state in words."""
        page = self.page
        if page is None:
            return "No page yet"
        if page.hidden_at is not None:
            return "Hidden by an organiser"
        if page.status == PageStatus.DRAFT:
            return "Draft"
        if page.approved_at is None:
            return "Waiting for approval"
        return "Live"


def safety_statuses(users: list[User]) -> dict[int, str]:
    """Each participant's safety status in words, as the safety board works it out."""
    from app.safety.status import statuses

    return {status.user.id: _safety_in_words(status) for status in statuses(users)}


def _safety_in_words(status) -> str:
    if status.cleared:
        return "Cleared to take part"
    if status.consent_withdrawn:
        return "Consent withdrawn"
    return f"{status.done_count} of {len(status.yours)} done"


def participants(page_number: int = 1) -> tuple[list[ParticipantRow], bool]:
    """A page of participants by name, with their page, what it raised and their safety
    status; and whether there is another page after it."""
    rows = db.session.execute(
        select(User, SponsorPage, Totals.raised_pence, Totals.supporters)
        .outerjoin(SponsorPage, SponsorPage.participant_id == User.id)
        .outerjoin(Totals, Totals.scope == page_scope_expression())
        .where(User.role == Role.PARTICIPANT)
        .order_by(func.lower(User.name), User.id)
        .offset((page_number - 1) * PARTICIPANTS_PER_PAGE)
        .limit(PARTICIPANTS_PER_PAGE + 1)
    ).all()
    more = len(rows) > PARTICIPANTS_PER_PAGE
    rows = rows[:PARTICIPANTS_PER_PAGE]
    safety = safety_statuses([user for user, *_ in rows])
    return [
        ParticipantRow(
            user_id=user.id,
            name=user.name,
            email=user.email,
            page=page,
            raised_pence=raised or 0,
            supporters=supporters or 0,
            safety=safety.get(user.id, NOT_KNOWN),
        )
        for user, page, raised, supporters in rows
    ], more
