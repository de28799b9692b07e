"""The test-side HMRC reader (tests/hmrc_reader.py) against HMRC's own test spreadsheets, whose
expected results are in HMRC's GiftAidValidationServiceSpec.scala, and against a file we spoil
one rule at a time. The files in tests/hmrc/ are HMRC's, unchanged (Apache-2.0, licence beside)."""

import copy
import io
import zipfile
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app.organiser import hmrc
from tests import hmrc_reader
from tests.hmrc_reader import Problem, clean

HMRC_FILES = Path(__file__).parent / "hmrc"
# HMRC's bad-data file has a donation dated 18/11/27 that must be in the future.
TODAY = date(2026, 12, 1)


def hmrc_file(name: str) -> bytes:
    """One of HMRC's test spreadsheets."""
    return (HMRC_FILES / f"Gift-Aid-Schedule-Excel-{name}.ods").read_bytes()


def found(data: bytes) -> list[tuple[str, int | str]]:
    """(field, message) for each problem, message numbers as HMRC's spec lists them."""
    return [
        (p.field, int(p.code.split(".")[1]) if p.code.startswith("giftAid.") else p.code)
        for p in hmrc_reader.problems(data, TODAY)
    ]


# HMRC's own files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["GoodData", "GoodDataWithMultipleSpaces"])
def test_hmrcs_good_files_have_no_problems(name):
    schedule = hmrc_reader.read(hmrc_file(name), TODAY)
    assert schedule.problems == []
    assert schedule.sheet_name == "R68GAD_V1_00_0_EN" and schedule.box_1 == "10/11/17"
    assert schedule.header == hmrc_reader.HEADER


def test_hmrcs_example_reads_as_hmrcs_four_donations():
    lines = hmrc_reader.read(hmrc_file("GoodData"), TODAY).lines
    assert [list(line.values()) for line in lines] == [
        ["1", "Prof", "Henry", "House Martin", "152A", "M99 2QD", "", "", "24/03/15", "240.00"],
        [
            "2",
            "Mr",
            "John",
            "Smith",
            "100 Champs Elysees, Paris",
            "X",
            "",
            "",
            "24/06/15",
            "250.00",
        ],
        ["3", "", "", "", "", "", "One off Gift Aid donations", "", "31/03/15", "880.00"],
        ["4", "Miss", "B", "Chaudry", "21", "L43 4FB", "", "Yes", "26/04/15", "80.00"],
    ]


# HMRC's GiftAidValidationServiceSpec.scala, BadDataValidationErrors.
HMRC_BAD_DATA = [
    ("earliestDonationDate", 2),
    ("previouslyOverClaimedAmount", 4),
    ("donorFirstName[0]", 14),
    ("donorLastName[1]", 15),
    ("donorHouse[2]", 18),
    ("postcode[3]", 20),
    ("donationDate[4]", 7),
    ("donationAmount[5]", 11),
    ("donationDate[6]", 8),
    ("donationDate[7]", 9),
    ("donationAmount[8]", 10),
    ("donorTitle[9]", 13),
    ("donorFirstName[10]", 16),
    ("donorLastName[11]", 17),
    ("donorHouse[12]", 19),
    ("sponsoredEvent[13]", 22),
    ("aggregateDonationsConflict[14]", 23),
    ("donationAmount[14]", 12),
    ("aggregateDonationsConflict[15]", 24),
    ("donationAmount[15]", 12),
    ("aggregateDonationsConflict[16]", 25),
    ("donationAmount[16]", 12),
    ("aggregateDonationsConflict[17]", 26),
    ("donationAmount[17]", 12),
    ("aggregateDonationsConflict[18]", 27),
    ("donationAmount[18]", 12),
    ("aggregateDonationsConflict[19]", 28),
    ("donationAmount[19]", 12),
    ("aggregateDonations[20]", 5),
    ("donationAmount[21]", 12),
    ("item[22]", 6),
    ("item[23]", 6),
    ("donorFirstName[24]", 14),
    ("donorLastName[24]", 15),
    ("donorHouse[24]", 18),
    ("postcode[24]", 20),
    ("donationDate[24]", 7),
    ("donationAmount[24]", 11),
    ("donorFirstName[25]", 14),
    ("donorLastName[25]", 15),
    ("donorHouse[25]", 18),
    ("postcode[25]", 20),
]


def test_hmrcs_bad_file_gives_exactly_hmrcs_problems_in_hmrcs_order():
    assert found(hmrc_file("BadData")) == HMRC_BAD_DATA


