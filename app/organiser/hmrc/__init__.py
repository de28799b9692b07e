"""HMRC's Gift Aid schedule template, filled in with a claim's lines.

`gift-aid-schedule.ods` beside this file is HMRC's own template (sheet R68GAD_V1_00_0_EN, from
the test data of HMRC's schedule validator, hmrc/charities-claims-validation, Apache-2.0: see
LICENSE-hmrc-example.txt) with HMRC's four example donations and Box 1 taken out; nothing else
changed. HMRC's validator reads Box 1 from D13, Box 2 from D17 (the cell right of "Box 2"; D16
holds its label) and the donations from rows 25 to 1,024, columns B to K. It reads the text each
cell shows, so cells are typed as in HMRC's example rows: dates are date cells shown DD/MM/YY,
amounts are numbers shown with two decimals, names and addresses are text, and a blank is an
empty cell. Column B already holds the item numbers 1 to 1,000 and is never touched."""

import io
from dataclasses import dataclass
from datetime import date
from importlib.resources import files

from odf import teletype
from odf.namespaces import TABLENS
from odf.opendocument import OpenDocument, load
from odf.table import Table, TableCell, TableRow
from odf.text import P

from app.money import format_pence

TEMPLATE = files(__name__) / "gift-aid-schedule.ods"
SHEET_NAME = "R68GAD_V1_00_0_EN"
LINES_PER_FILE = 1000
# Zero-based (row, column), as HMRC's validator counts them.
BOX_1 = (12, 3)  # D13: the earliest donation date in the claim
BOX_2 = (16, 3)  # D17: tax previously over-claimed, blank if none
TOTAL = (19, 9)  # J20: HMRC's SUM over the amounts; its cached value is kept right
FIRST_LINE = 24  # row 25 is item 1
FIRST_CELL = 2  # column C (Title); B is the item number
_CELL = (TABLENS, "table-cell")
_STYLE = (TABLENS, "style-name")
_SPANNED = (TABLENS, "number-columns-spanned")
_ROWS_REPEATED = (TABLENS, "number-rows-repeated")
_COLUMNS_REPEATED = (TABLENS, "number-columns-repeated")


@dataclass(frozen=True)
class Line:
    """One donations-table line: the nine cells from Title to Amount (blank: "" or None)."""

    title: str = ""
    first_name: str = ""
    last_name: str = ""
    house: str = ""
    postcode: str = ""
    aggregated: str = ""
    sponsored: str = ""
    donated_on: date | None = None
    amount_pence: int | None = None

    def texts(self) -> tuple[str, ...]:
        """The seven text cells, Title to Sponsored event."""
        return (
            self.title,
            self.first_name,
            self.last_name,
            self.house,
            self.postcode,
            self.aggregated,
            self.sponsored,
        )


BLANK = Line()


def two_decimals(pence: int) -> str:
    """Pounds with two decimals and no pound sign, as HMRC reads amounts: 1250 -> '12.50'."""
    return f"{pence // 100}.{pence % 100:02d}"


def claim(lines: list[Line], earliest: date | None, overclaimed_pence: int | None = None) -> bytes:
    """HMRC's template with Box 1, Box 2 and up to 1,000 lines filled, as .ods bytes."""
    with TEMPLATE.open("rb") as template:
        doc = load(template)
    fill(doc, lines, earliest, overclaimed_pence)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def fill(
    doc: OpenDocument, lines: list[Line], earliest: date | None, overclaimed_pence: int | None
) -> None:
    """Write the boxes, the lines from item 1 on, and the total's cached value into `doc`."""
    if len(lines) > LINES_PER_FILE:
        raise ValueError(f"HMRC takes at most {LINES_PER_FILE} lines a file, not {len(lines)}")
    if overclaimed_pence is not None and overclaimed_pence < 0:
        raise ValueError("Box 2 is tax over-claimed before: it cannot be negative")
    table = doc.spreadsheet.getElementsByType(Table)[0]
    if table.getAttribute("name") != SHEET_NAME:
        raise ValueError(f"not HMRC's template: the sheet is {table.getAttribute('name')!r}")
    rows = _rows(table, FIRST_LINE + len(lines))
    _put(rows[BOX_1[0]], BOX_1[1], _date_cell, earliest)
    _put(rows[BOX_2[0]], BOX_2[1], _amount_cell, overclaimed_pence or None)  # none: blank
    for offset, line in enumerate(lines):
        row = rows[FIRST_LINE + offset]
        for column, text in enumerate(line.texts(), start=FIRST_CELL):
            _put(row, column, _text_cell, text)
        _put(row, FIRST_CELL + 7, _date_cell, line.donated_on)
        _put(row, FIRST_CELL + 8, _amount_cell, line.amount_pence)
    total = sum(line.amount_pence or 0 for line in lines)
    total_cell = _cells(rows[TOTAL[0]], TOTAL[1] + 1)[TOTAL[1]]
    total_cell.setAttribute("value", two_decimals(total))
    _set_text(total_cell, format_pence(total))  # as the template's currency style shows it


