"""The ODS Gift Aid claim is a real spreadsheet: LibreOffice (headless) opens it and shows, in
HMRC's cells, the boxes and the lines Plunge wrote. Needs `soffice` (Debian's libreoffice-calc;
.ci/run installs it): skipped here without it, a failure in CI."""

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import Donation
from tests.accounts import AuthActions
from tests.conftest import skip_or_fail

DECLARED = {
    "gift_aid": True,
    "gift_aid_title": "Ms",
    "gift_aid_first_name": "Zoë",
    "gift_aid_last_name": "O'Neill",
    "gift_aid_house": "12",
    "gift_aid_postcode": "g12 8qq",
    "gift_aid_declaration_version": "2026-1",
    "gift_aid_confirmed_sponsorship": True,
    "gift_aid_sponsorship_version": "own-money-2026-1",
    "gift_aid_declared_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
}


@pytest.fixture
def soffice() -> str:
    """The LibreOffice command."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        skip_or_fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    return found


def as_csv(soffice: str, ods: bytes, tmp_path) -> list[list[str]]:
    """The first sheet as LibreOffice shows it, converted to CSV (UTF-8) by LibreOffice itself."""
    source = tmp_path / "claim.ods"
    source.write_bytes(ods)
    profile = (tmp_path / "profile").as_uri()  # its own profile: never a running LibreOffice's
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",  # comma, double quote, UTF-8
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = (tmp_path / "out" / "claim.csv").read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_libreoffice_shows_the_claim_in_hmrcs_cells(make, client, soffice, tmp_path):
    make.user()
    organiser = AuthActions(client)
    organiser.login("sandra@example.org")
    paid = {
        make.donation(1250, **DECLARED): datetime(2026, 3, 14, 15, tzinfo=UTC),
        make.donation(
            100_000,
            **{
                **DECLARED,
                "gift_aid_title": "",
                "gift_aid_first_name": "Jean",
                "gift_aid_last_name": "Dupont-Martin",
                "gift_aid_house": "4 Rue de la Paix, Paris",
                "gift_aid_postcode": "X",
            },
        ): datetime(2026, 2, 27, 10, tzinfo=UTC),
    }
    with make.app.app_context():
        for donation_id, when in paid.items():
            db.session.get(Donation, donation_id).paid_at = when
        db.session.commit()

    started = organiser.post(
        "/organiser/gift-aid/claims", {"first_day": "2026-02-01", "last_day": "2026-03-31"}
    )
    assert started.status_code == 303
    response = organiser.client.get(started.headers["Location"] + "/claim.ods")
    assert response.status_code == 200
    rows = as_csv(soffice, response.get_data(), tmp_path)

    assert rows[12][2:4] == ["Box 1", "27/02/26"]  # D13: the earliest donation date
    assert rows[16][2:4] == ["Box 2", ""]  # D17: nothing over-claimed before
    assert rows[19][7] == "Total donations:" and rows[19][9] == "£1,012.50"  # HMRC's SUM
    assert rows[22][1:11] == [
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
    ]
    assert [row[1:11] for row in rows[24:27]] == [
        [
            "1",
            "",
            "Jean",
            "Dupont Martin",
            "4 Rue de la Paix, Paris",
            "X",
            "",
            "",
            "27/02/26",
            "1,000.00",
        ],
        ["2", "Ms", "Zoë", "O'Neill", "12", "G12 8QQ", "", "", "14/03/26", "12.50"],
        ["3", "", "", "", "", "", "", "", "", ""],
    ]
    assert rows[1023][1] == "1000" and rows[1024][1].startswith("Stop!")
