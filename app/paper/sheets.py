"""Returned sheets: found by their reference, kept as a draft any organiser can finish, and
saved once, every paid line an offline donation to the sheet's participant (a `P-` sheet) or
team (a `T-` sheet) in one transaction, so the totals move at once and nothing is counted
twice."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import audit, totals
from app.database import begin_write
from app.donations.offline import apply_gift_aid
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Contribution,
    Donation,
    DonationSource,
    DonationStatus,
    SponsorPage,
    Team,
    Totals,
    User,
    team_scope,
)
from app.models.paper import PaperLine, PaperSeries, PaperSheet, SheetStatus
from app.money import format_pence
from app.paper import reference
from app.paper.entry import Draft, Grid
from app.teams import service as teams
from app.timefmt import LONDON


class SheetNotFound(LookupError):
    """A reference that is not one of ours; the message says what to check."""


@dataclass(frozen=True)
class Found:
    """A sheet's series, number and reference, and the sponsor page it belongs to."""

    series: PaperSeries
    number: int
    reference: str

    @property
    def page(self) -> SponsorPage | None:
        """The participant's page the sheet's money goes to (None on a team's sheet)."""
        return self.series.sponsor_page

    @property
    def printed_for(self) -> Team | None:
        """The team whose name is printed on the sheet (None on a participant's sheet)."""
        return self.series.team

    @property
    def team(self) -> Team | None:
        """The team a team's sheet's money goes to now: the team printed on it, or, if an
        organiser merged that team into another, the team its members and money went to."""
        printed = self.series.team
        return None if printed is None else teams.surviving_team(printed)

    @property
    def owner_name(self) -> str:
        """Whose sheet it is, for the organiser: the participant, or the team it counts for."""
        team = self.team
        return team.name if team is not None else self.series.owner_name

    @property
    def owner_url(self) -> str:
        """Where the sheet's money shows: the participant's page or the team's."""
        from flask import url_for

        team = self.team
        if team is not None:
            return url_for("teams.show_team", slug=team.slug)
        return url_for("pages.show_page", slug=self.page.slug)


def find(typed: str) -> Found:
    """The sheet a typed or scanned reference names, or SheetNotFound saying why not."""
    try:
        code, number, kind = reference.parse(typed)
    except reference.ReferenceError as exc:
        raise SheetNotFound(str(exc)) from None
    series = db.session.scalar(select(PaperSeries).where(PaperSeries.code == code))
    if series is None:
        raise SheetNotFound(
            "No participant or team has sheets with that reference: check it again."
        )
    if series.kind != kind:
        # Codes are unique across both kinds: the letter is wrong, never the sheet's owner.
        whose = "a team's sheet" if series.kind == reference.TEAM else "a participant's sheet"
        raise SheetNotFound(
            f"That code is on {whose}, whose reference starts {series.kind}-, not {kind}-: "
            "check the first letter against the sheet."
        )
    if number > series.sheets:
        raise SheetNotFound(
            f"{series.owner_name} has printed {series.sheets} "
            f"sheet{'s' if series.sheets != 1 else ''}, so there is no sheet {number}: "
            "check the sheet number."
        )
    return Found(series, number, reference.reference(code, number, kind))


def sheet_of(found: Found) -> PaperSheet | None:
    """The sheet as typed so far (None: nobody has started it)."""
    return db.session.scalar(
        select(PaperSheet).where(
            PaperSheet.series_id == found.series.id, PaperSheet.number == found.number
        )
    )


def draft_of(sheet: PaperSheet | None) -> Draft | None:
    """The draft saved on a sheet, if any."""
    if sheet is None or not sheet.draft:
        return None
    data = json.loads(sheet.draft)
    return Draft(data.get("rows", []), data.get("handed_in", ""), data.get("received_on", ""))


def _sheet_row(found: Found) -> PaperSheet:
    """The sheet's row, locked for this transaction (made the first time): two organisers
    saving at once queue on it, and the second finds it saved."""
    for _ in range(2):
        begin_write()
        sheet = db.session.scalar(
            select(PaperSheet)
            .where(PaperSheet.series_id == found.series.id, PaperSheet.number == found.number)
            .with_for_update()
        )
        if sheet is not None:
            return sheet
        sheet = PaperSheet(
            series_id=found.series.id, number=found.number, reference=found.reference
        )
        db.session.add(sheet)
        try:
            db.session.flush()
            return sheet
        except IntegrityError:  # another organiser made it a moment ago: lock theirs
            db.session.rollback()
    raise RuntimeError(f"could not lock sheet {found.reference}")


def save_draft(found: Found, draft: Draft, organiser: User) -> PaperSheet | None:
    """Keep the grid as typed for later (None: the sheet was saved meanwhile)."""
    sheet = _sheet_row(found)
    if sheet.status == SheetStatus.SAVED:
        db.session.commit()
        return None
    sheet.draft = json.dumps(
        {"rows": draft.rows, "handed_in": draft.handed_in, "received_on": draft.received_on}
    )
    sheet.updated_by_id = organiser.id
    db.session.commit()
    return sheet


