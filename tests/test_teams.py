"""Teams: pages and gifts roll up into a team's totals exactly once, whoever joins, leaves,
moves or merges, and the team page shows it."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app, totals
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Donation,
    DonationSource,
    DonationStatus,
    JoinApproval,
    SponsorPage,
    Team,
    TeamMember,
    Totals,
    utcnow,
)
from app.teams import membership, service
from tests.conftest import configure_test_event, fresh_schema


def team(app, name="Carers' group", slug="carers", captain=None, **fields) -> int:
    with app.app_context():
        page = db.session.get(SponsorPage, captain) if captain else None
        made = service.create_team(name, captain=page, slug=slug, **fields)
        db.session.commit()
        return made.id


def join(app, page_id, team_id):
    with app.app_context():
        membership.join(db.session.get(SponsorPage, page_id), db.session.get(Team, team_id))
        db.session.commit()


def leave(app, page_id):
    with app.app_context():
        membership.leave(db.session.get(SponsorPage, page_id))
        db.session.commit()


def raised(app, scope) -> int:
    with app.app_context():
        return db.session.get(Totals, scope).raised_pence


def row(app, scope) -> tuple:
    with app.app_context():
        t = db.session.get(Totals, scope)
        return (t.raised_pence, t.gift_aid_eligible_pence, t.refunded_pence, t.supporters)


def refund(app, donation_id, pence):
    with app.app_context():
        donation = db.session.get(Donation, donation_id)
        with totals.tracking(donation):
            donation.refunded_pence = pence
        db.session.commit()


def test_a_members_gift_counts_for_page_team_and_event_once(make):
    aisha = make.participant()
    carers = team(make.app, captain=aisha)
    make.donation(2000, page_id=aisha, gift_aid=True)
    assert row(make.app, f"page:{aisha}") == (2000, 2000, 0, 1)
    assert row(make.app, f"team:{carers}") == (2000, 2000, 0, 1)
    assert row(make.app, EVENT_SCOPE) == (2000, 2000, 0, 1)


def test_a_gift_to_the_team_itself_counts_for_team_and_event_with_gift_aid(make):
    carers = team(make.app)
    make.donation(1000, team_id=carers, gift_aid=True)
    assert row(make.app, f"team:{carers}") == (1000, 1000, 0, 1)
    assert row(make.app, EVENT_SCOPE) == (1000, 1000, 0, 1)
    with make.app.app_context():
        assert db.session.get(Totals, f"team:{carers}").gift_aid_pence == 250


def test_a_gift_names_a_page_or_a_team_never_both(make):
    aisha = make.participant()
    carers = team(make.app)
    with pytest.raises(Exception, match="page_or_team|CHECK"):
        make.donation(1000, page_id=aisha, team_id=carers)


def test_moving_team_takes_the_money_along_and_later_refunds_follow(make):
    aisha = make.participant()
    callum = make.participant("Callum MacLeod", "callum")
    carers = team(make.app, captain=aisha)
    students = team(make.app, "Students", "students", captain=callum)
    first = make.donation(1234, page_id=aisha, gift_aid=True)
    make.donation(566, page_id=aisha)
    make.donation(700, page_id=callum)
    make.donation(300, team_id=carers)
    assert raised(make.app, f"team:{carers}") == 1234 + 566 + 300
    join(make.app, aisha, students)
    assert raised(make.app, f"team:{carers}") == 300
    assert row(make.app, f"team:{students}") == (700 + 1800, 1234, 0, 3)
    refund(make.app, first, 234)
    assert row(make.app, f"team:{students}") == (700 + 1566, 1000, 234, 3)
    assert raised(make.app, f"team:{carers}") == 300
    leave(make.app, aisha)
    assert row(make.app, f"team:{students}") == (700, 0, 0, 1)
    assert raised(make.app, EVENT_SCOPE) == 1000 + 566 + 700 + 300


def test_a_member_waiting_for_approval_counts_once_let_in(make):
    aisha = make.participant()
    callum = make.participant("Callum MacLeod", "callum")
    carers = team(make.app, captain=aisha, join_approval=JoinApproval.CAPTAIN)
    make.donation(900, page_id=callum)
    join(make.app, callum, carers)
    assert raised(make.app, f"team:{carers}") == 0
    with make.app.app_context():
        membership.approve(db.session.get(TeamMember, callum))
        db.session.commit()
    assert raised(make.app, f"team:{carers}") == 900


def test_merging_moves_members_gifts_and_totals(make):
    aisha = make.participant()
    callum = make.participant("Callum MacLeod", "callum")
    carers = team(make.app, captain=aisha)
    students = team(make.app, "Students", "students", captain=callum)
    make.donation(1000, page_id=aisha)
    gift = make.donation(250, team_id=carers)
    make.donation(400, page_id=callum)
    with make.app.app_context():
        membership.merge(db.session.get(Team, carers), db.session.get(Team, students))
        db.session.commit()
    assert raised(make.app, f"team:{carers}") == 0
    assert raised(make.app, f"team:{students}") == 1650
    refund(make.app, gift, 50)
    make.donation(10, page_id=aisha)
    assert raised(make.app, f"team:{students}") == 1610
    assert raised(make.app, f"team:{carers}") == 0


def test_the_team_page_shows_members_bar_and_the_sponsor_choice(client, make):
    aisha = make.participant()
    team(make.app, "Carers' group", "carers", captain=aisha, story="We care.")
    make.donation(1500, page_id=aisha)
    page = client.get("/t/carers")
    assert page.status_code == 200
    assert "Carers&#39; group" in page.text and "We care." in page.text
    assert "Aisha Rahman" in page.text and "£15.00 raised" in page.text
    assert 'id="team-share"' in page.text
    assert client.get("/t/carers/sponsor").status_code == 200
    assert client.get("/t/carers/sponsor?to=aisha").headers["Location"] == "/donate/aisha"
    assert client.get("/t/carers/sponsor?to=team").headers["Location"] == "/donate?team=carers"
    assert "Sponsor Carers&#39; group" in client.get("/donate?team=carers").text


def test_team_and_member_photos_or_initials_sit_beside_their_names(client, make):
    from app.images import service as images
    from tests.test_page_photos import image_bytes

    aisha = make.participant()
    callum = make.participant("Callum Baird", "callum")
    carers = team(make.app, "Carers' group", "carers", captain=aisha)
    team(make.app, "Summit seekers", "summit", captain=callum)
    with make.app.app_context():
        photo = images.store(image_bytes(size=(80, 60)))
        db.session.get(SponsorPage, aisha).photo = photo
        db.session.get(Team, carers).photo = photo
        db.session.commit()
        src = f"/images/{photo.sha256}.jpg?size=96"  # the small square, not the photo
    lazy = f'<img class="avatar" src="{src}" width="48" height="48" alt="" loading="lazy"'
    board = client.get("/teams/leaderboard", headers={"HX-Request": "true"}).text
    assert lazy in board  # the Carers' group's photo
    assert '<svg class="avatar"' in board and ">SS</text>" in board  # Summit seekers' initials
    members = client.get("/t/carers").text.split('id="team-members"')[1].split("</ol>")[0]
    assert lazy in members  # Aisha's photo
    join(make.app, callum, carers)
    members = client.get("/t/carers").text.split('id="team-members"')[1].split("</ol>")[0]
    assert ">CB</text>" in members  # Callum has none: his initials


def test_the_event_page_has_a_team_leaderboard_polled_with_etags(client, htmx_client, make):
    aisha = make.participant()
    team(make.app, "Carers' group", "carers", captain=aisha)
    team(make.app, "Students", "students")
    make.donation(1500, page_id=aisha)
    text = client.get("/").text
    assert text.index("Carers&#39; group") < text.index("Students")
    first = htmx_client.get("/teams/leaderboard")
    assert first.status_code == 200
    again = htmx_client.get("/teams/leaderboard", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    make.donation(100, page_id=aisha)
    moved = htmx_client.get("/teams/leaderboard", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and "£16.00" in moved.text


def test_a_participant_creates_joins_and_leaves_through_the_site(client, auth, make):
    make.participant()
    callum = make.participant("Callum MacLeod", "callum")
    auth.login("aisha@example.org")
    created = auth.post(
        "/teams/new", data={"name": "Summit seekers", "target": "500", "join_approval": "open"}
    )
    assert created.status_code == 303 and created.headers["Location"] == "/t/summit-seekers"
    auth.logout()
    make.donation(800, page_id=callum)
    auth.login("callum@example.org")
    assert auth.post("/t/summit-seekers/join").status_code == 303
    with make.app.app_context():
        scope = db.session.scalar(db.select(Team).where(Team.slug == "summit-seekers")).totals_scope
    assert raised(make.app, scope) == 800
    assert auth.post("/teams/leave").status_code == 303
    assert raised(make.app, scope) == 0


def test_a_hidden_team_takes_no_gifts_and_is_not_public(client, make):
    carers = team(make.app)
    with make.app.app_context():
        service.set_hidden(db.session.get(Team, carers), True)
        db.session.commit()
    assert client.get("/t/carers").status_code == 404
    assert client.get("/t/carers/progress").status_code == 404
    assert client.get("/donate?team=carers").status_code == 404


def _pay_while_moving(app, pages, teams, count=40):
    def pay(i):
        with app.app_context():
            donation = Donation(
                sponsor_page_id=pages[i % len(pages)],
                source=DonationSource.ONLINE,
                amount_pence=100 + i,
            )
            with totals.tracking(donation):
                donation.status = DonationStatus.PAID
                donation.paid_at = utcnow()
            db.session.commit()

    def move(i):
        with app.app_context():
            from app.database import begin_write

            begin_write()
            page = db.session.get(SponsorPage, pages[i % len(pages)])
            membership.join(page, db.session.get(Team, teams[i % len(teams)]))
            db.session.commit()

    jobs = [(pay, i) for i in range(count)] + [(move, i) for i in range(count // 2)]
    jobs.sort(key=lambda job: job[1])
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: job[0](job[1]), jobs))


def _assert_teams_hold_their_members_pages(app, team_ids):
    with app.app_context():
        for team_id in team_ids:
            pages = db.session.scalars(
                db.select(TeamMember.sponsor_page_id).where(
                    TeamMember.team_id == team_id, TeamMember.counts
                )
            ).all()
            expected = sum(db.session.get(Totals, f"page:{p}").raised_pence for p in pages)
            assert db.session.get(Totals, f"team:{team_id}").raised_pence == expected


def test_team_totals_stay_exact_while_members_move_and_donations_arrive(make):
    pages = [make.participant(f"P {n}", f"p-{n}") for n in range(3)]
    teams = [team(make.app, f"T {n}", f"t-{n}") for n in range(2)]
    _pay_while_moving(make.app, pages, teams)
    _assert_teams_hold_their_members_pages(make.app, teams)


@pytest.mark.postgres
def test_team_totals_stay_exact_under_concurrency_on_postgres(postgres_url):
    from tests.conftest import Factory

    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        make = Factory(app)
        pages = [make.participant(f"P {n}", f"p-{n}") for n in range(3)]
        teams = [team(app, f"T {n}", f"t-{n}") for n in range(2)]
        _pay_while_moving(app, pages, teams, count=60)
        _assert_teams_hold_their_members_pages(app, teams)
        assert raised(app, EVENT_SCOPE) == sum(100 + i for i in range(60))
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_organisers_exports_and_lists_name_the_team(make, organiser):
    import csv
    import io

    aisha = make.participant()
    carers = team(make.app, "Carers' group", "carers", captain=aisha)
    make.donation(1000, page_id=aisha)
    make.donation(500, team_id=carers)
    make.donation(200)
    response = organiser.client.get("/organiser/exports/donations.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["Team"] for r in rows] == ["Carers' group", "Carers' group", ""]
    assert "Carers&#39; group" in organiser.client.get("/organiser/participants").text
    assert "Team: Carers&#39; group" in organiser.client.get("/organiser/donations").text
    from app.safety import roster

    with make.app.test_request_context():
        assert roster.COLUMNS[-1] == "Team"
        assert {r.status.user.name: r.team for r in roster.rows()}["Aisha Rahman"] == (
            "Carers' group"
        )


def test_the_captain_adds_a_photo_everyone_sees_and_leaving_ends_captaincy(client, auth, make):
    from io import BytesIO

    from PIL import Image

    aisha = make.participant()
    carers = team(make.app, "Carers' group", "carers", captain=aisha)
    auth.login("aisha@example.org")
    jpeg = BytesIO()
    Image.new("RGB", (60, 40), "teal").save(jpeg, "JPEG")
    jpeg.seek(0)
    saved = auth.post(
        "/t/carers/photo",
        {"photo-file": (jpeg, "team.jpg"), "photo-alt": "The team on the roof"},
        prefix="photo",
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303
    with make.app.app_context():
        sha = db.session.get(Team, carers).photo_sha256
    auth.logout()
    assert 'alt="The team on the roof"' in client.get("/t/carers").text
    assert client.get(f"/images/{sha}.jpg").status_code == 200
    leave(make.app, aisha)
    with make.app.app_context():
        assert db.session.get(Team, carers).captain_page_id is None


def test_a_gift_to_the_team_goes_through_checkout_with_gift_aid_and_counts_once(
    donor, stripe_sandbox, event, smtp
):
    from tests.test_checkout import pay, session_id_of, submit
    from tests.test_donations import GIFT_AID

    carers = team(event, "Carers' group", "carers")
    response, _ = submit(donor, "/donate?team=carers", **GIFT_AID)
    assert response.status_code == 303
    [create] = [e for e in stripe_sandbox.requests if e["path"] == "/v1/checkout/sessions"]
    assert create["params"]["metadata"]["team"] == "carers"
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    thanks = donor.get(f"{donor.base}/donate/thanks?session_id={session_id}")
    assert "sponsoring Carers&#39; group" in thanks.text
    assert "Carers&#39; group's total" in thanks.text
    assert row(event, f"team:{carers}") == (2000, 2000, 0, 1)
    assert row(event, EVENT_SCOPE) == (2000, 2000, 0, 1)
    with event.app_context():
        assert db.session.scalar(db.select(Donation)).team_id == carers
    [receipt] = smtp.wait_for("fiona@example.org")
    assert "sponsoring Carers' group" in receipt.get_body(("plain",)).get_content()


def test_organisers_rename_hide_and_merge_through_the_site(make, organiser, client):
    aisha = make.participant()
    carers = team(make.app, "Carers grp", "carers", captain=aisha)
    team(make.app, "Students", "students")
    make.donation(700, page_id=aisha)
    renamed = organiser.post(
        "/t/carers/edit",
        {"name": "Carers' group", "target": "800", "story": "", "join_approval": "captain"},
    )
    assert renamed.headers["Location"] == "/t/carers"
    assert "Carers&#39; group" in client.get("/t/carers").text
    assert organiser.post("/t/students/visibility", {"action": "hide"}).status_code == 303
    merged = organiser.post("/t/carers/merge", {"into": "students"})
    assert "Merge into a team that is shown" in client.get("/t/carers").text
    assert merged.headers["Location"] == "/t/carers"
    organiser.post("/t/students/visibility", {"action": "unhide"})
    merged = organiser.post("/t/carers/merge", {"into": "students"})
    assert merged.headers["Location"] == "/t/students"
    assert client.get("/t/carers/sponsor").status_code == 404
    assert client.get("/t/carers").headers["Location"] == "/t/students"
    with make.app.app_context():
        students = db.session.scalar(db.select(Team).where(Team.slug == "students"))
        assert db.session.get(Totals, students.totals_scope).raised_pence == 700
        assert db.session.get(Totals, f"team:{carers}").raised_pence == 0
