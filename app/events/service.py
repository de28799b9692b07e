"""The event: its settings, its live progress, its leaderboard and its recent donations."""

from dataclasses import dataclass

from sqlalchemy import String, and_, cast, literal, or_, select

from app import totals
from app.donations.gift_aid import gift_aid_on
from app.extensions import db
from app.models import (
    EVENT_ID,
    EVENT_SCOPE,
    Donation,
    DonationStatus,
    Event,
    SponsorPage,
    TeamMember,
    Totals,
    User,
    utcnow,
)
from app.money import percent_of

EDITABLE_FIELDS = (
    "name",
    "starts_at",
    "venue",
    "description",
    "where_money_goes",
    "above_target_text",
    "contact_email",
    "target_pence",
    "charity_name",
    "charity_number",
    "charity_is_scottish",
    "closes_at",
    "donations_open",
    "pages_need_approval",
    "charity_pays_event_costs",
    "gift_aid_fills_target",
    "fee_basis_points",
    "fee_fixed_pence",
    "min_donation_pence",
    "max_donation_pence",
    "organisers_need_second_factor",
    "nudge_first_donation",
    "nudge_halfway",
    "nudge_target_reached",
    "nudge_quiet_week",
    "instructors_post_safety_news",
)


def get_event() -> Event | None:
    """The event this install serves, or None before an organiser has configured it."""
    return db.session.get(Event, EVENT_ID)


def configure_event(commit: bool = True, **settings) -> Event:
    """Create the event, or change the given settings of the existing one."""
    event = get_event()
    unknown = set(settings) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not event settings: {', '.join(sorted(unknown))}")
    if event is None:
        event = Event(id=EVENT_ID, **settings)
        db.session.add(event)
        totals.ensure_scope(EVENT_SCOPE)
    else:
        for name, value in settings.items():
            setattr(event, name, value)
        # The bar shows the target and stops polling at the close time: make browsers refetch.
        totals.touch(EVENT_SCOPE)
    if commit:
        db.session.commit()
    return event


@dataclass(frozen=True)
class Progress:
    """What the live progress bar shows for one scope."""

    scope: str
    raised_pence: int
    gift_aid_pence: int
    supporters: int
    target_pence: int
    version: int
    closed: bool
    gift_aid_fills_target: bool = False

    @property
    def counted_pence(self) -> int:
        """What fills the bar: raised, plus Gift Aid where the event says so."""
        return self.raised_pence + (self.gift_aid_pence if self.gift_aid_fills_target else 0)

    @property
    def percent(self) -> int:
        """Whole per cent of the target reached; may pass 100."""
        return percent_of(self.counted_pence, self.target_pence)

    @property
    def bar_percent(self) -> int:
        """How full to draw the bar (it cannot overflow its track)."""
        return min(self.percent, 100)

    @property
    def milestone(self) -> str | None:
        """A moment worth celebrating on the bar: "target" reached, "halfway", or the "first"
        donation (while it is the only one); None in between."""
        if self.target_pence and self.percent >= 100:
            return "target"
        if self.target_pence and self.percent >= 50:
            return "halfway"
        return "first" if self.supporters == 1 else None

    @property
    def etag(self) -> str:
        """Changes whenever anything the partial shows changes."""
        return f"{self.scope}-{self.version}{'-closed' if self.closed else ''}"


_PROGRESS_COLUMNS = (
    Totals.raised_pence,
    Totals.gift_aid_eligible_pence,
    Totals.supporters,
    Totals.version,
    Event.closes_at,
    Event.gift_aid_fills_target,
)


def progress_query(target_column):
    """The select every progress bar reads, the fast path's (app/progress.py) included: a
    totals row, the event's close time and rule, and the scope's own target."""
    return select(*_PROGRESS_COLUMNS, target_column).join_from(Totals, Event, Event.id == EVENT_ID)


def event_progress_query():
    """The event's progress row."""
    return progress_query(Event.target_pence).where(Totals.scope == EVENT_SCOPE)


