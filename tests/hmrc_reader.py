"""Read a Gift Aid schedule (.ods) the way HMRC's validator reads it, and list what it refuses.

The facts come from HMRC's schedule validator, github.com/hmrc/charities-claims-validation
(Apache-2.0); the code here is ours. Where each rule comes from:

- How cells are read (OdsReaderService.scala): the first sheet; its rows (repeats counted); a
  cell's text is its shown text (every text:p, runs of spaces written as text:s), trimmed.
  Boxes are read as the n-th cell element of their row, without counting repeats.
- Where (DocumentRow.scala): Box 1 at zero-based (12, 3) = D13, Box 2 at (16, 3) = D17, the
  donations in zero-based rows 24 to 1,023 (rows 25 to 1,024: 1,000 lines), cells B to K.
- Which rows count (DocumentRowDecoder.scala): a row with text in any cell after the item.
- Sheet name, character cleaning (CommonFileValidation.scala): the name starts
  "R68GAD_V1_00_0"; every character outside U+0020-U+007E and U+00A1-U+00FF is deleted and
  the rest trimmed, and in names, houses and aggregated descriptions runs of spaces made one.
- The rules and their message numbers (GiftAidValidationService.scala, DonationType.scala).

Two checks HMRC's validator does not make, from its template instead: the header row is row 23
(a file of another layout is read wrongly, not refused), and nothing is written below row 1,024
(HMRC would silently drop it: "Stay within the maximum of 1,000 rows of donations")."""

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
_TABLE = f"{{{_NS['table']}}}table"
_ROW = f"{{{_NS['table']}}}table-row"
_CELL = f"{{{_NS['table']}}}table-cell"
_P = f"{{{_NS['text']}}}p"
_S = f"{{{_NS['text']}}}s"
_ROWS_REPEATED = f"{{{_NS['table']}}}number-rows-repeated"
_COLUMNS_REPEATED = f"{{{_NS['table']}}}number-columns-repeated"
_SPACES = f"{{{_NS['text']}}}c"
_NAME = f"{{{_NS['table']}}}name"

SHEET_PREFIX = "R68GAD_V1_00_0"
BOX_1 = (12, 3)
BOX_2 = (16, 3)
HEADER_ROW = 22
FIRST_LINE, END_LINE = 24, 1024  # zero-based rows HMRC reads: 25 to 1,024
HEADER = (
    "Item",
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
FIELDS = (
    "item",
    "title",
    "first_name",
    "last_name",
    "house",
    "postcode",
    "aggregated",
    "sponsored",
    "date",
    "amount",
)
_DELETED = re.compile(r"[^\x20-\x7e\xa1-\xff]")
_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]{1,3}")
_ITEM = re.compile(r"[1-9][0-9]{0,3}")
_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{2})")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # Java's BigDecimal
_POSTCODE = re.compile(
    r"^(GIR 0AA)|((([A-Z][0-9][0-9]?)|(([A-Z][A-HJ-Y][0-9][0-9]?)|(([A-Z][0-9][A-Z])"
    r"|([A-Z][A-HJ-Y][0-9][A-Z])))) [0-9][A-Z]{2})$"
)
_JAVA_TRIM = "".join(chr(n) for n in range(0x21))

# What HMRC says for each message number (our words for HMRC's messages).
MESSAGES = {
    "commonFile.3": "the sheet is not HMRC's template (its name must start R68GAD_V1_00_0)",
    "giftAid.1": "no donations",
    "giftAid.2": "Box 1, the earliest donation date, is missing",
    "giftAid.3": "Box 1 is not a date DD/MM/YY",
    "giftAid.4": "Box 2 is not an amount above 0 with two decimals",
    "giftAid.5": "aggregated donations description is longer than 35",
    "giftAid.6": "item is not a number from 1 to 1000",
    "giftAid.7": "donation date is missing",
    "giftAid.8": "donation date is not DD/MM/YY",
    "giftAid.9": "donation date is in the future",
    "giftAid.10": "amount is not at least 0.01 with two decimals",
    "giftAid.11": "amount is missing",
    "giftAid.12": "aggregated amount is over 1000",
    "giftAid.13": "title is not 2 to 4 letters, apostrophes or hyphens",
    "giftAid.14": "first name is missing",
    "giftAid.15": "last name is missing",
    "giftAid.16": "first name is longer than 35",
    "giftAid.17": "last name is longer than 35",
    "giftAid.18": "house name or number is missing",
    "giftAid.19": "house name or number is longer than 40",
    "giftAid.20": "postcode is missing",
    "giftAid.21": "postcode is not a postcode in capitals with one space, or X",
    "giftAid.22": "sponsored event is neither Yes nor blank",
    "giftAid.23": "an aggregated line is marked sponsored event",
    "giftAid.24": "an aggregated line has a title",
    "giftAid.25": "an aggregated line has a first name",
    "giftAid.26": "an aggregated line has a last name",
    "giftAid.27": "an aggregated line has a house name or number",
    "giftAid.28": "an aggregated line has a postcode",
    "layout.header": "the header row is not row 23 of HMRC's template",
    "layout.rows": "a donation is below row 1,024: HMRC reads at most 1,000 lines",
}


