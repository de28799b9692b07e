"""Gift Aid claims as records: start a claim for a period, download its files again, mark it
submitted to HMRC, or discard it before then.

Starting a claim freezes exactly which donations are in it, each line's cells as written, so
the files are the same however often and however late they are downloaded. A donation is in
one claim at most (the database refuses a second line for it). A donation refunded or lost in
a dispute after it was claimed is tax over-claimed; the next claim started puts what is not yet
repaid in Box 2 and records each repayment, so each over-claim is repaid once.

HMRC's deadline: a claim within 4 years of the end of the charity's accounting period in which
the money was received (the year ends on GIFT_AID_ACCOUNTING_YEAR_END, default 31 March)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import audit
from app.database import begin_write
from app.donations.gift_aid import claim_pence, gift_aid_on
from app.extensions import db
from app.models import (
    EVENT_ID,
    ClaimStatus,
    Donation,
    DonationStatus,
    Event,
    GiftAidClaim,
    GiftAidClaimLine,
    OverclaimSettlement,
    User,
    utcnow,
)
from app.organiser import gift_aid_export
from app.organiser.gift_aid_export import Refusal, Schedule, ScheduleRow, schedule_row
from app.timefmt import LONDON, to_london

YEARS_TO_CLAIM = 4


class ClaimNotPossible(Exception):
    """Why a claim cannot be started, submitted or discarded, in words for the organiser."""


class ClaimClosed(ClaimNotPossible):
    """The claim is submitted or discarded already: nothing more can be done to it."""


# Dates ---------------------------------------------------------------------------------


def today() -> date:
    """Today's date in the UK."""
    return to_london(utcnow()).date()


