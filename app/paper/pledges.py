"""Pledges on paper: a sponsor who promised more than they paid. The promise is shown to the
participant and counts nothing; when the participant hands the rest in they say so, and it
waits for an organiser like any reported cash (offline.confirm_cash counts it).

A team's sheet works the same way, with the team's captain in the participant's place: the
promises are shown on the captain's /me, and the rest handed in is a gift to the team (the
team it was merged into, if an organiser merged the one printed on the sheet)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import audit, totals
from app.database import begin_write
from app.donations.gift_aid import GiftAidDetails
from app.donations.offline import apply_gift_aid
from app.extensions import db
from app.models import Donation, DonationSource, DonationStatus, SponsorPage, Team, User, utcnow
from app.models.paper import PaperLine, PaperSeries, PaperSheet
from app.money import format_pence
from app.teams import service as teams


@dataclass(frozen=True)
class Promises:
    """A participant's paper lines with something promised, and what they add up to."""

    lines: list[PaperLine]
    promised_pence: int
    collected_pence: int

    @property
    def summary(self) -> str:
        """ "£40.00 promised, £25.00 collected"."""
        return (
            f"{format_pence(self.promised_pence)} promised, "
            f"{format_pence(self.collected_pence)} collected"
        )


def _lines():
    return (
        select(PaperLine)
        .join(PaperSheet, PaperLine.sheet_id == PaperSheet.id)
        .join(PaperSeries, PaperSheet.series_id == PaperSeries.id)
    )


def _lines_of(page: SponsorPage):
    return _lines().where(PaperSeries.sponsor_page_id == page.id)


def _lines_of_team(team: Team):
    """The lines of the team's sheets, and of any team merged into it."""
    return _lines().where(PaperSeries.team_id.in_(teams.merged_into(team)))


def promises_of(page: SponsorPage) -> Promises:
    """The page's pledged lines (paid or not), newest sheet first."""
    return _promises(_lines_of(page))


def promises_of_team(team: Team) -> Promises:
    """The team's pledged lines on its sheets, for its captain's /me."""
    return _promises(_lines_of_team(team))


def _promises(query) -> Promises:
    lines = list(
        db.session.scalars(
            query.where(PaperLine.pledged_pence > 0)
            .options(joinedload(PaperLine.sheet), joinedload(PaperLine.pledge_donation))
            .order_by(PaperLine.sheet_id.desc(), PaperLine.row)
        )
    )
    pledged = [line for line in lines if line.pledged_pence > line.paid_pence]
    return Promises(
        lines=pledged,
        promised_pence=sum(line.pledged_pence for line in pledged),
        collected_pence=sum(line.collected_pence for line in pledged),
    )


def report_paid(participant: User, line_id: int) -> tuple[PaperLine | None, bool]:
    """The participant has the rest of a pledge on their own sheet, or the captain on their
    team's: it waits for an organiser to confirm. Returns the line (None if it is not
    theirs) and whether this call reported it."""
    page = participant.sponsor_page
    if page is None:
        return None, False
    team = teams.captained_by(page)
    begin_write()
    line = db.session.scalar(_lines_of(page).where(PaperLine.id == line_id).with_for_update())
    if line is not None:
        team = None  # the captain's own sheet: their page's money
    elif team is not None:
        line = db.session.scalar(
            _lines_of_team(team).where(PaperLine.id == line_id).with_for_update()
        )
        page = None  # the team's sheet: a gift to the team, not to the captain's page
    if line is None or not line.outstanding_pence:
        db.session.commit()
        return line, False
    amount = line.outstanding_pence
    donation = Donation(
        source=DonationSource.OFFLINE,
        status=DonationStatus.PENDING,
        sponsor_page_id=page.id if page is not None else None,
        team_id=team.id if team is not None else None,
        amount_pence=amount,
        donor_name=line.donor_name,
        anonymous=True,
        recorded_by_id=participant.id,
    )
    details = None
    if line.gift_aid:
        details = GiftAidDetails(
            line.title, line.first_name, line.last_name, line.house, line.postcode
        )
    apply_gift_aid(donation, details, utcnow())
    with totals.tracking(donation):
        pass  # pending: adds nothing until an organiser confirms it
    line.pledge_donation_id = donation.id
    audit.record(
        "offline.reported",
        actor=participant,
        donation=donation,
        sponsor_page=page,
        before_pence=0,
        after_pence=0,
        reason=(
            f"The rest of a pledge: {line.donor_name or 'a sponsor'} on paper sheet "
            f"{line.sheet.reference}, line {line.row} ({format_pence(line.pledged_pence)} "
            f"promised, {format_pence(line.paid_pence)} paid before)"
        ),
        detail="cash",
    )
    db.session.commit()
    return line, True