@dataclass(frozen=True)
class Problem:
    """One thing HMRC would refuse: HMRC's field key, its message number, and what it means."""

    field: str
    code: str

    @property
    def text(self) -> str:
        """The problem in words."""
        return f"{self.field}: {MESSAGES[self.code]}"


@dataclass
class Schedule:
    """A schedule as HMRC reads it: the boxes, the lines with data, and every problem."""

    sheet_name: str
    box_1: str = ""
    box_2: str = ""
    header: tuple[str, ...] = ()
    lines: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def clean(text: str, one_space: bool = False) -> str:
    """What HMRC keeps of a cell: characters outside its range deleted, then trimmed."""
    kept = _DELETED.sub("", text).strip(_JAVA_TRIM)
    return re.sub(r"[ \t\n\x0b\f\r]+", " ", kept) if one_space else kept


def read(data: bytes, today: date | None = None) -> Schedule:
    """The schedule in `data` as HMRC reads it, with every problem HMRC would report."""
    today = today or datetime.now(ZoneInfo("Europe/London")).date()
    with zipfile.ZipFile(BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    table = next(root.iter(_TABLE))
    schedule = Schedule(sheet_name=table.get(_NAME, ""))
    if not schedule.sheet_name.strip(_JAVA_TRIM).startswith(SHEET_PREFIX):
        schedule.problems.append(Problem("fileError", "commonFile.3"))
        return schedule
    rows = _rows(table)
    schedule.header = tuple(_cells(rows[HEADER_ROW], 11)[1:11]) if len(rows) > HEADER_ROW else ()
    for row in rows[FIRST_LINE:END_LINE]:
        cells = [value.strip(_JAVA_TRIM) for value in _cells(row, 11)[1:11]]
        if any(cells[1:]):
            schedule.lines.append(dict(zip(FIELDS, cells, strict=True)))
    if not schedule.lines:
        schedule.problems.append(Problem("giftAidDonation", "giftAid.1"))
        return schedule
    schedule.box_1, schedule.box_2 = _box(rows, BOX_1), _box(rows, BOX_2)
    schedule.problems += _box_problems(schedule.box_1, schedule.box_2)
    for index, line in enumerate(schedule.lines):
        schedule.problems += line_problems(line, index, today)
    if schedule.header != HEADER:
        schedule.problems.append(Problem("header", "layout.header"))
    below = {id(row): row for row in rows[END_LINE:]}.values()  # a repeat is read once
    if any(any(_cells(row, 11)[2:11]) for row in below):
        schedule.problems.append(Problem("rows", "layout.rows"))
    return schedule


def grid(data: bytes, rows: int, columns: int) -> list[list[str]]:
    """The shown text of the first sheet's top-left cells, as HMRC's reader sees each cell."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    found = _rows(next(root.iter(_TABLE)))[:rows]
    return [_cells(row, columns) for row in found]


def problems(data: bytes, today: date | None = None) -> list[Problem]:
    """Every problem HMRC would report in the schedule `data` (none: HMRC accepts it)."""
    return read(data, today).problems


# Reading cells as HMRC's reader does -----------------------------------------------------


def _rows(table) -> list:
    rows = []
    for row in table.findall(_ROW):  # direct children only, as HMRC's reader
        rows.extend([row] * int(row.get(_ROWS_REPEATED, "1")))
    return rows


def _cells(row, count: int) -> list[str]:
    cells: list[str] = []
    for cell in row.iter(_CELL):
        cells.extend([_cell_text(cell)] * max(int(cell.get(_COLUMNS_REPEATED, "1")), 1))
        if len(cells) >= count:
            break
    return (cells + [""] * count)[:count]


def _box(rows: list, at: tuple[int, int]) -> str:
    row_index, cell_index = at
    if row_index >= len(rows):
        return ""
    cells = list(rows[row_index].iter(_CELL))  # the n-th cell element: repeats not counted
    return _cell_text(cells[cell_index]) if cell_index < len(cells) else ""


def _cell_text(cell) -> str:
    return "\n".join(_text(p) for p in cell.iter(_P)).strip(_JAVA_TRIM)


def _text(element) -> str:
    if element.tag == _S:
        return " " * int(element.get(_SPACES, "1"))
    parts = [element.text or ""]
    for child in element:
        parts += [_text(child), child.tail or ""]
    return "".join(parts)


# HMRC's rules ---------------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def _two_decimals(amount: Decimal) -> bool:
    sign, digits, exponent = amount.as_tuple()
    return exponent == -2 and len(digits) <= 15


def _day(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(2000 + year, month, day)
    except ValueError:
        return None


def _box_problems(box_1: str, box_2: str) -> list[Problem]:
    found = []
    earliest = clean(box_1)
    if not earliest:
        found.append(Problem("earliestDonationDate", "giftAid.2"))
    elif _day(earliest) is None:
        found.append(Problem("earliestDonationDate", "giftAid.3"))
    overclaimed = clean(box_2).replace(",", "")
    if overclaimed:
        amount = _decimal(overclaimed)
        if amount is None or not _two_decimals(amount) or amount <= 0:
            found.append(Problem("previouslyOverClaimedAmount", "giftAid.4"))
    return found


def line_problems(line: dict[str, str], index: int, today: date) -> list[Problem]:
    """HMRC's problems with one line (index: its place among the lines with data, from 0)."""
    found: list[Problem] = []

    def refuse(key: str, number: int) -> None:
        found.append(Problem(f"{key}[{index}]", f"giftAid.{number}"))

    item = clean(line["item"])
    if not _ITEM.fullmatch(item) or not 1 <= int(item) <= 1000:
        refuse("item", 6)
    aggregated = bool(clean(line["aggregated"]))
    if aggregated:
        for name, number in (
            ("sponsored", 23),
            ("title", 24),
            ("first_name", 25),
            ("last_name", 26),
            ("house", 27),
            ("postcode", 28),
        ):
            if line[name].strip(_JAVA_TRIM):
                refuse("aggregateDonationsConflict", number)
    else:
        _donor_problems(line, refuse)
    if len(clean(line["aggregated"], one_space=True)) > 35:
        refuse("aggregateDonations", 5)
    if not aggregated and clean(line["sponsored"].strip(_JAVA_TRIM).lower()) not in ("", "yes"):
        refuse("sponsoredEvent", 22)
    donated = clean(line["date"])
    if not donated:
        refuse("donationDate", 7)
    elif (day := _day(donated)) is None:
        refuse("donationDate", 8)
    elif day > today:
        refuse("donationDate", 9)
    _amount_problems(clean(line["amount"]), aggregated, refuse)
    return found


def _donor_problems(line: dict[str, str], refuse) -> None:
    title = clean(line["title"])
    if title and not _TITLE.fullmatch(title):
        refuse("donorTitle", 13)
    for name, key, missing, too_long in (
        ("first_name", "donorFirstName", 14, 16),
        ("last_name", "donorLastName", 15, 17),
        ("house", "donorHouse", 18, 19),
    ):
        value = clean(line[name], one_space=True)
        if not value:
            refuse(key, missing)
        elif len(value) > (40 if name == "house" else 35):
            refuse(key, too_long)
    postcode = clean(line["postcode"].strip(_JAVA_TRIM))
    if not postcode:
        refuse("postcode", 20)
    elif postcode != "X" and not _POSTCODE.fullmatch(postcode.upper()):
        refuse("postcode", 21)


def _amount_problems(text: str, aggregated: bool, refuse) -> None:
    if not text:
        refuse("donationAmount", 11)
        return
    amount = _decimal(text.replace(",", ""))
    if amount is None or not _two_decimals(amount) or amount < Decimal("0.01"):
        refuse("donationAmount", 10)
    elif aggregated and amount > 1000:
        refuse("donationAmount", 12)
    elif not aggregated and amount > Decimal("9999999999999.99"):
        refuse("donationAmount", 10)
