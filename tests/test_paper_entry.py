"""Typing a returned paper sponsorship form back in: find the sheet by its reference, fill the
grid (checked row by row), keep a draft, save it once as offline donations."""

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Donation, OutboxMessage, SponsorPage, Totals, User
from app.models.paper import PaperLine, PaperSheet, SheetStatus
from app.nudges.service import SUBJECTS, NudgeKind
from app.paper import entry, printing_service, sheets
from app.teams import membership, service
from tests.accounts import AuthActions
from tests.conftest import Factory, configure_test_event, fresh_schema


@pytest.fixture
def refs(make, app) -> list[str]:
    page_id = make.participant()
    with app.app_context():
        return printing_service.print_sheets(db.session.get(SponsorPage, page_id), 2)


@pytest.fixture
def sandra(make, app) -> AuthActions:
    make.user()
    auth = AuthActions(app.test_client())
    auth.login("sandra@example.org")
    return auth


@pytest.fixture
def olu(make, app) -> AuthActions:
    make.user(name="Olu Organiser", email="olu@example.org")
    auth = AuthActions(app.test_client())
    auth.login("olu@example.org")
    return auth


def grid(*rows, **extra) -> dict:
    """Form data for the grid: each row a dict of columns."""
    data = {"rows": str(max(len(rows), 10))}
    for n, row in enumerate(rows):
        for name, value in row.items():
            data[f"r-{n}-{name}"] = value
    return {**data, **extra}


FIONA = {
    "title": "Ms",
    "first_name": "Fiona",
    "last_name": "Campbell",
    "house": "12",
    "postcode": "g12 8qq",
    "paid": "20",
    "date_paid": "01/11/26",
    "gift_aid": "y",
}
GRAN = {"first_name": "Gran", "paid": "£15.50"}
PROMISE = {"first_name": "Ian", "last_name": "Ross", "pledged": "40", "paid": "25"}
ONLY_PROMISED = {"first_name": "Mo", "pledged": "10"}


def raised(app, scope="event") -> int:
    with app.app_context():
        return db.session.get(Totals, scope).raised_pence


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_reference_opens_the_sheet_and_slips_are_explained(sandra, refs):
    response = sandra.post("/paper/enter", {"reference": refs[1].lower()})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/paper/sheets/{refs[1]}")
    page = sandra.client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Aisha Rahman" in text(page)
    code, check = refs[0][2:5], refs[0][5]
    slips = {
        f"P-{'2' if code[0] != '2' else '3'}{code[1:]}{check}-1": "check letter",
        "P-ZZZ" + "2-1": "",
        f"P-{code}{check}-9": "",
        "hello": "like P-7K3Q-2",
        "李": "like P-7K3Q-2",
    }
    for typed, why in slips.items():
        response = sandra.post("/paper/enter", {"reference": typed})
        assert response.status_code == 422, typed
        assert why in text(response)
    # Sheet 3 was never printed: said so, with the participant's name.
    from app.paper import reference

    response = sandra.post("/paper/enter", {"reference": reference.reference(code, 3)})
    assert "has printed 2 sheets, so there is no sheet 3" in text(response)


def test_saving_counts_every_paid_line_for_the_participant_at_once(app, sandra, refs):
    url = f"/paper/sheets/{refs[0]}"
    data = grid(FIONA, GRAN, PROMISE, ONLY_PROMISED, handed_in="60.50", action="save")
    response = sandra.post(url, data)
    assert response.status_code == 303, text(response)
    with app.app_context():
        page_id = db.session.scalar(select(SponsorPage.id))
        donations = db.session.scalars(select(Donation).order_by(Donation.id)).all()
        assert [(d.amount_pence, d.donor_name, d.gift_aid) for d in donations] == [
            (2000, "Ms Fiona Campbell", True),
            (1550, "Gran", False),
            (2500, "Ian Ross", False),
        ]
        fiona = donations[0]
        assert (fiona.gift_aid_postcode, fiona.gift_aid_house) == ("G12 8QQ", "12")
        assert fiona.gift_aid_declaration_version == "paper"
        assert fiona.paid_at.date().isoformat() == "2026-11-01"
        assert fiona.gift_aid_adds_pence == 500
        assert all(d.sponsor_page_id == page_id and d.anonymous for d in donations)
        sheet = db.session.scalar(select(PaperSheet))
        assert sheet.status == SheetStatus.SAVED
        assert (sheet.sheet_paid_pence, sheet.handed_in_pence, sheet.difference_pence) == (
            6050,
            6050,
            0,
        )
        lines = db.session.scalars(select(PaperLine).order_by(PaperLine.row)).all()
        assert [(ln.pledged_pence, ln.paid_pence, ln.outstanding_pence) for ln in lines] == [
            (2000, 2000, 0),
            (1550, 1550, 0),
            (4000, 2500, 1500),
            (1000, 0, 1000),
        ]
        details = db.session.scalars(select(AuditEntry.detail)).all()
        assert f"paper sponsorship form {refs[0]}, line 1" in details
    assert raised(app) == 6050
    assert raised(app, f"page:{page_id}") == 6050
    shown = text(sandra.client.get(url))
    assert "can't be saved again" in shown and "Promised" in shown


