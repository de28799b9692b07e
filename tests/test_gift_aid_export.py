"""HMRC's Gift Aid schedule, field by field against HMRC's rules (DESIGN.md, Gift Aid), and the
every-donation CSV. Rules checked one at a time on unsaved donations; which donations are
claimed and the files through the real claims page (tests/test_gift_aid_claims.py has the
claims themselves: periods, Box 2, more than 1,000 lines, the command)."""

import csv
import io
from datetime import UTC, datetime

import pytest
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow

from app.extensions import db
from app.models import DisputeStatus, Donation, DonationSource, DonationStatus
from app.organiser import gift_aid_export
from app.organiser.gift_aid_export import COLUMNS, Refusal, ScheduleRow, schedule_row
from app.timefmt import LONDON
from tests import hmrc_reader
from tests.accounts import AuthActions
from tests.conftest import GIFT_AID_DECLARATION

HMRC_COLUMNS = [
    "Title",
    "First name",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date",
    "Amount",
]
DECLARED = {
    **GIFT_AID_DECLARATION,
    "gift_aid_declared_at": datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
}


def declared(**changes) -> Donation:
    """An unsaved paid donation with a good Gift Aid declaration, changed as asked."""
    fields = {
        "id": 7,
        "amount_pence": 1250,
        "refunded_pence": 0,
        "fee_cover_pence": 0,
        "status": DonationStatus.PAID,
        "source": DonationSource.ONLINE,
        "dispute_status": DisputeStatus.NONE,
        "donor_name": "Fiona Campbell",
        "paid_at": datetime(2027, 3, 14, 15, 0, tzinfo=UTC),
        **DECLARED,
        **changes,
    }
    return Donation(**fields)


# Each rule on its own -------------------------------------------------------------------


def test_a_good_donation_becomes_one_line_in_hmrcs_column_order():
    assert list(COLUMNS) == HMRC_COLUMNS
    row = schedule_row(declared())
    assert isinstance(row, ScheduleRow)
    assert row.cells() == [
        "Ms",
        "Fiona",
        "Campbell",
        "12",
        "G12 8QQ",
        "",
        "",  # an individual donation: never "Yes" (gov.uk)
        "14/03/27",
        "12.50",
    ]


@pytest.mark.parametrize(
    "paid_at, date",
    [
        (datetime(2027, 3, 14, 15, 0, tzinfo=UTC), "14/03/27"),
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "01/07/26"),  # BST: already 1 July in the UK
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "31/12/26"),  # GMT
    ],
)
def test_the_date_is_the_uk_date_of_payment_as_dd_mm_yy(paid_at, date):
    assert schedule_row(declared(paid_at=paid_at)).date == date


@pytest.mark.parametrize(
    "amount, refunded, shown",
    [
        (1250, 0, "12.50"),
        (1000, 0, "10.00"),
        (5, 0, "0.05"),
        (3000, 500, "25.00"),
        (123456, 0, "1234.56"),
    ],
)
def test_amounts_have_two_decimals_no_pound_sign_and_are_what_was_kept(amount, refunded, shown):
    assert schedule_row(declared(amount_pence=amount, refunded_pence=refunded)).amount == shown


@pytest.mark.parametrize(
    "last_name, shown",
    [
        ("House-Martin", "House Martin"),
        ("House - Martin", "House Martin"),
        ("O'Neill", "O'Neill"),
        ("O'Neill-Campbell", "O'Neill Campbell"),
        ("  Campbell ", "Campbell"),
    ],
)
def test_double_barrelled_names_take_a_space_and_apostrophes_stay(last_name, shown):
    assert schedule_row(declared(gift_aid_last_name=last_name)).last_name == shown


def test_a_blank_title_stays_blank():
    row = schedule_row(declared(gift_aid_title=""))
    assert row.cells()[0] == "" and row.cells()[5] == ""


def test_a_donor_living_abroad_has_postcode_x_and_the_address_in_the_house_field():
    row = schedule_row(declared(gift_aid_house="4 Rue de la Paix, Paris", gift_aid_postcode="x"))
    assert (row.house, row.postcode) == ("4 Rue de la Paix, Paris", "X")