def _rows(table, count: int) -> list:
    """The table's first `count` rows, a repeated row standing for each of its repeats."""
    rows = []
    for row in table.getElementsByType(TableRow):
        rows.extend([row] * int(row.attributes.get(_ROWS_REPEATED, 1)))
        if len(rows) >= count:
            return rows
    raise ValueError("HMRC's template has changed shape: a schedule row is missing")


def _cells(row, count: int) -> list:
    """The row's first `count` cells, one element each (a repeated blank cell is split)."""
    cells: list = []
    for cell in list(row.childNodes):
        if len(cells) >= count:
            break
        repeat = int(cell.attributes.get(_COLUMNS_REPEATED, 1))
        if repeat > 1 and cell.qname == _CELL:
            # Only ever added to, never removed from: odfpy's removeChild is slow on a big sheet.
            del cell.attributes[_COLUMNS_REPEATED]
            cells.append(cell)
            after = cell.nextSibling
            for _ in range(repeat - 1):
                part = TableCell()
                if _STYLE in cell.attributes:
                    part.attributes[_STYLE] = cell.attributes[_STYLE]
                _insert_before(row, part, after)
                cells.append(part)
        else:
            cells.extend([cell] * repeat)
    return cells


def _put(row, column: int, make, value) -> None:
    """Make the cell at `column` hold `value` (None or "": blank), keeping the template's style."""
    if int(row.attributes.get(_ROWS_REPEATED, 1)) > 1:
        raise ValueError("HMRC's template has changed shape: a schedule row is repeated")
    cell = _cells(row, column + 1)[column]
    if cell.qname != _CELL or _SPANNED in cell.attributes:
        raise ValueError("HMRC's template has changed shape: a schedule cell is merged")
    for name in [name for name in cell.attributes if name != _STYLE]:
        del cell.attributes[name]  # its old value, if any
    for child in list(cell.childNodes):
        cell.removeChild(child)
    if value not in (None, ""):
        make(value, cell)


def _insert_before(parent, new, old) -> None:
    # odfpy's insertBefore leaves the new element out of the document's caches, and its
    # removeChild then fails on it: register it the way addElement does.
    parent.insertBefore(new, old)
    parent._setOwnerDoc(new)
    parent.ownerDocument.rebuild_caches(new)


def _text_cell(text: str, cell):
    cell.setAttribute("valuetype", "string")
    _set_text(cell, text)
    return cell


def _date_cell(day: date, cell):
    cell.setAttribute("valuetype", "date")
    cell.setAttribute("datevalue", f"{day.isoformat()}T00:00:00")
    _set_text(cell, day.strftime("%d/%m/%y"))
    return cell


def _amount_cell(pence: int, cell):
    cell.setAttribute("valuetype", "float")
    cell.setAttribute("value", two_decimals(pence))
    # Shown as the template's number style shows it (1,000.00); HMRC removes the commas.
    _set_text(cell, format_pence(pence).removeprefix("£"))
    return cell


def _set_text(cell, text: str) -> None:
    for child in list(cell.childNodes):
        cell.removeChild(child)
    paragraph = P()
    teletype.addTextToElement(paragraph, text)  # runs of spaces as <text:s>, as LibreOffice writes
    cell.addElement(paragraph)
