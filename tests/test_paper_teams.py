"""A team's paper sponsorship form: printed by its captain (or an organiser) with references
starting T-, typed in by an organiser as gifts to the team itself (team and event totals
move, no member's page does), pledges handed in by the captain, Gift Aid lines that stay a
line per sponsor under either claim method, and sheets that still count after a merge."""

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.database import begin_write
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Donation,
    DonationStatus,
    SponsorPage,
    Team,
    Totals,
    User,
)
from app.models.paper import PaperLine, PaperSeries
from app.organiser import gift_aid_claims
from app.organiser.gift_aid_claims import Period
from app.paper import entry, printing_service, reference, sheets
from app.teams import membership, service
from tests import hmrc_reader
from tests.accounts import AuthActions
from tests.conftest import Factory, configure_test_event, fresh_schema
from tests.test_paper_entry import FIONA, grid


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def login(app, email) -> AuthActions:
    auth = AuthActions(app.test_client())
    auth.login(email)
    return auth


@pytest.fixture
def world(make, app) -> dict:
    """Aisha captains "Carers' group" (/t/carers); Callum is a member, not its captain;
    Sandra organises."""
    aisha = make.participant()
    callum = make.participant(name="Callum MacLeod", slug="callum")
    make.user()
    with app.app_context():
        carers = service.create_team(
            "Carers' group", captain=db.session.get(SponsorPage, aisha), slug="carers"
        )
        membership.join(db.session.get(SponsorPage, callum), carers)
        db.session.commit()
        team_id = carers.id
    return {"aisha": aisha, "callum": callum, "team": team_id}


def team_sheets(app, slug="carers", count=1) -> list[str]:
    with app.app_context():
        team = db.session.scalar(select(Team).where(Team.slug == slug))
        return printing_service.print_sheets(team, count)


def page_sheets(app, page_id, count=1) -> list[str]:
    with app.app_context():
        return printing_service.print_sheets(db.session.get(SponsorPage, page_id), count)


def raised(app, scope) -> int:
    with app.app_context():
        return db.session.get(Totals, scope).raised_pence


def test_a_team_reference_starts_t_and_its_slips_are_caught_like_a_participants():
    ref = reference.reference("7K3", 2, reference.TEAM)
    assert ref.startswith("T-")
    assert reference.parse(ref) == ("7K3", 2, "T") and reference.parse(ref).is_team
    assert reference.parse(ref.lower().replace("-", " ")).kind == "T"
    assert reference.parse(reference.reference("7K3", 2)).kind == "P"
    check = ref[5]
    for slip in ("7K4", "K73", "7X3"):
        with pytest.raises(reference.ReferenceError, match="typing slip"):
            reference.parse(f"T-{slip}{check}-2")
    with pytest.raises(reference.ReferenceError, match="typing slip"):
        reference.parse(f"T-7K3{check}-3")
    for nonsense in ("T-", "X-7K3Q-2", "T-1I0Q-2", "T-7K3Q-200"):
        with pytest.raises(reference.ReferenceError):
            reference.parse(nonsense)


