"""Checking a returned sheet as it is typed: each row read from the grid (or a pasted
spreadsheet), amounts in pounds, dates as people write them, and Gift Aid rows held to
HMRC's rules by the same `clean_for_hmrc` every other form uses."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from app.donations.gift_aid import POSTCODE_HINT, GiftAidDetails, clean_for_hmrc
from app.forms import strip
from app.money import parse_pounds
from app.organiser.forms import MAX_OFFLINE_PENCE
from app.timefmt import LONDON

# The grid's columns, in the order they are typed (and pasted).
COLUMNS = (
    "title",
    "first_name",
    "last_name",
    "house",
    "postcode",
    "pledged",
    "paid",
    "date_paid",
    "gift_aid",
)
LABELS = {
    "title": "Title",
    "first_name": "First name",
    "last_name": "Last name",
    "house": "House name or number",
    "postcode": "Postcode",
    "pledged": "Pledged £",
    "paid": "Paid £",
    "date_paid": "Date paid",
    "gift_aid": "Gift Aid",
}
MAX_ROWS = 500  # a sheet has 12 lines; 500 is a whole office's photocopies typed as one
ROWS_AT_A_TIME = 10  # rows shown without JavaScript, and how many "add more rows" adds
_ROW_FIELD = re.compile(r"r-([0-9]{1,4})-([a-z_]+)")
_TICKED = {"y", "yes", "x", "✓", "✔", "true", "1", "ga", "tick", "ticked"}
# "Mr & Mrs Smith", "John and Jane Smith", "J + J Smith", "Mr/Mrs Smith": two people, one line.
_JOINT = re.compile(r"&|\+|\band\b|/|\bund\b|\bet\b", re.IGNORECASE)
JOINT_NAME = (
    "Gift Aid needs one person per line: a joint name like 'Mr & Mrs Smith' can't have Gift "
    "Aid (HMRC). Untick Gift Aid, or ask each sponsor to write their own line."
)
# What a Gift Aid row is missing, in the words of a grid (there is no "lives abroad" box: X).
POSTCODE = "Enter a UK postcode, like G12 8QQ, or X for a sponsor who lives outside the UK"
REQUIRED = {
    "first_name": "Enter the first name (or initial) for Gift Aid",
    "last_name": "Enter the last name for Gift Aid",
    "house": "Enter the house name or number for Gift Aid",
    "postcode": POSTCODE,
}
_DATE_FORMATS = ("%d/%m/%y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y", "%d.%m.%Y", "%d-%m-%y", "%d-%m-%Y")


@dataclass(frozen=True)
class Draft:
    """What a draft holds: the rows as typed, the money handed in and the day."""

    rows: list[dict[str, str]]
    handed_in: str
    received_on: str


@dataclass
class Row:
    """One typed row: what was typed, what it means, and what is wrong with it."""

    number: int
    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    pledged_pence: int = 0
    paid_pence: int = 0
    paid_on: date | None = None
    details: GiftAidDetails | None = None

    @property
    def blank(self) -> bool:
        """Nothing typed in it: skipped, never saved."""
        return not any(v for k, v in self.typed.items() if k != "gift_aid")

    @property
    def gift_aid(self) -> bool:
        """The sponsor ticked Gift Aid."""
        return self.typed.get("gift_aid", "").strip().lower() in _TICKED

    @property
    def donor_name(self) -> str:
        """The sponsor's name as it is stored on their donation (at most 100 characters)."""
        if self.details is not None:  # as HMRC will read it
            sent = self.details
            parts = (sent.title, sent.first_name, sent.last_name)
        else:  # any script will do for a name that never goes to HMRC
            parts = (self.typed.get(k, "") for k in ("title", "first_name", "last_name"))
        text = " ".join(" ".join(parts).split())
        return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))[:100]

    @property
    def outstanding_pence(self) -> int:
        """Pledged and not yet paid."""
        return max(0, self.pledged_pence - self.paid_pence)


@dataclass
class Grid:
    """A whole sheet as typed: its rows (blank ones too, so the grid keeps its shape)."""

    rows: list[Row]
    message: str = ""  # about the grid as a whole (too many rows)

    @property
    def filled(self) -> list[Row]:
        """The rows with something in them."""
        return [row for row in self.rows if not row.blank]

    @property
    def paid_pence(self) -> int:
        """What the sheet says was paid."""
        return sum(row.paid_pence for row in self.filled)

    @property
    def pledged_pence(self) -> int:
        """What the sheet says is still promised."""
        return sum(row.outstanding_pence for row in self.filled)

    @property
    def problems(self) -> list[tuple[Row, str, str]]:
        """Every error: (row, column, message), in the order they appear."""
        return [
            (row, name, row.errors[name])
            for row in self.rows
            for name in (*COLUMNS, "row")
            if name in row.errors
        ]


def typed_rows(formdata) -> tuple[list[dict[str, str]], str]:
    """The rows of the grid as posted (`r-<n>-<column>`), in row order, and a message if
    more than a sheet can hold were sent."""
    rows: dict[int, dict[str, str]] = {}
    for key in formdata:
        match = _ROW_FIELD.fullmatch(key)
        if match and match.group(2) in COLUMNS:
            value = strip(formdata.get(key, ""))[:200]
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    ordered = [rows[n] for n in sorted(rows)]
    if len(ordered) > MAX_ROWS:
        return ordered[:MAX_ROWS], _too_many(len(ordered))
    return ordered, ""