def save(
    found: Found, grid: Grid, handed_in_pence: int | None, received_on: date, organiser: User
) -> tuple[PaperSheet, bool]:
    """Record the sheet: every line kept, each paid one an offline donation with its Gift Aid.
    Returns the sheet and whether this call saved it (False: someone else already had)."""
    sheet = _sheet_row(found)
    if sheet.status == SheetStatus.SAVED:
        db.session.commit()
        return sheet, False
    page, team = found.page, _locked_team(found)
    paid: list[tuple[PaperLine, Donation]] = []
    for row in grid.filled:
        line = PaperLine(
            sheet_id=sheet.id,
            row=row.number + 1,
            donor_name=row.donor_name,
            gift_aid=row.details is not None,
            pledged_pence=max(row.pledged_pence, row.paid_pence),
            paid_pence=row.paid_pence,
            paid_at=_midday(row.paid_on) if row.paid_pence else None,
        )
        if row.details is not None:
            details = row.details
            line.title, line.first_name, line.last_name = (
                details.title,
                details.first_name,
                details.last_name,
            )
            line.house, line.postcode = details.house, details.postcode
        db.session.add(line)
        if row.paid_pence:
            paid.append((line, _donation(page, team, row, line, organiser)))
    _count(paid, page, organiser, found.reference)
    sheet.status = SheetStatus.SAVED
    sheet.draft = ""
    sheet.handed_in_pence = handed_in_pence
    sheet.received_on = received_on
    sheet.sheet_paid_pence = grid.paid_pence
    sheet.saved_by_id = sheet.updated_by_id = organiser.id
    sheet.saved_at = datetime.now(UTC)
    db.session.commit()
    return sheet, True


def _locked_team(found: Found) -> Team | None:
    """The team a team's sheet counts for, read under its totals row's lock (the event's
    row first, in the order every donation and a merge take them), so a merge committed a
    moment ago is seen and the money goes where the team's members and money went."""
    team = found.printed_for
    if team is None:
        return None
    db.session.execute(select(Totals.scope).where(Totals.scope == EVENT_SCOPE).with_for_update())
    seen = set()
    while True:
        seen.add(team.id)
        db.session.execute(
            select(Totals.scope).where(Totals.scope == team_scope(team.id)).with_for_update()
        )
        db.session.refresh(team)
        into = db.session.get(Team, team.merged_into_id) if team.merged_into_id else None
        if into is None or into.id in seen:
            return team
        team = into


def _donation(page, team, row, line: PaperLine, organiser: User) -> Donation:
    """A paid line's money, paid already: cash an organiser has in hand. A team's sheet's
    money is a gift to the team itself (team_id), like "Sponsor the team" online."""
    donation = Donation(
        source=DonationSource.OFFLINE,
        status=DonationStatus.PAID,
        sponsor_page_id=page.id if page is not None else None,
        team_id=team.id if team is not None else None,
        amount_pence=row.paid_pence,
        donor_name=row.donor_name,
        # Nobody on paper agreed to have their name on the website.
        anonymous=True,
        recorded_by_id=organiser.id,
        confirmed_by_id=organiser.id,
        paid_at=line.paid_at,
    )
    apply_gift_aid(donation, row.details, line.paid_at)
    return donation


def _count(paid: list[tuple[PaperLine, Donation]], page, organiser: User, ref: str) -> None:
    """Every paid line's donation saved and counted in this transaction. The totals move by
    their sum in one UPDATE a scope (what `totals.tracking` does one donation at a time), the
    page's team included (or, on a team's sheet, the event and that team), so a 500-line
    sheet is as quick to save as one line is."""
    if not paid:
        return
    db.session.add_all([donation for _, donation in paid])
    db.session.flush()
    moved = Contribution()
    for line, donation in paid:
        line.donation_id = donation.id
        moved = moved + donation.contribution()
        audit.record(
            "offline.recorded",
            actor=organiser,
            donation=donation,
            sponsor_page=page,
            before_pence=0,
            after_pence=donation.amount_pence,
            detail=f"paper sponsorship form {ref}, line {line.row}",
        )
    totals.move(moved, paid[0][1])


def _midday(day: date) -> datetime:
    """A day written on paper as a UTC time: midday in the UK, so it is that day everywhere."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).astimezone(UTC)


def recent(limit: int = 20) -> list[PaperSheet]:
    """Sheets being typed in (drafts) and the latest saved, newest first."""
    return list(
        db.session.scalars(select(PaperSheet).order_by(PaperSheet.updated_at.desc()).limit(limit))
    )


def saved_message(found: Found, sheet: PaperSheet, by_me: bool) -> str:
    """What an organiser is told after pressing Save."""
    if not by_me:
        return "Another organiser saved this sheet a moment ago: nothing was counted twice."
    lines = len(sheet.lines)
    text = (
        f"Saved {lines} line{'s' if lines != 1 else ''}: {format_pence(sheet.sheet_paid_pence)} "
        f"counted for {'the team ' if found.team is not None else ''}{found.owner_name}."
    )
    difference = sheet.difference_pence
    if difference:
        text += f" The money handed in differs from the sheet by {format_pence(abs(difference))}."
    return text