def test_the_money_handed_in_is_compared_with_the_sheet(app, sandra, refs):
    url = f"/paper/sheets/{refs[0]}"
    checked = sandra.post(url, grid(FIONA, GRAN, handed_in="30", action="check"))
    assert "£5.50 less than the sheet says" in text(checked)
    response = sandra.post(url, grid(FIONA, GRAN, action="save"))
    assert response.status_code == 422
    assert "Enter the money handed in with the sheet" in text(response)
    sandra.post(url, grid(FIONA, GRAN, handed_in="30", action="save"))
    shown = text(sandra.client.get(url))
    assert "£5.50 less handed in than the sheet says" in shown
    assert raised(app) == 3550


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ({**FIONA, "postcode": ""}, "postcode", "Enter a UK postcode"),
        ({**FIONA, "postcode": "NOT A CODE"}, "postcode", "X for a sponsor who lives outside"),
        ({**FIONA, "title": "Mr & Mrs", "first_name": "John"}, "title", "one person per line"),
        ({**FIONA, "first_name": "John and Jane"}, "first_name", "Mr & Mrs Smith"),
        ({**FIONA, "last_name": "李"}, "last_name", "Latin letters"),
        ({**FIONA, "last_name": "=HYPERLINK(1)"}, "last_name", "not '='"),
        ({**FIONA, "house": ""}, "house", "house name or number"),
        ({**FIONA, "paid": "ten"}, "paid", "like 10 or 12.50"),
        ({**FIONA, "paid": "-5"}, "paid", "more than £0"),
        ({**FIONA, "date_paid": "31/02/26"}, "date_paid", "like 17/04/27"),
        ({**FIONA, "date_paid": "01/01/2099"}, "date_paid", "future"),
        ({"first_name": "Nobody"}, "paid", "amount paid, or the amount pledged"),
        ({**GRAN, "date_paid": "01/11/26", "paid": ""}, "paid", "amount paid, or"),
    ],
)
def test_a_line_hmrc_would_refuse_is_marked_beside_its_field(
    app, sandra, refs, row, column, message
):
    response = sandra.post(f"/paper/sheets/{refs[0]}", grid(row, handed_in="1", action="save"))
    assert response.status_code == 422
    body = text(response)
    slot = re.search(rf'id="r-0-{column}-error">([^<]*)<', body)
    assert slot and message in html.unescape(slot.group(1)), (column, slot and slot.group(1))
    assert f'href="#r-0-{column}"' in body  # the summary links to it
    with app.app_context():
        assert db.session.scalar(select(Donation.id)) is None


def test_unicode_names_are_sent_as_hmrc_reads_them(app, sandra, refs):
    row = {**FIONA, "first_name": "Łukasz", "last_name": "O’Brien-Żak"}
    no_gift_aid = {"first_name": "李\u200b", "last_name": "小龍 🐉", "paid": "5"}
    data = grid(row, no_gift_aid, handed_in="25", action="save")
    response = sandra.post(f"/paper/sheets/{refs[0]}", data)
    assert response.status_code == 303
    with app.app_context():
        donation, other = db.session.scalars(select(Donation).order_by(Donation.id))
        assert (donation.gift_aid_first_name, donation.gift_aid_last_name) == (
            "Lukasz",
            "O'Brien-Zak",
        )
        assert donation.donor_name == "Ms Lukasz O'Brien-Zak"
        assert other.donor_name == "李 小龍 🐉"  # never sent to HMRC: kept as written