def public_page_progress_query(slug):
    """A public sponsor page's progress row, found by its address (a value or a bindparam),
    with the page's id last."""
    return (
        progress_query(SponsorPage.target_pence)
        .add_columns(SponsorPage.id)
        .join(SponsorPage, Totals.scope == page_scope_expression())
        .where(SponsorPage.slug == slug, SponsorPage.is_public)
    )


def event_progress() -> Progress | None:
    """The event's progress in one primary-key read, however many donations there are."""
    return progress_from_row(EVENT_SCOPE, db.session.execute(event_progress_query()).first())


def page_progress(page_id: int) -> Progress | None:
    """A sponsor page's progress toward its own target, in one primary-key read."""
    scope = f"page:{page_id}"
    row = db.session.execute(
        progress_query(SponsorPage.target_pence)
        .join(SponsorPage, SponsorPage.id == page_id)
        .where(Totals.scope == scope)
    ).first()
    return progress_from_row(scope, row)


def progress_from_row(scope: str, row, now=None) -> Progress | None:
    """The Progress of a row of `progress_query` (extra columns after it are ignored); `now`
    is compared with the close time as the database returned it."""
    if row is None:
        return None
    raised, eligible, supporters, version, closes_at, fills, target = row[:7]
    return Progress(
        scope=scope,
        raised_pence=raised,
        gift_aid_pence=gift_aid_on(eligible),
        supporters=supporters,
        target_pence=target,
        version=version,
        closed=closes_at is not None and (now or utcnow()) >= closes_at,
        gift_aid_fills_target=bool(fills),
    )


@dataclass(frozen=True)
class LeaderboardEntry:
    """One participant's line on the event page's leaderboard."""

    name: str
    slug: str
    title: str
    raised_pence: int
    target_pence: int
    photo_sha256: str | None = None


def leaderboard(limit: int = 10) -> list[LeaderboardEntry]:
    """Published sponsor pages, most raised first."""
    rows = db.session.execute(
        select(
            User.name,
            SponsorPage.slug,
            SponsorPage.title,
            Totals.raised_pence,
            SponsorPage.target_pence,
            SponsorPage.photo_sha256,
        )
        .join(SponsorPage, SponsorPage.participant_id == User.id)
        .join(Totals, Totals.scope == page_scope_expression())
        .where(public_pages_clause())
        .order_by(Totals.raised_pence.desc(), User.name)
        .limit(limit)
    ).all()
    return [LeaderboardEntry(*row) for row in rows]


def page_scope_expression():
    """SQL for a sponsor page's totals key, 'page:<id>', for joins."""
    return literal("page:") + cast(SponsorPage.id, String)


def public_pages_clause():
    """SQL condition for sponsor pages anyone may see (the one definition, on the model)."""
    return SponsorPage.is_public


def recent_donations(
    limit: int = 10,
    sponsor_page_id: int | None = None,
    older_than: int | None = None,
    team_id: int | None = None,
) -> list[Donation]:
    """The latest donations that count, newest first, for a scope's public list (the event,
    a page, or a team: its members' pages and gifts to the team itself); with `older_than`
    (a donation's id), those listed after that one."""
    query = select(Donation).where(counted_clause())
    if sponsor_page_id is not None:
        query = query.where(Donation.sponsor_page_id == sponsor_page_id)
    if team_id is not None:
        members = select(TeamMember.sponsor_page_id).where(
            TeamMember.team_id == team_id, TeamMember.counts
        )
        query = query.where(or_(Donation.team_id == team_id, Donation.sponsor_page_id.in_(members)))
    # Keyset, not OFFSET: the database reads one page however far back the donor looks.
    # An unknown id (a hand-edited link) lists the latest.
    after = db.session.get(Donation, older_than) if older_than is not None else None
    if after is not None and after.paid_at is not None:
        query = query.where(
            or_(
                Donation.paid_at < after.paid_at,
                and_(Donation.paid_at == after.paid_at, Donation.id < after.id),
            )
        )
    query = query.order_by(Donation.paid_at.desc(), Donation.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def counted_clause():
    """SQL condition for donations that count in the totals (mirrors `Donation.contribution`)."""
    return (
        (Donation.status == DonationStatus.PAID)
        & (Donation.review_reason == "")
        & (Donation.refunded_pence + Donation.disputed_pence < Donation.amount_pence)
    )