@pytest.mark.parametrize(
    "name, problems",
    [
        (
            "InvalidEarliestDonationDate",
            [("earliestDonationDate", 3), ("previouslyOverClaimedAmount", 4)],
        ),
        ("BadSheetNameData", [("fileError", "commonFile.3")]),
        ("EmptyData", [("giftAidDonation", 1)]),
    ],
)
def test_hmrcs_other_bad_files(name, problems):
    assert found(hmrc_file(name)) == problems


def test_every_problem_has_words():
    assert all(p.text for p in hmrc_reader.problems(hmrc_file("BadData"), TODAY))


# Cleaning as HMRC does -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, one_space, kept",
    [
        ("Łukasz", False, "ukasz"),
        ("李", False, ""),
        ("Zoë", False, "Zoë"),  # U+00EB is kept
        ("O’Neill", False, "ONeill"),  # the curly apostrophe is deleted, not straightened
        ("\u200bAnn\u200b", False, "Ann"),
        ("  Mary   Ann  ", False, "Mary   Ann"),
        ("  Mary   Ann  ", True, "Mary Ann"),
        ("Mary\nAnn", True, "MaryAnn"),  # a line break is outside the range: deleted
        ("\u00a0Ann", False, "Ann"),  # a no-break space (U+00A0) is outside it too
    ],
)
def test_hmrc_deletes_characters_outside_its_range_then_trims(text, one_space, kept):
    assert clean(text, one_space) == kept


# A file spoiled one rule at a time -------------------------------------------------------

GOOD = hmrc.Line("Mr", "John", "Smith", "12", "G12 8QQ", "", "", date(2026, 3, 14), 1250)
_T = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_O = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_X = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def claim(*lines: hmrc.Line, earliest=date(2026, 3, 14), overclaimed=None) -> bytes:
    """Plunge's template with these lines, as the app writes it."""
    return hmrc.claim(list(lines), earliest, overclaimed)


def spoiled(data: bytes, cells: dict[tuple[int, int], str]) -> bytes:
    """`data` with the text of some cells (zero-based row, column) replaced, as a person might."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    root = ElementTree.fromstring(parts["content.xml"])
    table = next(root.iter(f"{{{_T}}}table"))
    rows = list(table.findall(f"{{{_T}}}table-row"))
    for (row_index, column), text in cells.items():
        row = _nth(rows, row_index, f"{{{_T}}}number-rows-repeated")
        cell = _nth(list(row), column, f"{{{_T}}}number-columns-repeated", parent=row)
        style = cell.get(f"{{{_T}}}style-name")
        cell.clear()
        cell.set(f"{{{_T}}}style-name", style)
        cell.set(f"{{{_O}}}value-type", "string")
        ElementTree.SubElement(cell, f"{{{_X}}}p").text = text
    parts["content.xml"] = ElementTree.tostring(root)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def _nth(elements, index, repeated, parent=None):
    """The element at grid position `index`, split out of a repeat so it can change alone."""
    position = 0
    for element in elements:
        count = int(element.get(repeated, "1"))
        if position + count > index:
            if count > 1 and parent is not None:
                at = list(parent).index(element)
                del parent[at]
                copies = [copy.deepcopy(element) for _ in range(count)]
                for n, one in enumerate(copies):
                    one.attrib.pop(repeated, None)
                    parent.insert(at + n, one)
                return copies[index - position]
            assert count == 1, "a repeated row: spoil a row of its own"
            return element
        position += count
    raise IndexError(index)


@pytest.fixture(scope="module")
def good_claim() -> bytes:
    """One good line in Plunge's template (written once: odfpy takes a second to load it)."""
    return claim(GOOD)


def test_plunges_template_with_a_good_line_has_no_problems(good_claim):
    assert found(good_claim) == []


def test_plunges_template_is_hmrcs_example_without_hmrcs_donations():
    example, template = hmrc_file("GoodData"), hmrc.TEMPLATE.read_bytes()
    expected = hmrc_reader.grid(example, 1030, 12)
    expected[12][3] = ""  # Box 1
    expected[19][8] = "£0.00"  # J20, the total (HMRC's reader skips covered cells: 8th)
    for row in expected[24:28]:  # HMRC's four example donations; the item numbers stay
        row[2:11] = [""] * 9
    assert hmrc_reader.grid(template, 1030, 12) == expected
    assert expected[24][1] == "1" and expected[1023][1] == "1000"
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        assert "media/image1.png" in archive.namelist()  # HMRC's logo


def test_plunges_empty_template_is_refused_for_having_no_donations():
    assert found(hmrc.TEMPLATE.read_bytes()) == [("giftAidDonation", 1)]


LINE = hmrc_reader.FIRST_LINE