def test_the_captain_prints_the_teams_form_with_its_name_qr_and_declaration(app, world):
    aisha = login(app, "aisha@example.org")
    home = text(aisha.client.get("/me"))
    assert "/paper/teams/carers/form" in home and "You captain Carers' group" in home
    assert "/paper/teams/carers/form" in aisha.client.get("/t/carers").text
    response = aisha.post("/paper/teams/carers/form", {"sheets": "2", "kind": "pdf"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/paper/teams/carers/form.pdf?")
    pdf = aisha.client.get(response.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(pdf.data))
    assert len(reader.pages) == 2
    for number, page in enumerate(reader.pages, start=1):
        words = " ".join(page.extract_text().split())
        ref = next(w for w in words.split() if w.startswith("T-") and len(w) > 6)
        assert reference.parse(ref)[1:] == (number, "T")
        assert "Sponsoring the team: Carers' group" in words
        assert "Carers Voice, charity number SC012345" in words
        assert "I confirm that I am a UK Income or Capital Gains taxpayer" in words
        assert "a member of the team or connected to one" in words
        assert "No ditto marks" in words and "not a work address" in words
        assert "/t/carers" in words and "Aisha Rahman" not in words
        assert len(page.images) == 1  # the team page's QR code
    # The browser's print page: the same sheets, the team's QR code as SVG.
    response = aisha.post("/paper/teams/carers/form", {"sheets": "1", "kind": "html"})
    shown = aisha.client.get(response.headers["Location"])
    assert shown.status_code == 200
    page = text(shown)
    assert 'class="paper-sheet"' in page and "<svg" in page and "T-" in page
    assert "Sheet 3" in page and "/paper/teams/carers/form.pdf?first=3" in page
    # The captain's own form is still a participant's, P-.
    own = aisha.post("/paper/form", {"sheets": "1", "kind": "html"})
    assert "P-" in aisha.client.get(own.headers["Location"]).text


def test_only_the_captain_and_organisers_print_a_teams_form(app, world, make):
    callum = login(app, "callum@example.org")  # in the team, not its captain
    assert callum.client.get("/paper/teams/carers/form").status_code == 403
    assert callum.post("/paper/teams/carers/form", {"sheets": "1"}).status_code == 403
    assert callum.client.get("/paper/teams/carers/form.pdf?first=1&count=1").status_code == 403
    assert "/paper/teams/carers/form" not in callum.client.get("/me").text
    assert "/paper/teams/carers/form" not in callum.client.get("/t/carers").text
    visitor = app.test_client().get("/paper/teams/carers/form")
    assert visitor.status_code == 302 and "/auth/login" in visitor.headers["Location"]
    sandra = login(app, "sandra@example.org")
    assert sandra.client.get("/paper/teams/carers/form").status_code == 200
    made = sandra.post("/paper/teams/carers/form", {"sheets": "1", "kind": "pdf"})
    assert sandra.client.get(made.headers["Location"]).mimetype == "application/pdf"
    # A hidden team is not there for a participant who does not run it.
    with app.app_context():
        service.set_hidden(db.session.get(Team, world["team"]), True)
        db.session.commit()
    assert callum.client.get("/paper/teams/carers/form").status_code == 404
    assert login(app, "aisha@example.org").client.get("/paper/teams/carers/form").status_code == 200
    assert callum.client.get("/paper/teams/nobody/form").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(PaperSeries).where(PaperSeries.team_id.is_not(None)))


def test_a_team_sheet_counts_for_the_team_and_the_event_and_no_members_page(app, world):
    (ref,) = team_sheets(app)
    aisha_scope, team_scope = f"page:{world['aisha']}", f"team:{world['team']}"
    before = raised(app, EVENT_SCOPE), raised(app, team_scope), raised(app, aisha_scope)
    sandra = login(app, "sandra@example.org")
    found = sandra.post("/paper/enter", {"reference": ref.lower()})
    assert found.headers["Location"].endswith(f"/paper/sheets/{ref}")
    opened = text(sandra.client.get(found.headers["Location"]))
    assert "Carers' group" in opened and "the team's total and the event's" in opened
    rows = (FIONA, {"first_name": "Gran", "paid": "15.50"}, {"first_name": "Mo", "pledged": "10"})
    saved = sandra.post(f"/paper/sheets/{ref}", grid(*rows, handed_in="35.50", action="save"))
    assert saved.status_code == 303, text(saved)
    page = text(sandra.client.get(saved.headers["Location"]))
    assert "£35.50 counted for the team Carers' group" in page
    assert raised(app, EVENT_SCOPE) == before[0] + 3550
    assert raised(app, team_scope) == before[1] + 3550
    assert raised(app, aisha_scope) == before[2] == 0
    assert raised(app, f"page:{world['callum']}") == 0
    with app.app_context():
        donations = db.session.scalars(select(Donation).order_by(Donation.id)).all()
        assert [(d.amount_pence, d.team_id, d.sponsor_page_id) for d in donations] == [
            (2000, world["team"], None),
            (1550, world["team"], None),
        ]
        assert donations[0].gift_aid and donations[0].gift_aid_postcode == "G12 8QQ"
        assert db.session.get(Totals, team_scope).gift_aid_eligible_pence == 2000
    # The team page lists them; the sheet is listed as the team's for organisers.
    assert "Team: Carers' group" in text(sandra.client.get("/paper/enter"))
    again = sandra.post(f"/paper/sheets/{ref}", grid(*rows, handed_in="35.50", action="save"))
    assert again.status_code == 409
    assert raised(app, team_scope) == before[1] + 3550


def test_a_p_reference_never_opens_a_team_sheet_nor_a_t_one_a_participants(app, world):
    (team_ref,) = team_sheets(app)
    (page_ref,) = page_sheets(app, world["callum"])
    sandra = login(app, "sandra@example.org")
    as_participant = "P" + team_ref[1:]
    refused = sandra.post("/paper/enter", {"reference": as_participant})
    assert refused.status_code == 422
    assert "That code is on a team's sheet, whose reference starts T-, not P-" in text(refused)
    as_team = "T" + page_ref[1:]
    refused = sandra.post("/paper/enter", {"reference": as_team})
    assert refused.status_code == 422
    assert "on a participant's sheet, whose reference starts P-, not T-" in text(refused)
    for url in (f"/paper/sheets/{as_participant}", f"/paper/sheets/{as_team}"):
        assert sandra.client.get(url).status_code == 404
        assert sandra.post(url, grid(FIONA, handed_in="20", action="save")).status_code == 404
    # A slip in a team's reference is caught by its check letter, as on a participant's.
    code, check = team_ref[2:5], team_ref[5]
    slipped = f"T-{'2' if code[0] != '2' else '3'}{code[1:]}{check}-1"
    refused = sandra.post("/paper/enter", {"reference": slipped})
    assert refused.status_code == 422 and "check letter" in text(refused)
    refused = sandra.post("/paper/enter", {"reference": reference.reference(code, 2, "T")})
    assert "Carers' group has printed 1 sheet, so there is no sheet 2" in text(refused)
    with app.app_context():
        assert db.session.scalar(select(Donation.id)) is None


def test_pledges_on_a_team_sheet_are_handed_in_by_the_captain_for_the_team(app, world):
    (ref,) = team_sheets(app)
    sandra = login(app, "sandra@example.org")
    ian = {"first_name": "Ian", "last_name": "Ross", "pledged": "40", "paid": "25"}
    mo = {**FIONA, "first_name": "Mo", "pledged": "10", "paid": "", "date_paid": ""}
    saved = sandra.post(f"/paper/sheets/{ref}", grid(ian, mo, handed_in="25", action="save"))
    assert saved.status_code == 303
    team_scope = f"team:{world['team']}"
    assert raised(app, team_scope) == raised(app, EVENT_SCOPE) == 2500
    aisha = login(app, "aisha@example.org")
    home = text(aisha.client.get("/me"))
    assert "Promised on the team's sponsorship forms" in home
    assert "£50.00 promised, £25.00 collected" in home
    with app.app_context():
        lines = {ln.donor_name: ln.id for ln in db.session.scalars(select(PaperLine))}
    callum = login(app, "callum@example.org")  # a member, not the captain
    assert callum.post(f"/paper/pledges/{lines['Ian Ross']}/paid").status_code == 404
    assert sandra.post(f"/paper/pledges/{lines['Ian Ross']}/paid").status_code == 404
    for name in ("Ian Ross", "Ms Mo Campbell"):
        response = aisha.post(f"/paper/pledges/{lines[name]}/paid")
        assert response.status_code == 303
    assert raised(app, team_scope) == 2500  # waiting for an organiser
    with app.app_context():
        waiting = db.session.scalars(
            select(Donation).where(Donation.status == DonationStatus.PENDING).order_by(Donation.id)
        ).all()
        assert [(d.amount_pence, d.team_id, d.sponsor_page_id, d.gift_aid) for d in waiting] == [
            (1500, world["team"], None, False),
            (1000, world["team"], None, True),
        ]
        ids = [d.id for d in waiting]
    dashboard = text(sandra.client.get("/organiser"))
    assert "Team: Carers' group" in dashboard
    for donation_id in ids:
        assert sandra.post(f"/organiser/donations/{donation_id}/confirm").status_code == 303
    assert raised(app, team_scope) == raised(app, EVENT_SCOPE) == 5000
    assert raised(app, f"page:{world['aisha']}") == 0
    assert "£50.00 promised, £50.00 collected" in text(aisha.client.get("/me"))


def _schedule(sandra, claim_id):
    return hmrc_reader.read(
        sandra.client.get(f"/organiser/gift-aid/claims/{claim_id}/claim.ods").get_data()
    )


def test_a_team_sheets_gift_aid_stays_a_line_per_sponsor_under_either_method(app, world):
    (page_ref,) = page_sheets(app, world["aisha"])
    (team_ref,) = team_sheets(app)
    sandra = login(app, "sandra@example.org")
    bill = {**FIONA, "first_name": "Bill", "paid": "30", "date_paid": "03/11/26"}
    assert (
        sandra.post(
            f"/paper/sheets/{page_ref}", grid(FIONA, bill, handed_in="50", action="save")
        ).status_code
        == 303
    )
    tam = {**FIONA, "first_name": "Tam", "last_name": "Reid", "paid": "15"}
    una = {**FIONA, "first_name": "Una", "last_name": "Reid", "paid": "5", "date_paid": "02/11/26"}
    assert (
        sandra.post(
            f"/paper/sheets/{team_ref}", grid(tam, una, handed_in="20", action="save")
        ).status_code
        == 303
    )
    with app.app_context():
        claim, preview = gift_aid_claims.start(Period(date(2026, 11, 1), date(2026, 11, 30)))
        claim_id = claim.id
        assert preview.schedule.refused == []
        aisha_series = db.session.scalar(
            select(PaperSeries.id).where(PaperSeries.sponsor_page_id == world["aisha"])
        )
    individual = [(ln["first_name"], ln["sponsored"]) for ln in _schedule(sandra, claim_id).lines]
    assert sorted(individual) == [("Bill", ""), ("Fiona", ""), ("Tam", ""), ("Una", "")]
    # The claim's method page lists the participant only: a team has no "Yes" line.
    method = f"/paper/claims/{claim_id}/method"
    shown = sandra.client.get(method)
    assert shown.status_code == 200
    sections = re.findall(r'<h2 id="participant-[0-9]+">([^<]*)</h2>', text(shown))
    assert sections == ["Aisha Rahman"]
    prefix = f"address-{aisha_series}-"
    sandra.post(
        f"/paper/claims/{claim_id}/participants/{aisha_series}/address",
        {
            prefix + "first_name": "Aisha",
            prefix + "last_name": "Rahman",
            prefix + "house": "4 Kelvin Way",
            prefix + "postcode": "g3 7qq",
        },
    )
    assert sandra.post(method, {"method": "sponsored"}).status_code == 303
    schedule = _schedule(sandra, claim_id)
    assert schedule.problems == []
    lines = sorted(
        (ln["first_name"], ln["last_name"], ln["sponsored"], ln["amount"]) for ln in schedule.lines
    )
    assert lines == [
        ("Aisha", "Rahman", "Yes", "50.00"),
        ("Tam", "Reid", "", "15.00"),
        ("Una", "Reid", "", "5.00"),
    ]


def test_a_claim_with_only_team_sheets_has_no_participant_line_to_choose(app, world):
    (team_ref,) = team_sheets(app)
    sandra = login(app, "sandra@example.org")
    assert (
        sandra.post(
            f"/paper/sheets/{team_ref}", grid(FIONA, handed_in="20", action="save")
        ).status_code
        == 303
    )
    with app.app_context():
        claim, _ = gift_aid_claims.start(Period(date(2026, 11, 1), date(2026, 11, 30)))
        claim_id = claim.id
        series_id = db.session.scalar(select(PaperSeries.id))
    method = f"/paper/claims/{claim_id}/method"
    assert "a team's sheets (references starting T)" in text(sandra.client.get(method))
    refused = sandra.post(method, {"method": "sponsored"})
    assert refused.status_code == 409
    assert "a team's sheets always have a line per sponsor" in text(refused)
    address = f"/paper/claims/{claim_id}/participants/{series_id}/address"
    assert sandra.post(address, {}).status_code == 404
    assert [ln["sponsored"] for ln in _schedule(sandra, claim_id).lines] == [""]


def test_a_merged_teams_sheets_count_for_the_team_it_joined(app, world):
    (ref,) = team_sheets(app)
    with app.app_context():
        students = service.create_team("Students", slug="students")
        db.session.commit()
        students_id = students.id
    sandra = login(app, "sandra@example.org")
    assert sandra.post("/t/carers/merge", {"into": "students"}).status_code == 303
    # The old team's print page leads to the team it joined (whose captain prints its own).
    moved = sandra.client.get("/paper/teams/carers/form")
    assert moved.status_code == 301 and moved.headers["Location"] == "/paper/teams/students/form"
    opened = text(sandra.client.get(f"/paper/sheets/{ref}"))
    assert "printed for Carers' group, which an organiser merged into Students" in opened
    saved = sandra.post(f"/paper/sheets/{ref}", grid(FIONA, handed_in="20", action="save"))
    assert saved.status_code == 303
    assert "counted for the team Students" in text(sandra.client.get(saved.headers["Location"]))
    assert raised(app, f"team:{students_id}") == 2000
    assert raised(app, f"team:{world['team']}") == 0
    assert raised(app, EVENT_SCOPE) == 2000
    with app.app_context():
        assert db.session.scalar(select(Donation.team_id)) == students_id


def test_a_hidden_teams_sheet_still_counts_for_it(app, world):
    (ref,) = team_sheets(app)
    with app.app_context():
        service.set_hidden(db.session.get(Team, world["team"]), True)
        db.session.commit()
    sandra = login(app, "sandra@example.org")
    assert "hidden from the public just now" in text(sandra.client.get(f"/paper/sheets/{ref}"))
    saved = sandra.post(f"/paper/sheets/{ref}", grid(FIONA, handed_in="20", action="save"))
    assert saved.status_code == 303
    assert raised(app, f"team:{world['team']}") == 2000


def test_a_series_belongs_to_exactly_one_page_or_team(app, world):
    with app.app_context():
        for owner in ({}, {"sponsor_page_id": world["aisha"], "team_id": world["team"]}):
            db.session.add(PaperSeries(code="ZZZ", sheets=0, **owner))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()


def _save_while_merging(app, ref: str, organiser_id: int, team_id: int, into_id: int):
    """One organiser saves a team's sheet as another merges the team, at the same moment."""
    barrier = threading.Barrier(2)

    def save() -> None:
        with app.app_context():
            found = sheets.find(ref)
            grid = entry.check_grid([FIONA, {"first_name": "Gran", "paid": "5"}], date(2026, 11, 2))
            barrier.wait()
            sheets.save(found, grid, 2500, date(2026, 11, 2), db.session.get(User, organiser_id))

    def merge() -> None:
        with app.app_context():
            barrier.wait()
            begin_write()
            membership.merge(db.session.get(Team, team_id), db.session.get(Team, into_id))
            db.session.commit()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(save), pool.submit(merge)]:
            done.result()


