"""Paper sponsorship in a Gift Aid claim. By default each sponsor who ticked Gift Aid is a
line of their own (their name and address, Sponsored event blank). An organiser may choose
HMRC's sponsored-event method instead: one line per participant, with the participant's own
name and address, "Yes" in Sponsored event and the total, sponsors giving more than £500 still
on their own lines (gov.uk: "Do not enter 'yes' ... against individual donations").

A team's sheets (`T-`) always keep a line per sponsor: a "Yes" line is one participant's, with
their own name and address, and a team's sponsorship is not one participant's to aggregate."""

from dataclasses import dataclass, replace

from sqlalchemy import or_, select

from app.donations.gift_aid import GiftAidDetails
from app.extensions import db
from app.models import ClaimStatus, GiftAidClaim, User
from app.models.paper import PaperClaimMethod, PaperLine, PaperSeries, PaperSheet
from app.organiser.gift_aid_export import ScheduleRow

# A sponsor giving more than this goes on their own line even under the sponsored method.
OWN_LINE_OVER_PENCE = 50_000


def sponsored_method(claim: GiftAidClaim) -> bool:
    """Whether the claim puts paper sponsorship on one "Yes" line per participant."""
    return db.session.get(PaperClaimMethod, claim.id) is not None


def _series_of(donation_ids: list[int]) -> dict[int, PaperSeries]:
    """donation id -> the series of the paper sheet it came from (paper donations only)."""
    if not donation_ids:
        return {}
    found = db.session.execute(
        select(PaperLine.donation_id, PaperLine.pledge_donation_id, PaperSeries)
        .join(PaperSheet, PaperLine.sheet_id == PaperSheet.id)
        .join(PaperSeries, PaperSheet.series_id == PaperSeries.id)
        .where(
            or_(
                PaperLine.donation_id.in_(donation_ids),
                PaperLine.pledge_donation_id.in_(donation_ids),
            )
        )
    ).all()
    series: dict[int, PaperSeries] = {}
    for paid, later, of in found:
        for donation_id in (paid, later):
            if donation_id is not None:
                series[donation_id] = of
    return series


@dataclass(frozen=True)
class Participant:
    """A participant whose paper Gift Aid is in a claim, and what it comes to."""

    series: PaperSeries
    sponsors: int
    amount_pence: int


def participants_in(claim: GiftAidClaim) -> list[Participant]:
    """The participants whose paper Gift Aid donations are in this claim (teams' sheets are
    not a participant's: their sponsors stay on lines of their own)."""
    amounts = {line.donation_id: line.amount_pence for line in claim.lines}
    grouped: dict[int, list[int]] = {}
    by_id: dict[int, PaperSeries] = {}
    for donation_id, series in _series_of(list(amounts)).items():
        if series.sponsor_page_id is None:
            continue
        grouped.setdefault(series.id, []).append(amounts[donation_id])
        by_id[series.id] = series
    return [
        Participant(by_id[series_id], len(found), sum(found))
        for series_id, found in sorted(grouped.items())
    ]


def save_address(series: PaperSeries, details: GiftAidDetails) -> None:
    """Keep a participant's name and home address for sponsored-event lines."""
    series.claim_title, series.claim_first_name = details.title, details.first_name
    series.claim_last_name, series.claim_house = details.last_name, details.house
    series.claim_postcode = details.postcode
    db.session.commit()


def choose(claim: GiftAidClaim, sponsored: bool, organiser: User) -> str | None:
    """Switch the claim's paper lines to (or from) the sponsored-event method; why not, if it
    cannot be (the claim went to HMRC, or a participant's address is missing)."""
    if claim.status != ClaimStatus.STARTED:
        return "This claim has gone to HMRC or been discarded: its lines can't change now."
    chosen = db.session.get(PaperClaimMethod, claim.id)
    if not sponsored:
        if chosen is not None:
            db.session.delete(chosen)
        db.session.commit()
        return None
    missing = [p.series for p in participants_in(claim) if not p.series.has_claim_address]
    if missing:
        names = ", ".join(series.sponsor_page.participant.name for series in missing)
        return f"Add the home address of every participant first (missing: {names})."
    if not participants_in(claim):
        return (
            "No participant's paper sponsorship with Gift Aid is in this claim (a team's "
            "sheets always have a line per sponsor)."
        )
    if chosen is None:
        db.session.add(PaperClaimMethod(claim_id=claim.id, chosen_by_id=organiser.id))
    db.session.commit()
    return None


def regroup(claim: GiftAidClaim, rows: list[ScheduleRow]) -> list[ScheduleRow]:
    """The claim's rows as its method wants them: unchanged, or paper sponsors of £500 or less
    merged into one "Yes" line per participant, in the place of their first sponsor."""
    if not sponsored_method(claim):
        return rows
    series_of = _series_of([row.donation_id for row in rows])
    at: dict[int, int] = {}  # series id -> where its "Yes" line is in `out`
    out: list[ScheduleRow] = []
    for row in rows:
        series = series_of.get(row.donation_id)
        individual = series is None or series.sponsor_page_id is None  # online, or a team's
        if individual or row.amount_pence > OWN_LINE_OVER_PENCE:
            out.append(row)
            continue
        if series.id not in at:
            at[series.id] = len(out)
            out.append(
                ScheduleRow(
                    donation_id=row.donation_id,
                    title=series.claim_title,
                    first_name=series.claim_first_name,
                    last_name=series.claim_last_name,
                    house=series.claim_house,
                    postcode=series.claim_postcode,
                    donated_on=row.donated_on,
                    amount_pence=0,
                    sponsored="Yes",
                )
            )
        line = out[at[series.id]]
        # The line's date: the last sponsorship money it covers.
        out[at[series.id]] = replace(
            line,
            amount_pence=line.amount_pence + row.amount_pence,
            donated_on=max(line.donated_on, row.donated_on),
        )
    return out