def test_a_postcode_is_given_in_capitals_with_one_space():
    assert schedule_row(declared(gift_aid_postcode="g128qq")).postcode == "G12 8QQ"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"gift_aid_title": "Profe"}, "Title is 5 characters; HMRC allows 4"),
        ({"gift_aid_first_name": ""}, "First name is missing"),
        ({"gift_aid_last_name": "  "}, "Last name is missing"),
        ({"gift_aid_first_name": "A" * 36}, "First name is 36 characters; HMRC allows 35"),
        ({"gift_aid_last_name": "B" * 36}, "Last name is 36 characters; HMRC allows 35"),
        ({"gift_aid_house": ""}, "House name or number is missing"),
        ({"gift_aid_house": "H" * 41}, "House name or number is 41 characters; HMRC allows 40"),
        ({"gift_aid_postcode": "NOT A CODE"}, "Postcode 'NOT A CODE' is not a UK postcode"),
        ({"gift_aid_postcode": ""}, "Postcode '' is not a UK postcode"),
        ({"gift_aid_first_name": "=cmd|' /C calc'!A0"}, "First name starts with '='"),
        ({"gift_aid_house": "@SUM(1+1)"}, "House name or number starts with '@'"),
        ({"gift_aid_house": "12\nHigh Street"}, "contains a line break"),
        ({"gift_aid_title": "Dr."}, "Title 'Dr.' is not 2 to 4 letters"),
        ({"gift_aid_title": "M"}, "Title 'M' is not 2 to 4 letters"),
        ({"gift_aid_first_name": "Łukasz"}, "First name has characters HMRC deletes (Ł)"),
        ({"gift_aid_last_name": "O’Neill"}, "Last name has characters HMRC deletes (’)"),
        ({"gift_aid_first_name": "Ann\u200b"}, "First name has characters HMRC deletes (U+200B)"),
        ({"gift_aid_house": "12 🏠"}, "House name or number has characters HMRC deletes (🏠)"),
        ({"gift_aid_declaration_version": ""}, "No Gift Aid declaration is recorded"),
        ({"gift_aid_confirmed_sponsorship": False}, "did not confirm"),
    ],
)
def test_a_line_hmrc_would_refuse_is_left_out_saying_which_and_why(changes, reason):
    refusal = schedule_row(declared(**changes))
    assert isinstance(refusal, Refusal)
    assert refusal.donation_id == 7
    assert any(reason in text for text in refusal.reasons), refusal.reasons


def test_every_problem_with_a_line_is_listed_at_once():
    refusal = schedule_row(declared(gift_aid_first_name="", gift_aid_postcode="nope"))
    assert len(refusal.reasons) == 2


# Which donations are claimed, through the real pages ----------------------------------


@pytest.fixture
def organiser(make, client) -> AuthActions:
    make.user()
    auth = AuthActions(client)
    auth.login("sandra@example.org")
    return auth


def paid_on(app, donation_id, when):
    with app.app_context():
        db.session.get(Donation, donation_id).paid_at = when
        db.session.commit()


CLAIMS = "/organiser/gift-aid/claims"
EVER = {"first_day": "2000-01-01", "last_day": datetime.now(LONDON).date().isoformat()}


def claim_file(organiser, fmt: str):
    """Start a claim for every day so far, through the page, and download its file."""
    started = organiser.post(CLAIMS, EVER)
    assert started.status_code == 303, started.get_data(as_text=True)
    return organiser.client.get(f"{started.headers['Location']}/claim.{fmt}")


def claims_page(organiser) -> str:
    """The claims page, previewing a claim for every day so far."""
    return organiser.client.get(CLAIMS, query_string=EVER).get_data(as_text=True)