def test_a_draft_is_finished_by_another_organiser(app, sandra, olu, refs):
    url = f"/paper/sheets/{refs[0]}"
    response = sandra.post(url, grid(FIONA, {"first_name": "Half"}, handed_in="20", action="draft"))
    assert response.status_code == 303
    assert raised(app) == 0
    shown = text(olu.client.get(url))
    assert 'value="Fiona"' in shown and 'value="Half"' in shown and 'value="20"' in shown
    response = olu.post(url, grid(FIONA, {**GRAN}, handed_in="35.50", action="save"))
    assert response.status_code == 303
    assert raised(app) == 3550
    # Sandra's old page, sent again: nothing counted twice.
    again = sandra.post(url, grid(FIONA, GRAN, handed_in="35.50", action="save"))
    assert again.status_code == 409
    assert raised(app) == 3550
    draft = sandra.post(url, grid(FIONA, action="draft"))
    assert draft.status_code == 409


def test_more_rows_and_pasted_spreadsheet_lines(sandra, refs):
    url = f"/paper/sheets/{refs[0]}"
    more = sandra.post(url, grid(FIONA, action="more"))
    assert more.status_code == 200
    assert 'name="r-10-first_name"' in text(more) and 'name="r-11-first_name"' not in text(more)
    pasted = "Title\tFirst name\tLast name\n" + "\n".join(
        f"Mr\tJohn{n}\tSmith\t{n}\tG12 8QQ\t\t5\t01/11/26\tY" for n in range(1, 4)
    )
    response = sandra.post(url, grid(FIONA, paste=pasted, action="paste"))
    body = text(response)
    assert response.status_code == 200
    assert 'name="r-3-first_name" value="John3"' in body
    assert "<strong>4</strong> lines" in body and "£35.00" in body


def test_a_500_line_paste_is_taken_and_a_501st_is_refused_clearly(app, sandra, refs):
    url = f"/paper/sheets/{refs[0]}"
    lines = "\n".join(f"Mr\tJohn\tSmith{n}\t{n}\tG12 8QQ\t\t1\t\tY" for n in range(501))
    response = sandra.post(url, grid(paste=lines, action="paste"))
    assert response.status_code == 422
    assert "That is 501 rows; a sheet takes at most 500" in text(response)
    lines = "\n".join(lines.splitlines()[:500])
    response = sandra.post(url, grid(paste=lines, action="paste"))
    assert response.status_code == 200
    form = {k: v for k, v in _inputs(text(response)).items() if k.startswith("r-")}
    saved = sandra.post(url, {**form, "handed_in": "500", "action": "save", "rows": "500"})
    assert saved.status_code == 303
    assert raised(app) == 50_000


def _inputs(body: str) -> dict[str, str]:
    found = dict(re.findall(r'name="(r-[0-9]+-[a-z_]+)" value="([^"]*)"', body))
    found |= dict.fromkeys(re.findall(r'name="(r-[0-9]+-gift_aid)" value="y" checked', body), "y")
    return found


def test_each_row_is_checked_as_it_is_typed(htmx_client, sandra, refs):
    sandra.client = sandra.client  # the logged-in client, speaking htmx
    url = f"/paper/sheets/{refs[0]}/rows/1"
    response = sandra.post(
        url,
        grid(FIONA, {**FIONA, "postcode": "nope"}, handed_in="10"),
        headers={"HX-Request": "true"},
    )
    body = text(response)
    assert response.status_code == 200
    assert 'id="r-1-postcode-error" hx-swap-oob="true">Enter a UK postcode' in body
    assert 'id="sheet-totals"' in body and "£40.00" in body and "£30.00 less" in body
    assert sandra.post(url, grid(FIONA)).status_code == 303  # without htmx: back to the sheet


def test_organisers_only_and_only_real_sheets(client, refs, make, app):
    make.participant(name="Callum MacLeod", slug="callum")
    callum = AuthActions(app.test_client())
    callum.login("callum@example.org")
    assert callum.client.get(f"/paper/sheets/{refs[0]}").status_code == 403
    assert callum.client.get("/paper/enter").status_code == 403
    sandra_id = make.user()
    assert sandra_id
    sandra = AuthActions(app.test_client())
    sandra.login("sandra@example.org")
    assert sandra.client.get("/paper/sheets/P-ZZZZ-1").status_code == 404
    assert sandra.client.get(f"/paper/sheets/{refs[0].lower()}").status_code == 404