@pytest.mark.parametrize(
    "cells, problems",
    [
        ({(12, 3): ""}, [("earliestDonationDate", 2)]),
        ({(12, 3): "2026-03-14"}, [("earliestDonationDate", 3)]),
        ({(12, 3): "31/02/26"}, [("earliestDonationDate", 3)]),
        ({(16, 3): "12.5"}, [("previouslyOverClaimedAmount", 4)]),
        ({(16, 3): "-1.00"}, [("previouslyOverClaimedAmount", 4)]),
        ({(16, 3): "£1.00"}, [("previouslyOverClaimedAmount", 4)]),
        ({(16, 3): "1,234.50"}, []),
        ({(LINE, 1): "one"}, [("item[0]", 6)]),
        ({(LINE, 1): "01"}, [("item[0]", 6)]),
        ({(LINE, 1): "1001"}, [("item[0]", 6)]),
        ({(LINE, 2): "Dr."}, [("donorTitle[0]", 13)]),
        ({(LINE, 2): "M"}, [("donorTitle[0]", 13)]),
        ({(LINE, 2): "Prof"}, []),
        ({(LINE, 3): "李"}, [("donorFirstName[0]", 14)]),
        ({(LINE, 3): "A" * 36}, [("donorFirstName[0]", 16)]),
        ({(LINE, 3): "Mary " + "A" * 30 + "\u200b"}, []),  # 35 once cleaned
        ({(LINE, 4): ""}, [("donorLastName[0]", 15)]),
        ({(LINE, 4): "B" * 36}, [("donorLastName[0]", 17)]),
        ({(LINE, 5): ""}, [("donorHouse[0]", 18)]),
        ({(LINE, 5): "H" * 41}, [("donorHouse[0]", 19)]),
        ({(LINE, 5): "H" * 40}, []),
        ({(LINE, 6): ""}, [("postcode[0]", 20)]),
        ({(LINE, 6): "G128QQ"}, [("postcode[0]", 21)]),
        ({(LINE, 6): "x"}, [("postcode[0]", 21)]),  # X for abroad: a capital only
        ({(LINE, 6): "g12 8qq"}, []),  # HMRC puts it in capitals itself
        ({(LINE, 6): "X"}, []),
        ({(LINE, 8): "Y"}, [("sponsoredEvent[0]", 22)]),
        ({(LINE, 8): "Yes"}, []),
        ({(LINE, 9): ""}, [("donationDate[0]", 7)]),
        ({(LINE, 9): "14.03.26"}, [("donationDate[0]", 8)]),
        ({(LINE, 9): "14/03/2026"}, [("donationDate[0]", 8)]),
        ({(LINE, 9): "02/12/26"}, [("donationDate[0]", 9)]),  # tomorrow
        ({(LINE, 10): ""}, [("donationAmount[0]", 11)]),
        ({(LINE, 10): "£12.50"}, [("donationAmount[0]", 10)]),
        ({(LINE, 10): "12.5"}, [("donationAmount[0]", 10)]),
        ({(LINE, 10): "0.00"}, [("donationAmount[0]", 10)]),
        ({(LINE, 10): "1,250.00"}, []),
        (
            {(LINE, 7): "Collection tin"},
            [("aggregateDonationsConflict[0]", n) for n in (24, 25, 26, 27, 28)],
        ),
        (
            {
                (LINE, 7): "A" * 36,
                (LINE, 2): "",
                (LINE, 3): "",
                (LINE, 4): "",
                (LINE, 5): "",
                (LINE, 6): "",
            },
            [("aggregateDonations[0]", 5)],
        ),
        (
            {
                (LINE, 7): "Tin",
                (LINE, 2): "",
                (LINE, 3): "",
                (LINE, 4): "",
                (LINE, 5): "",
                (LINE, 6): "",
                (LINE, 10): "1000.01",
            },
            [("donationAmount[0]", 12)],
        ),
        ({(22, 2): "Name"}, [("header", "layout.header")]),
        ({(1025, 2): "Mr"}, [("rows", "layout.rows")]),
    ],
)
def test_each_rule_finds_its_problem(good_claim, cells, problems):
    assert found(spoiled(good_claim, cells)) == problems


def test_a_line_with_only_an_item_number_is_not_a_line():
    # HMRC's template numbers all 1,000 rows: a row counts only with something after the item.
    assert len(hmrc_reader.read(claim(GOOD, GOOD)).lines) == 2


def test_problems_are_compared_by_field_and_message():
    assert Problem("item[0]", "giftAid.6").text == "item[0]: item is not a number from 1 to 1000"
