"""The organiser's commands."""

from app.extensions import db
from app.models import Donation, Event, SponsorPage, User
from app.money import format_pence


def test_configure_creates_the_event_in_uk_time(runner, app):
    result = runner.invoke(
        args=[
            "event",
            "configure",
            "--name",
            "Big Abseil",
            "--starts-at",
            "2027-01-09 10:00",
            "--venue",
            "The Tower",
            "--charity-name",
            "Carers Voice",
            "--charity-number",
            "SC012345",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Saturday 9 January 2027, 10:00am at The Tower" in result.output
    with app.app_context():
        event = db.session.get(Event, 1)
        assert event.starts_at.hour == 10  # GMT in January: UK time equals UTC
        assert event.target_pence == 500_000


def test_configure_edits_only_what_is_given(runner, event):
    result = runner.invoke(args=["event", "configure", "--target", "£6,500"])
    assert result.exit_code == 0, result.output
    with event.app_context():
        saved = db.session.get(Event, 1)
        assert saved.target_pence == 650_000
        assert saved.venue == "Queen Margaret Tower, Glasgow"


def test_configure_explains_what_a_new_event_needs(runner, app):
    result = runner.invoke(args=["event", "configure", "--name", "Big Abseil"])
    assert result.exit_code != 0
    assert "--starts-at" in result.output and "--charity-number" in result.output


def test_configure_rejects_a_bad_time_or_amount_clearly(runner, event):
    result = runner.invoke(args=["event", "configure", "--starts-at", "next Tuesday"])
    assert "YYYY-MM-DD HH:MM" in result.output
    result = runner.invoke(args=["event", "configure", "--target", "lots"])
    assert "Enter an amount" in result.output


def test_demo_seed_fills_an_empty_database_once(runner, app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(SponsorPage).count() == 8
        assert db.session.query(User).count() == 10  # + the instructor
        donations = db.session.query(Donation).count()
        assert donations > 30
    again = runner.invoke(args=["demo", "seed"])
    assert "already has an event" in again.output
    with app.app_context():
        assert db.session.query(Donation).count() == donations


def test_demo_totals_match_the_donations(runner, app, client):
    from app.models import EVENT_SCOPE, Totals

    runner.invoke(args=["demo", "seed"])
    with app.app_context():
        expected = sum(d.contribution().raised_pence for d in db.session.query(Donation))
        assert db.session.get(Totals, EVENT_SCOPE).raised_pence == expected
    assert client.get("/").status_code == 200


def test_the_demo_shows_one_gift_aid_figure_on_the_bar_the_dashboard_and_the_claim(
    runner, app, client
):
    import re

    from app.donations.gift_aid import gift_aid_on
    from app.events.demo import DEMO_PASSWORD
    from app.models import EVENT_SCOPE, Totals
    from app.organiser import gift_aid_export
    from app.organiser.gift_aid_fix import needing_attention
    from tests.accounts import AuthActions

    runner.invoke(args=["demo", "seed"])
    with app.app_context():
        row = db.session.get(Totals, EVENT_SCOPE)
        schedule = gift_aid_export.build_schedule()
        assert schedule.rows
        assert [refusal.donor for refusal in schedule.refused] == ["Morag MacLeod"]
        assert schedule.total_pence == row.gift_aid_eligible_pence
        claim_gift_aid = gift_aid_on(schedule.total_pence)
        assert [item.donation.gift_aid_last_name for item in needing_attention()] == ["MacLeod"]
    bar = re.search(r'class="gift-aid">\+ (£[\d,.]+) Gift Aid', client.get("/").text)[1]
    AuthActions(client).login("organiser@example.org", DEMO_PASSWORD)
    dashboard = client.get("/organiser").text
    shown = re.search(r'id="figure-gift-aid">(.*?)</dd>', dashboard)[1]
    assert bar == shown == format_pence(claim_gift_aid)


def test_configure_sets_whether_pages_need_approval(runner, event):
    result = runner.invoke(args=["event", "configure", "--pages-need-approval"])
    assert result.exit_code == 0, result.output
    with event.app_context():
        assert db.session.get(Event, 1).pages_need_approval is True
    runner.invoke(args=["event", "configure", "--pages-go-live"])
    with event.app_context():
        assert db.session.get(Event, 1).pages_need_approval is False