def pasted_rows(text: str) -> tuple[list[dict[str, str]], str]:
    """Rows from text pasted from a spreadsheet: a line a row, cells split by tabs (or commas
    when there are no tabs), in the grid's column order; a heading line is skipped."""
    lines = [line for line in (text or "").replace("\x00", "").splitlines() if line.strip()]
    if lines and re.match(r"\s*(title|first name|name)\b", lines[0], re.IGNORECASE):
        lines = lines[1:]
    rows = []
    for line in lines:
        cells = line.split("\t") if "\t" in line else line.split(",")
        rows.append({name: cell.strip()[:200] for name, cell in zip(COLUMNS, cells, strict=False)})
    if len(rows) > MAX_ROWS:
        return rows[:MAX_ROWS], _too_many(len(rows))
    return rows, ""


def _too_many(count: int) -> str:
    return (
        f"That is {count} rows; a sheet takes at most {MAX_ROWS}. The first {MAX_ROWS} are "
        "here: put the rest on a sheet of their own."
    )


def check_grid(typed: list[dict[str, str]], received_on: date, minimum_rows: int = 0) -> Grid:
    """Every row checked, padded with blank rows up to `minimum_rows`."""
    rows = [check_row(n, values, received_on) for n, values in enumerate(typed)]
    for n in range(len(rows), min(minimum_rows, MAX_ROWS)):
        rows.append(Row(number=n, typed={}))
    return Grid(rows)


def check_row(number: int, typed: dict[str, str], received_on: date) -> Row:
    """One row read and checked; errors by column, in the organiser's words."""
    typed = {name: strip(typed.get(name, "") or "") for name in COLUMNS}
    row = Row(number=number, typed=typed)
    if row.blank:
        return row
    row.pledged_pence = _pence(row, "pledged")
    row.paid_pence = _pence(row, "paid")
    if not row.pledged_pence and not row.paid_pence and not {"pledged", "paid"} & row.errors.keys():
        row.errors["paid"] = "Enter the amount paid, or the amount pledged"
    if row.paid_pence:
        row.paid_on = _paid_on(row, received_on)
    elif typed["date_paid"]:
        row.errors["date_paid"] = "A date paid needs an amount paid"
    if row.gift_aid:
        _check_gift_aid(row)
    elif len(" ".join(typed[k] for k in ("title", "first_name", "last_name"))) > 100:
        row.errors["last_name"] = "Use 100 characters or fewer for the whole name"
    return row


def _pence(row: Row, name: str) -> int:
    text = row.typed[name]
    if not text:
        return 0
    try:
        pence = parse_pounds(text)
    except ValueError as exc:
        row.errors[name] = str(exc)
        return 0
    if pence > MAX_OFFLINE_PENCE:
        row.errors[name] = "That is more than £100,000: check the amount"
        return 0
    return pence


def _paid_on(row: Row, received_on: date) -> date | None:
    text = row.typed["date_paid"]
    if not text:
        return received_on  # the day the money was handed in with the sheet
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
            break
        except ValueError:
            continue
    else:
        row.errors["date_paid"] = "Write the date like 17/04/27"
        return None
    if day > datetime.now(LONDON).date():
        row.errors["date_paid"] = "The date paid can't be in the future"
        return None
    return day


def _check_gift_aid(row: Row) -> None:
    typed = row.typed
    for name in ("title", "first_name", "last_name"):
        if _JOINT.search(typed[name]):
            row.errors[name] = JOINT_NAME
            return
    cleaned = clean_for_hmrc(
        GiftAidDetails(
            title=typed["title"],
            first_name=typed["first_name"],
            last_name=typed["last_name"],
            house=typed["house"],
            postcode=typed["postcode"],
        )
    )
    for name in cleaned.missing:
        row.errors.setdefault(name, REQUIRED[name])
    for name, problem in cleaned.problems.items():
        row.errors.setdefault(name, POSTCODE if problem == POSTCODE_HINT else problem)
    if not row.errors:
        row.details = cleaned.details


def grid_for(form, request, draft) -> Grid:
    """The grid a request shows: a draft's rows (or blank ones) on GET; on POST the rows as
    posted, with more blank rows or pasted ones as the button asked."""
    message = ""
    if request.method == "GET":
        typed = draft.rows if draft else []
        if draft:
            form.handed_in.data = draft.handed_in
            form.received_on.data = _iso_day(draft.received_on)
        minimum = ROWS_AT_A_TIME
    else:
        form.validate()
        typed, message = typed_rows(request.form)
        minimum = min(max(form.rows.data or 0, ROWS_AT_A_TIME), MAX_ROWS)
        action = request.form.get("action")
        if action == "more":
            minimum = len(typed) + ROWS_AT_A_TIME
        elif action == "paste" and form.paste.data:
            pasted, message = pasted_rows(form.paste.data)
            typed = [values for values in typed if any(values.values())] + pasted
            if len(typed) > MAX_ROWS:
                typed, message = typed[:MAX_ROWS], _too_many(len(typed))
            if not message:
                form.paste.data = ""
    grid = check_grid(typed, form.day(), minimum)
    grid.message = grid.message or message
    form.rows.data = len(grid.rows)
    return grid


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def draft_of_grid(form, grid: Grid) -> "Draft":
    """The grid as typed, to keep as a draft."""
    day = form.received_on.data
    return Draft(
        rows=[row.typed for row in grid.filled],
        handed_in=form.handed_in.data or "",
        received_on=day.isoformat() if day else "",
    )


def ready_to_save(form, grid: Grid) -> bool:
    """Whether the sheet can be saved; if not, says why beside the field or on the grid."""
    if form.errors:
        return False
    if not grid.filled:
        grid.message = "Type at least one sponsor's line before saving the sheet."
        return False
    if grid.problems:
        grid.message = "Some lines need a look (marked below): fix them, or keep a draft."
        return False
    if form.handed_in_pence is None:
        form.handed_in.errors = [
            "Enter the money handed in with the sheet (0 if none came with it)"
        ]
        return False
    return True
