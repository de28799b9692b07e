"""HMRC's Gift Aid claim schedule, as HMRC's own spreadsheet template (ODS) or as CSV.

Columns, in HMRC's order: Title, First name, Last name, House name or number, Postcode,
Aggregated donations, Sponsored event, Donation date, Amount. One named line per donation, the
donor's own: so Aggregated donations is blank, and Sponsored event is blank too (gov.uk: "Do not
enter 'yes' in the sponsored event box against individual donations"; "Yes" is for a line naming
a participant with the total they collected). Dates DD/MM/YY, the UK date the money was received;
amounts like 12.50, without a pound sign; blank cells left blank. At most 1,000 donations a file,
numbered from item 1; the ODS file is HMRC's template (app/organiser/hmrc) with Box 1, the
earliest donation date in the file, filled in.

Only paid donations with a Gift Aid declaration that still count are claimed (not fully
refunded, not in an open or lost dispute), each on what the charity kept. Anonymous donations
are included: anonymity is about the public page, not HMRC. A donation that breaks one of
HMRC's rules is refused with the reasons, never silently changed; the only changes made are
HMRC's own: spaces trimmed, a double-barrelled last name's hyphen made a space ("House Martin"),
and a postcode put in capitals with one space."""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.donations.gift_aid import as_hmrc_reads, claim_pence, claim_problems, details_of
from app.events.service import counted_clause
from app.extensions import db
from app.models import Donation
from app.organiser import hmrc
from app.timefmt import to_london

COLUMNS = (
    "Title",
    "First name",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date",
    "Amount",
)
ROWS_PER_FILE = hmrc.LINES_PER_FILE
FORMATS = ("csv", "ods")


@dataclass(frozen=True)
class ScheduleRow:
    """One donation's line on the schedule, every cell already as HMRC wants it."""

    donation_id: int
    title: str
    first_name: str
    last_name: str
    house: str
    postcode: str
    donated_on: date
    amount_pence: int
    aggregated: str = ""
    sponsored: str = ""  # an individual donation: "Yes" only on a participant's sponsorship line

    @property
    def date(self) -> str:
        """The donation date as HMRC reads it: DD/MM/YY."""
        return self.donated_on.strftime("%d/%m/%y")

    @property
    def amount(self) -> str:
        """Pounds with two decimals and no pound sign: 12.50."""
        return hmrc.two_decimals(self.amount_pence)

    def line(self) -> hmrc.Line:
        """The line in HMRC's template, typed as HMRC's example rows are."""
        return hmrc.Line(
            title=self.title,
            first_name=self.first_name,
            last_name=self.last_name,
            house=self.house,
            postcode=self.postcode,
            aggregated=self.aggregated,
            sponsored=self.sponsored,
            donated_on=self.donated_on,
            amount_pence=self.amount_pence,
        )

    def cells(self) -> list[str]:
        """The cells in HMRC's column order."""
        return [
            self.title,
            self.first_name,
            self.last_name,
            self.house,
            self.postcode,
            self.aggregated,
            self.sponsored,
            self.date,
            self.amount,
        ]


@dataclass(frozen=True)
class Refusal:
    """A donation left off the schedule, and every reason why."""

    donation_id: int
    donor: str
    reasons: tuple[str, ...]


@dataclass
class Schedule:
    """The rows HMRC will accept, and the donations refused."""

    rows: list[ScheduleRow] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def files(self) -> list[list[ScheduleRow]]:
        """The rows in files of at most ROWS_PER_FILE (one empty file when there are none)."""
        chunks = [
            self.rows[start : start + ROWS_PER_FILE]
            for start in range(0, len(self.rows), ROWS_PER_FILE)
        ]
        return chunks or [[]]

    @property
    def total_pence(self) -> int:
        """What the schedule claims on, in pence."""
        return sum(row.amount_pence for row in self.rows)


def claimable():
    """SQL for donations the charity may claim Gift Aid on."""
    return counted_clause() & Donation.gift_aid.is_(True)


def build_schedule() -> Schedule:
    """Check every claimable donation against HMRC's rules, oldest payment first."""
    schedule = Schedule()
    query = select(Donation).where(claimable()).order_by(Donation.paid_at, Donation.id)
    for donation in db.session.scalars(query.execution_options(yield_per=500)):
        outcome = schedule_row(donation)
        if isinstance(outcome, ScheduleRow):
            schedule.rows.append(outcome)
        else:
            schedule.refused.append(outcome)
    return schedule


def schedule_row(donation: Donation) -> ScheduleRow | Refusal:
    """The donation's line on the schedule, or why HMRC would refuse it."""
    details = as_hmrc_reads(details_of(donation))
    problems = claim_problems(donation)
    if problems:
        donor = " ".join(p for p in (details.first_name, details.last_name) if p)
        return Refusal(donation.id, donor or donation.donor_name, tuple(problems))
    return ScheduleRow(
        donation_id=donation.id,
        title=details.title,
        first_name=details.first_name,
        last_name=details.last_name,
        house=details.house,
        postcode=details.postcode,
        donated_on=to_london(donation.paid_at).date(),
        amount_pence=claim_pence(donation),
    )


# Writing the files -----------------------------------------------------------------------


def to_csv(rows: list[ScheduleRow]) -> bytes:
    """One file of the schedule as CSV, with a header row (UTF-8 with a BOM, for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return out.getvalue().encode("utf-8-sig")


def to_ods(rows: list[ScheduleRow], overclaimed_pence: int | None = None) -> bytes:
    """One file of the schedule in HMRC's template: Box 1 the earliest donation date in it,
    Box 2 the tax previously over-claimed (blank if None), the lines from item 1."""
    earliest = min((row.donated_on for row in rows), default=None)
    return hmrc.claim([row.line() for row in rows], earliest, overclaimed_pence)


def schedule_files(
    schedule: Schedule, fmt: str, stem: str, overclaimed_pence: int | None = None
) -> list[tuple[str, bytes]]:
    """(file name, contents) for each file: `stem.fmt`, or `stem-1.fmt`, `stem-2.fmt`...
    when there are more than ROWS_PER_FILE donations. Each file is a claim of its own; tax
    over-claimed before (Box 2) goes on the first only, so it is deducted once."""
    chunks = schedule.files()
    contents = [
        to_ods(chunk, overclaimed_pence if n == 0 else None) if fmt == "ods" else to_csv(chunk)
        for n, chunk in enumerate(chunks)
    ]
    if len(chunks) == 1:
        return [(f"{stem}.{fmt}", contents[0])]
    return [(f"{stem}-{n}.{fmt}", data) for n, data in enumerate(contents, start=1)]


def zipped(files: list[tuple[str, bytes]]) -> bytes:
    """Several files in one zip, for one download."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()
