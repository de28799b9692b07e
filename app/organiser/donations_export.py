"""Every donation, in every state, as CSV: amounts in pounds, times in UK time.

Text a donor typed could be a formula to a spreadsheet ("=HYPERLINK(...)"): such cells are
prefixed with an apostrophe, which spreadsheets show as text (OWASP's CSV injection advice)."""

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.models import Donation, SponsorPage, User
from app.teams.service import team_names_by_page
from app.timefmt import to_london

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    "Donation",
    "Created (UK time)",
    "Paid (UK time)",
    "Status",
    "Source",
    "Participant",
    "Sponsor page",
    "Team",
    "Amount",
    "Fee covered",
    "Refunded",
    "Kept",
    "Dispute",
    "Withdrawn for disputes",
    "Taken by Stripe",
    "Held for review",
    "Donor name",
    "Donor email",
    "Anonymous",
    "Amount hidden",
    "Message",
    "Message hidden",
    "Gift Aid",
    "Gift Aid title",
    "Gift Aid first name",
    "Gift Aid last name",
    "Gift Aid house",
    "Gift Aid postcode",
    "Declaration version",
    "Declared (UK time)",
    "Stripe payment",
    "Recorded by",
    "Confirmed by",
)


def safe_cell(value: str) -> str:
    """Text as a spreadsheet shows it, never as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _when(value) -> str:
    return to_london(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def row(
    donation: Donation, recorded_by: str, confirmed_by: str, teams: dict[int, str] | None = None
) -> list[str]:
    """One donation's line, in COLUMNS order; `teams` names each page's team."""
    page = donation.sponsor_page
    team = donation.team.name if donation.team else (teams or {}).get(donation.sponsor_page_id)
    text = [
        page.participant.name if page else "",
        page.slug if page else "",
        team or "",
    ]
    return [
        str(donation.id),
        _when(donation.created_at),
        _when(donation.paid_at),
        donation.status.value,
        donation.source.value,
        *(safe_cell(t) for t in text),
        _pounds(donation.amount_pence),
        _pounds(donation.fee_cover_pence),
        _pounds(donation.refunded_pence),
        _pounds(donation.contribution().raised_pence),
        donation.dispute_status.value,
        _pounds(donation.disputed_pence),
        _pounds(donation.taken_pence),
        safe_cell(donation.review_reason),
        safe_cell(donation.donor_name),
        safe_cell(donation.donor_email),
        _yes(donation.anonymous),
        _yes(donation.hide_amount),
        safe_cell(donation.message),
        _yes(donation.message_hidden_at is not None),
        _yes(donation.gift_aid),
        safe_cell(donation.gift_aid_title),
        safe_cell(donation.gift_aid_first_name),
        safe_cell(donation.gift_aid_last_name),
        safe_cell(donation.gift_aid_house),
        safe_cell(donation.gift_aid_postcode),
        safe_cell(donation.gift_aid_declaration_version),
        _when(donation.gift_aid_declared_at),
        donation.stripe_payment_intent_id or "",
        safe_cell(recorded_by),
        safe_cell(confirmed_by),
    ]


def donations_csv() -> Iterator[str]:
    """The CSV a chunk at a time, oldest donation first, read from the database in batches."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")  # a BOM, so Excel reads the names as UTF-8
    writer.writerow(COLUMNS)
    recorder, confirmer = aliased(User), aliased(User)
    teams = team_names_by_page()
    query = (
        select(Donation, recorder.name, confirmer.name)
        .outerjoin(recorder, recorder.id == Donation.recorded_by_id)
        .outerjoin(confirmer, confirmer.id == Donation.confirmed_by_id)
        .options(
            joinedload(Donation.sponsor_page).joinedload(SponsorPage.participant),
            joinedload(Donation.team),
        )
        .order_by(Donation.id)
        .execution_options(yield_per=500)
    )
    for count, (donation, recorded_by, confirmed_by) in enumerate(
        db.session.execute(query), start=1
    ):
        writer.writerow(row(donation, recorded_by or "", confirmed_by or "", teams))
        if count % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