def schedule_csv(organiser) -> list[list[str]]:
    response = claim_file(organiser, "csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_only_paid_kept_undisputed_declared_donations_are_claimed(make, organiser):
    page = make.participant()
    claimed = {
        make.donation(1000, **DECLARED): "10.00",
        make.donation(3000, refunded_pence=500, **DECLARED): "25.00",  # partly refunded
        make.donation(2000, anonymous=True, **DECLARED): "20.00",  # anonymous: still claimed
        make.donation(4000, dispute_status=DisputeStatus.WON, **DECLARED): "40.00",
        make.donation(
            1500, page_id=page, source=DonationSource.OFFLINE, **DECLARED
        ): "15.00",  # a paper form
    }
    make.donation(1100, refunded_pence=1100, **DECLARED)  # fully refunded
    make.donation(1200, dispute_status=DisputeStatus.OPEN, disputed_pence=1200, **DECLARED)
    make.donation(1300, dispute_status=DisputeStatus.LOST, disputed_pence=1300, **DECLARED)
    make.donation(1400, status=DonationStatus.PENDING, **DECLARED)
    make.donation(1500, status=DonationStatus.FAILED, **DECLARED)
    make.donation(1600, status=DonationStatus.EXPIRED, **DECLARED)
    make.donation(1700)  # no Gift Aid
    for n, donation_id in enumerate(claimed):
        paid_on(make.app, donation_id, datetime(2026, 3, 1 + n, 12, tzinfo=UTC))
    page_html = claims_page(organiser)
    assert "<strong>5</strong> donations, £110.00 claimed on: Gift Aid of £27.50" in page_html
    rows = schedule_csv(organiser)
    assert rows[0] == HMRC_COLUMNS
    assert [row[8] for row in rows[1:]] == list(claimed.values())
    assert all(row[5] == "" and row[6] == "" for row in rows[1:])
    assert [row[7] for row in rows[1:]] == [f"0{n}/03/26" for n in range(1, 6)]


def test_refused_donations_are_listed_on_the_claims_page_and_left_out(make, organiser):
    good = make.donation(1000, **DECLARED)
    bad = make.donation(2000, **{**DECLARED, "gift_aid_postcode": "NOWHERE"})
    html = claims_page(organiser)
    assert f'href="/organiser/donations/{bad}">#{bad}</a>' in html
    assert "Postcode &#39;NOWHERE&#39; is not a UK postcode" in html
    assert f"#{good}</a>" not in html
    assert "Gift Aid needs attention" in html  # where to put it right
    rows = schedule_csv(organiser)
    assert len(rows) == 2 and rows[1][8] == "10.00"


def test_correcting_a_refused_donation_puts_it_on_the_schedule(make, organiser):
    bad = make.donation(2000, **{**DECLARED, "gift_aid_postcode": "NOWHERE"})
    response = organiser.post(
        f"/organiser/donations/{bad}/gift-aid",
        {
            "giftaid-first_name": "Fiona",
            "giftaid-last_name": "Campbell",
            "giftaid-house": "12",
            "giftaid-postcode": "g12 8qq",
            "giftaid-reason": "Donor emailed their postcode",
        },
    )
    assert response.status_code == 303
    assert schedule_csv(organiser)[1][4] == "G12 8QQ"
    history = organiser.client.get(f"/organiser/donations/{bad}").get_data(as_text=True)
    assert "Corrected Gift Aid details" in history and "Was: Ms | Fiona" in history


def ods_lines(data: bytes) -> list[list[str]]:
    """The donations table as HMRC reads it (item first), after checking HMRC accepts it all."""
    schedule = hmrc_reader.read(data)
    assert schedule.problems == []
    return [list(line.values()) for line in schedule.lines]


def test_the_ods_spreadsheet_is_hmrcs_template_with_the_lines_in_it(make, organiser):
    donation_id = make.donation(1250, **{**DECLARED, "gift_aid_last_name": "House-Martin"})
    paid_on(make.app, donation_id, datetime(2026, 3, 14, 15, tzinfo=UTC))
    response = claim_file(organiser, "ods")
    assert response.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    schedule = hmrc_reader.read(response.get_data())
    assert schedule.problems == []
    assert schedule.sheet_name == "R68GAD_V1_00_0_EN"
    assert (schedule.box_1, schedule.box_2) == ("14/03/26", "")
    assert ods_lines(response.get_data()) == [
        ["1", "Ms", "Fiona", "House Martin", "12", "G12 8QQ", "", "", "14/03/26", "12.50"],
    ]
    # Typed as HMRC's example rows: a date cell shown DD/MM/YY, a number shown with 2 decimals.
    doc = load(io.BytesIO(response.get_data()))
    rows = [
        row
        for row in doc.spreadsheet.getElementsByType(Table)[0].getElementsByType(TableRow)
        for _ in range(int(row.getAttribute("numberrowsrepeated") or 1))
    ]
    row = rows[24]  # row 25: item 1
    cells = row.getElementsByType(TableCell)
    day, amount = cells[9], cells[10]
    assert (day.getAttribute("valuetype"), day.getAttribute("datevalue")) == (
        "date",
        "2026-03-14T00:00:00",
    )
    assert (amount.getAttribute("valuetype"), amount.getAttribute("value")) == ("float", "12.50")
    assert cells[1].getAttribute("value") == "1" and not cells[8].childNodes  # Sponsored: blank


ACCEPTED = [  # (changes, the line HMRC reads: title to postcode)
    ({}, ["Ms", "Fiona", "Campbell", "12", "G12 8QQ"]),
    ({"gift_aid_title": "Prof", "gift_aid_first_name": "Zoë"}, ["Prof", "Zoë", "Campbell"]),
    ({"gift_aid_title": "Dr", "gift_aid_first_name": "Siân", "gift_aid_last_name": "Llwyd"}, None),
    ({"gift_aid_title": "", "gift_aid_last_name": "O'Neill-Campbell"}, ["", "Fiona"]),
    ({"gift_aid_first_name": "J"}, ["Ms", "J"]),  # an initial will do
    ({"gift_aid_first_name": "A" * 35, "gift_aid_last_name": "B" * 35}, ["Ms", "A" * 35]),
    ({"gift_aid_house": "Flat 3, 100 Champs Elysees, 75008 Paris", "gift_aid_postcode": "x"}, None),
    ({"gift_aid_postcode": "je2 3ab"}, ["Ms", "Fiona", "Campbell", "12", "JE2 3AB"]),  # Jersey
    ({"gift_aid_postcode": "IM1 1AA"}, ["Ms", "Fiona", "Campbell", "12", "IM1 1AA"]),
    ({"gift_aid_postcode": "BF1 4FB"}, ["Ms", "Fiona", "Campbell", "12", "BF1 4FB"]),  # BFPO
    ({"gift_aid_house": "H" * 40}, ["Ms", "Fiona", "Campbell", "H" * 40]),
]
REFUSED = [  # HMRC would change each (Ł, ŷ, 李 and 😀 deleted) or refuse it
    {"gift_aid_first_name": "Łukasz"},
    {"gift_aid_last_name": "Llŷr"},
    {"gift_aid_first_name": "李"},
    {"gift_aid_title": "Dr."},
    {"gift_aid_last_name": "Campbell 😀"},
    {"gift_aid_house": "H" * 41},
]


def test_hmrc_reads_every_line_of_the_export_as_written_and_refuses_none(make, organiser):
    accepted = []
    for n, (changes, _) in enumerate(ACCEPTED):
        accepted.append(make.donation(1000 + n, **{**DECLARED, **changes}))
        paid_on(make.app, accepted[-1], datetime(2026, 3, 1 + n, 12, tzinfo=UTC))
    refused = [make.donation(500, **{**DECLARED, **changes}) for changes in REFUSED]
    html = claims_page(organiser)
    data = claim_file(organiser, "ods").get_data()
    schedule = hmrc_reader.read(data)
    assert schedule.problems == []
    assert schedule.box_1 == "01/03/26"
    lines = [list(line.values()) for line in schedule.lines]
    assert [line[0] for line in lines] == [str(n) for n in range(1, len(ACCEPTED) + 1)]
    assert [line[9] for line in lines] == [f"10.{n:02d}" for n in range(len(ACCEPTED))]
    for line, (_, shown) in zip(lines, ACCEPTED, strict=True):
        assert line[6:8] == ["", ""]  # individual donations: no aggregate, no "Yes"
        if shown:
            assert line[1 : 1 + len(shown)] == shown
    # What HMRC reads is what the donor gave: cleaning changes nothing on any line.
    assert all(hmrc_reader.clean(cell, one_space=True) == cell for line in lines for cell in line)
    assert all(f">#{donation_id}</a>" in html for donation_id in refused)
    assert "has characters HMRC deletes (Ł)" in html


def test_box_2_takes_tax_over_claimed_before_on_the_first_file_only(monkeypatch):
    monkeypatch.setattr(gift_aid_export, "ROWS_PER_FILE", 1)
    first, second = schedule_row(declared(id=1)), schedule_row(declared(id=2))
    schedule = gift_aid_export.Schedule(rows=[first, second])
    files = gift_aid_export.schedule_files(schedule, "ods", "claim", overclaimed_pence=375)
    assert [name for name, _ in files] == ["claim-1.ods", "claim-2.ods"]
    boxes = [(s.box_1, s.box_2) for s in (hmrc_reader.read(d) for _, d in files)]
    assert boxes == [("14/03/27", "3.75"), ("14/03/27", "")]


# Every donation as CSV -----------------------------------------------------------------


def test_the_donations_csv_has_every_donation_and_never_a_formula(make, organiser):
    make.donation(1250, donor_name='=HYPERLINK("http://evil")', message="+44 call me")
    make.donation(700, status=DonationStatus.FAILED, donor_name="@SUM(A1)")
    make.donation(300, source=DonationSource.OFFLINE, status=DonationStatus.PENDING)
    response = organiser.client.get("/organiser/exports/donations.csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="donations-')
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["Status"] for r in rows] == ["paid", "failed", "pending"]
    assert rows[0]["Amount"] == "12.50" and rows[0]["Kept"] == "12.50" and rows[1]["Kept"] == "0.00"
    assert rows[0]["Donor name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["Message"] == "'+44 call me"
    assert rows[1]["Donor name"] == "'@SUM(A1)"
    assert rows[2]["Source"] == "offline"
    assert rows[0]["Paid (UK time)"].count(":") == 2