@dataclass(frozen=True)
class Period:
    """The UK dates a claim covers, both included."""

    start: date
    end: date

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[from, to) in UTC: midnight UK time on the first day to midnight after the last."""
        first = datetime.combine(self.start, time(), LONDON).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), LONDON).astimezone(UTC)
        return first, after

    def problem(self) -> str | None:
        """Why the period cannot be claimed for (None: it can)."""
        if self.start > self.end:
            return "The period's first day must be on or before its last day"
        if self.end > today():
            return "A claim is for money already received: the last day can't be in the future"
        return None


def accounting_year_end() -> tuple[int, int]:
    """(month, day) the charity's accounting year ends on, from GIFT_AID_ACCOUNTING_YEAR_END."""
    text = current_app.config["GIFT_AID_ACCOUNTING_YEAR_END"]
    try:
        month, day = (int(part) for part in text.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError as exc:
        raise RuntimeError(
            f"GIFT_AID_ACCOUNTING_YEAR_END must be MM-DD, like 03-31, not {text!r}"
        ) from exc
    return month, day


def _year_end(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a year that has none
        return date(year, month, day - 1)


def claim_deadline(received_on: date, year_end: tuple[int, int]) -> date:
    """The last day HMRC takes a claim on money received that day: 4 years after the end of
    the accounting period it was received in."""
    month, day = year_end
    period_end = _year_end(received_on.year, month, day)
    if period_end < received_on:
        period_end = _year_end(received_on.year + 1, month, day)
    return _year_end(period_end.year + YEARS_TO_CLAIM, month, day)


# Over-claims ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Overclaim:
    """Tax claimed on a line that the charity no longer holds the gift for, not yet repaid."""

    line: GiftAidClaimLine
    now_pence: int  # what the claim would be made on today
    overclaimed_to_pence: int  # the line's whole over-claim: Gift Aid claimed - Gift Aid now
    repaid_pence: int  # already put in Box 2 of a claim

    @property
    def tax_pence(self) -> int:
        """What is still to repay in Box 2."""
        return self.overclaimed_to_pence - self.repaid_pence


def still_claimable_pence(donation: Donation) -> int:
    """What a claim would be made on for this donation today (0: nothing held any more)."""
    if donation.status != DonationStatus.PAID or donation.held_for_review:
        return 0
    return claim_pence(donation) if donation.net_pence > 0 else 0


def overclaims() -> list[Overclaim]:
    """Every over-claim on a submitted claim not yet (wholly) repaid in Box 2, oldest first."""
    changed = (
        (Donation.refunded_pence + Donation.disputed_pence > 0)
        | (Donation.status != DonationStatus.PAID)
        | (Donation.review_reason != "")
    )
    repaid = (
        select(
            OverclaimSettlement.line_id,
            func.max(OverclaimSettlement.overclaimed_to_pence).label("to"),
        )
        .group_by(OverclaimSettlement.line_id)
        .subquery()
    )
    query = (
        select(GiftAidClaimLine, repaid.c.to)
        .join(GiftAidClaim, GiftAidClaim.id == GiftAidClaimLine.claim_id)
        .join(Donation, Donation.id == GiftAidClaimLine.donation_id)
        .outerjoin(repaid, repaid.c.line_id == GiftAidClaimLine.id)
        .where(GiftAidClaim.status == ClaimStatus.SUBMITTED, changed)
        .options(joinedload(GiftAidClaimLine.donation), joinedload(GiftAidClaimLine.claim))
        .order_by(GiftAidClaimLine.claim_id, GiftAidClaimLine.position)
    )
    found = []
    for line, repaid_to in db.session.execute(query):
        now = still_claimable_pence(line.donation)
        overclaim = Overclaim(line, now, line.gift_aid_pence - gift_aid_on(now), repaid_to or 0)
        if overclaim.tax_pence > 0:
            found.append(overclaim)
    return found


# What a claim would hold ---------------------------------------------------------------


@dataclass
class Preview:
    """What a claim started now for `period` would hold, and what it would leave out."""

    period: Period
    schedule: Schedule = field(default_factory=Schedule)
    too_old: list[Refusal] = field(default_factory=list)
    overclaims: list[Overclaim] = field(default_factory=list)

    @property
    def box_2_pence(self) -> int:
        """Tax over-claimed before, repaid by this claim."""
        return sum(overclaim.tax_pence for overclaim in self.overclaims)

    @property
    def gift_aid_pence(self) -> int:
        """The Gift Aid the claim asks HMRC for, before Box 2."""
        return gift_aid_on(self.schedule.total_pence)


def _unclaimed_in(period: Period):
    first, after = period.utc_bounds()
    in_a_claim = exists().where(GiftAidClaimLine.donation_id == Donation.id)
    return (
        select(Donation)
        .where(gift_aid_export.claimable(), Donation.paid_at >= first, Donation.paid_at < after)
        .where(~in_a_claim)
        .order_by(Donation.paid_at, Donation.id)
    )


def preview(period: Period) -> Preview:
    """Every claimable donation received in the period and in no claim yet: its line, or why
    it is left out (HMRC would refuse it, or HMRC's 4-year deadline has passed)."""
    found = Preview(period, overclaims=overclaims())
    if period.problem():
        return found  # nothing can be claimed for it (and 31/12/9999 has no day after)
    year_end, now = accounting_year_end(), today()
    for donation in db.session.scalars(_unclaimed_in(period).execution_options(yield_per=500)):
        outcome = schedule_row(donation)
        if isinstance(outcome, Refusal):
            found.schedule.refused.append(outcome)
            continue
        deadline = claim_deadline(outcome.donated_on, year_end)
        if deadline < now:
            reason = (
                f"Received on {outcome.donated_on:%d/%m/%Y}: HMRC's deadline for claiming it "
                f"was {deadline:%d/%m/%Y} (4 years after the end of that accounting period)"
            )
            donor = f"{outcome.first_name} {outcome.last_name}"
            found.too_old.append(Refusal(outcome.donation_id, donor, (reason,)))
        else:
            found.schedule.rows.append(outcome)
    return found


# Starting, submitting, discarding ------------------------------------------------------


def start(period: Period, actor: User | None = None) -> tuple[GiftAidClaim, Preview]:
    """Freeze the claimable donations of the period into a new claim, with Box 2 repaying
    every over-claim not yet repaid; also what it left out. Raises ClaimNotPossible."""
    problem = period.problem()
    if problem:
        raise ClaimNotPossible(problem)
    begin_write()  # SQLite: take the write lock now, so claims are started one at a time
    # PostgreSQL: one start at a time too; the second sees the first's lines once it commits.
    db.session.execute(select(Event.id).where(Event.id == EVENT_ID).with_for_update())
    found = preview(period)
    if not found.schedule.rows:
        db.session.rollback()
        raise ClaimNotPossible(
            "No donation received in that period can be claimed: none is waiting, or every one "
            "is already in a claim or left out for a reason listed with it"
        )
    claim = _frozen(found, actor)
    try:
        db.session.flush()
        audit.record(
            "gift_aid.claim_started",
            actor=actor,
            after_pence=claim.amount_pence,
            detail=_describe(claim),
        )
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ClaimNotPossible(
            "Another claim took some of these donations at the same moment. Look at the "
            "claims below, then start again if anything is left"
        ) from exc
    return claim, found


def _frozen(found: Preview, actor: User | None) -> GiftAidClaim:
    rows = found.schedule.rows
    claim = GiftAidClaim(
        period_from=found.period.start,
        period_to=found.period.end,
        status=ClaimStatus.STARTED,
        line_count=len(rows),
        amount_pence=found.schedule.total_pence,
        gift_aid_pence=found.gift_aid_pence,
        overclaimed_pence=found.box_2_pence,
        started_by_id=actor.id if actor else None,
    )
    db.session.add(claim)
    for position, row in enumerate(rows, start=1):
        db.session.add(
            GiftAidClaimLine(
                claim=claim,
                donation_id=row.donation_id,
                position=position,
                title=row.title,
                first_name=row.first_name,
                last_name=row.last_name,
                house=row.house,
                postcode=row.postcode,
                donated_on=row.donated_on,
                amount_pence=row.amount_pence,
                gift_aid_pence=gift_aid_on(row.amount_pence),
            )
        )
    for overclaim in found.overclaims:
        db.session.add(
            OverclaimSettlement(
                claim=claim,
                line_id=overclaim.line.id,
                tax_pence=overclaim.tax_pence,
                overclaimed_to_pence=overclaim.overclaimed_to_pence,
            )
        )
    return claim


def _describe(claim: GiftAidClaim) -> str:
    text = (
        f"Claim #{claim.id}, {claim.period_from:%d/%m/%Y} to {claim.period_to:%d/%m/%Y}: "
        f"{claim.line_count} donations, {gift_aid_export.hmrc.two_decimals(claim.amount_pence)} "
        f"claimed on"
    )
    if claim.overclaimed_pence:
        text += f"; Box 2 {gift_aid_export.hmrc.two_decimals(claim.overclaimed_pence)}"
    return text


def claim_or_none(claim_id: int) -> GiftAidClaim | None:
    """The claim with this id, if there is one."""
    return db.session.get(GiftAidClaim, claim_id)


def _locked(claim_id: int) -> GiftAidClaim:
    begin_write()
    claim = db.session.scalar(
        select(GiftAidClaim).where(GiftAidClaim.id == claim_id).with_for_update()
    )
    if claim is None:
        db.session.rollback()
        raise ClaimNotPossible(f"There is no claim #{claim_id}")
    return claim


def mark_submitted(
    claim_id: int, on: date, reference: str = "", actor: User | None = None
) -> GiftAidClaim:
    """Record that the claim went to HMRC on `on` (a UK date): its donations are claimed."""
    claim = _locked(claim_id)
    if claim.status != ClaimStatus.STARTED:
        db.session.rollback()
        raise ClaimClosed(
            f"Claim #{claim.id} is {claim.status.value}: only a started claim is submitted"
        )
    problem = None
    if on > today():
        problem = "The date it was submitted can't be in the future"
    elif on < to_london(claim.started_at).date():
        problem = "The date it was submitted can't be before the claim was started"
    if problem:
        db.session.rollback()
        raise ClaimNotPossible(problem)
    claim.status = ClaimStatus.SUBMITTED
    claim.submitted_on = on
    claim.hmrc_reference = reference
    claim.submitted_at = utcnow()
    detail = f"{_describe(claim)}; submitted to HMRC on {on:%d/%m/%Y}"
    audit.record(
        "gift_aid.claim_submitted",
        actor=actor,
        after_pence=claim.amount_pence,
        detail=detail + (f", HMRC reference {reference}" if reference else ""),
    )
    db.session.commit()
    return claim


def discard(claim_id: int, actor: User | None = None, reason: str = "") -> GiftAidClaim:
    """Give a claim not yet submitted up: its donations (and the over-claims it would have
    repaid) are free for the next claim; the claim stays listed as discarded."""
    claim = _locked(claim_id)
    if claim.status != ClaimStatus.STARTED:
        db.session.rollback()
        raise ClaimClosed(
            f"Claim #{claim.id} is {claim.status.value}: only a claim not yet submitted "
            "can be discarded"
        )
    for item in (*claim.settlements, *claim.lines):
        db.session.delete(item)
    claim.status = ClaimStatus.DISCARDED
    claim.discarded_at = utcnow()
    audit.record(
        "gift_aid.claim_discarded",
        actor=actor,
        before_pence=claim.amount_pence,
        after_pence=0,
        reason=reason,
        detail=f"{_describe(claim)}; discarded, its donations released",
    )
    db.session.commit()
    return claim


def claims() -> list[GiftAidClaim]:
    """Every claim, newest first."""
    return list(db.session.scalars(select(GiftAidClaim).order_by(GiftAidClaim.id.desc())))


def changed_since_started(claim: GiftAidClaim) -> list[GiftAidClaimLine]:
    """Lines of a started claim whose donation now holds less than the line claims."""
    query = (
        select(GiftAidClaimLine)
        .where(GiftAidClaimLine.claim_id == claim.id)
        .join(Donation, Donation.id == GiftAidClaimLine.donation_id)
        .where(
            (Donation.refunded_pence + Donation.disputed_pence > 0)
            | (Donation.status != DonationStatus.PAID)
            | (Donation.review_reason != "")
        )
        .options(joinedload(GiftAidClaimLine.donation))
    )
    return [
        line
        for line in db.session.scalars(query)
        if still_claimable_pence(line.donation) < line.amount_pence
    ]


def suggested_period() -> Period:
    """The next period to claim for: from the day after the last claim's period (or the first
    unclaimed donation) to yesterday."""
    last = db.session.scalar(
        select(func.max(GiftAidClaim.period_to)).where(GiftAidClaim.status != ClaimStatus.DISCARDED)
    )
    end = today() - timedelta(days=1)
    if last is not None:
        start = last + timedelta(days=1)
    else:
        first = db.session.scalar(
            select(func.min(Donation.paid_at)).where(gift_aid_export.claimable())
        )
        start = to_london(first).date() if first else end
    return Period(min(start, end), end)


# The files -----------------------------------------------------------------------------


def rows_of(claim: GiftAidClaim) -> list[ScheduleRow]:
    """The claim's lines, as they were written when it was started (paper sponsorship on one
    line per participant if the organiser chose HMRC's sponsored-event method)."""
    from app.paper.claim import regroup  # imported here: app.paper brings its views along

    rows = [
        ScheduleRow(
            donation_id=line.donation_id,
            title=line.title,
            first_name=line.first_name,
            last_name=line.last_name,
            house=line.house,
            postcode=line.postcode,
            donated_on=line.donated_on,
            amount_pence=line.amount_pence,
        )
        for line in claim.lines
    ]
    return regroup(claim, rows)


def files(claim: GiftAidClaim, fmt: str) -> list[tuple[str, bytes]]:
    """(name, contents) of the claim's files: one, or one per 1,000 lines (Box 2 on the first)."""
    schedule = Schedule(rows=rows_of(claim))
    return gift_aid_export.schedule_files(
        schedule, fmt, f"gift-aid-claim-{claim.id}", claim.overclaimed_pence or None
    )