def test_the_grid_column_order_is_the_paste_order():
    assert entry.pasted_rows("Ms\tFiona\tCampbell\t12\tG12 8QQ\t40\t20\t1/11/26\tY")[0] == [
        dict(
            zip(
                entry.COLUMNS,
                ["Ms", "Fiona", "Campbell", "12", "G12 8QQ", "40", "20", "1/11/26", "Y"],
                strict=True,
            )
        )
    ]


def _save_at_once(app, ref: str, organiser_ids: list[int]) -> list[bool]:
    """Every organiser presses Save on the same sheet at the same moment."""
    barrier = threading.Barrier(len(organiser_ids))

    def save(user_id: int) -> bool:
        with app.app_context():
            found = sheets.find(ref)
            grid = entry.check_grid([FIONA, GRAN, PROMISE], date(2026, 11, 2))
            barrier.wait()
            return sheets.save(found, grid, 6050, date(2026, 11, 2), db.session.get(User, user_id))[
                1
            ]

    with ThreadPoolExecutor(max_workers=len(organiser_ids)) as pool:
        return list(pool.map(save, organiser_ids))


def test_organisers_saving_the_same_sheet_at_once_count_it_once(app, make, refs):
    organisers = [make.user(name=f"Organiser {n}", email=f"o{n}@example.org") for n in range(4)]
    assert sorted(_save_at_once(app, refs[0], organisers)) == [False, False, False, True]
    with app.app_context():
        assert db.session.query(Donation).count() == 3
        assert db.session.query(PaperLine).count() == 3
    assert raised(app) == 6050


@pytest.mark.postgres
def test_organisers_saving_the_same_sheet_at_once_count_it_once_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        factory = Factory(app)
        page_id = factory.participant()
        with app.app_context():
            (ref,) = printing_service.print_sheets(db.session.get(SponsorPage, page_id), 1)
        organisers = [factory.user(name=f"O {n}", email=f"o{n}@example.org") for n in range(4)]
        assert sorted(_save_at_once(app, ref, organisers)) == [False, False, False, True]
        with app.app_context():
            assert db.session.query(Donation).count() == 3
            assert db.session.get(Totals, "event").raised_pence == 6050
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


@pytest.mark.parametrize(
    "hostile", ["", "\x00", "李" * 300, "=1+1", "-1", "99999999999999", "🐉", "0x10", "None"]
)
def test_hostile_values_anywhere_on_the_sheet_are_no_server_error(sandra, refs, hostile):
    url = f"/paper/sheets/{refs[0]}"
    row = dict.fromkeys(entry.COLUMNS, hostile)
    for action in ("check", "more", "paste", "draft", "save", hostile):
        data = grid(
            row,
            row,
            handed_in=hostile,
            received_on=hostile,
            paste=hostile,
            rows=hostile,
            action=action,
        )
        data["r-9999-first_name"] = hostile
        data[f"r-{hostile[:3]}-paid"] = hostile
        response = sandra.post(url, data)
        # The site refuses control characters in any form, before the view (app/security.py).
        allowed = (400,) if hostile == "\x00" else (200, 303, 409, 422)
        assert response.status_code in allowed, (action, response.status_code)
    checked = sandra.post(f"{url}/rows/3", grid(row), headers={"HX-Request": "true"})
    assert checked.status_code == (400 if hostile == "\x00" else 200)


def test_a_team_members_sheet_counts_for_the_team_and_earns_the_first_donation_nudge(
    app, sandra, refs
):
    with app.app_context():
        page = db.session.scalar(select(SponsorPage))
        team = service.create_team("Carers' group", captain=page, slug="carers")
        membership.join(page, team)
        db.session.commit()
        page_id, team_scope = page.id, team.totals_scope
    response = sandra.post(
        f"/paper/sheets/{refs[0]}", grid(FIONA, GRAN, handed_in="35.50", action="save")
    )
    assert response.status_code == 303, text(response)
    assert raised(app, team_scope) == raised(app, f"page:{page_id}") == raised(app) == 3550
    with app.app_context():
        subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert subjects.count(SUBJECTS[NudgeKind.FIRST_DONATION]) == 1