def _money_is_where_its_donations_are(app, team_id: int, into_id: int, member_page: int):
    with app.app_context():
        gifts = dict(
            db.session.execute(
                select(Donation.team_id, func.sum(Donation.amount_pence))
                .where(Donation.team_id.is_not(None))
                .group_by(Donation.team_id)
            ).all()
        )
        member = db.session.get(Totals, f"page:{member_page}").raised_pence
        assert gifts == {into_id: 2500}
        assert db.session.get(Totals, f"team:{into_id}").raised_pence == 2500 + member
        assert db.session.get(Totals, f"team:{team_id}").raised_pence == 0
        assert db.session.get(Totals, EVENT_SCOPE).raised_pence == 2500 + member


def _merging_world(factory: Factory) -> tuple[str, int, int, int, int]:
    """Carers (captained by Aisha, who has £7 online) with a printed sheet, and Students."""
    aisha = factory.participant()
    organiser = factory.user()
    factory.donation(700, page_id=aisha)
    with factory.app.app_context():
        carers = service.create_team(
            "Carers' group", captain=db.session.get(SponsorPage, aisha), slug="carers"
        )
        students = service.create_team("Students", slug="students")
        db.session.commit()
        (ref,) = printing_service.print_sheets(carers, 1)
        return ref, organiser, carers.id, students.id, aisha


def test_a_sheet_saved_as_its_team_is_merged_lands_with_its_money(make):
    ref, organiser, carers, students, aisha = _merging_world(make)
    _save_while_merging(make.app, ref, organiser, carers, students)
    _money_is_where_its_donations_are(make.app, carers, students, aisha)


@pytest.mark.postgres
def test_a_sheet_saved_as_its_team_is_merged_lands_with_its_money_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        for _ in range(3):  # either may go first: each order ends the same
            ref, organiser, carers, students, aisha = _merging_world(Factory(app))
            _save_while_merging(app, ref, organiser, carers, students)
            _money_is_where_its_donations_are(app, carers, students, aisha)
            with app.app_context():
                fresh_schema()
                configure_test_event()
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
