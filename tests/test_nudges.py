"""Fundraiser nudges: first donation, halfway, target reached and a quiet week, each sent once
through the outbox (also when webhooks race, on PostgreSQL), each turned off by the participant
or by the organisers for everyone, none after the event closes."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app, totals
from app.events.service import configure_event, get_event
from app.extensions import db
from app.mailing import consent, may_email, unsubscribe_link
from app.models import (
    Donation,
    DonationSource,
    DonationStatus,
    NudgeKind,
    NudgeSent,
    OutboxMessage,
    SponsorPage,
    utcnow,
)
from app.nudges import service
from app.outbox import send_due
from tests.accounts import AuthActions
from tests.conftest import configure_test_event, fresh_schema
from tests.test_totals import change

FIRST, HALF, TARGET, QUIET = (service.SUBJECTS[k] for k in NudgeKind)


def subjects(app, to="aisha@example.org") -> list[str]:
    """The nudges queued for `to`, oldest first (other mail left out)."""
    with app.app_context():
        query = select(OutboxMessage.subject).where(OutboxMessage.to_address == to)
        nudges = set(service.SUBJECTS.values())
        return [s for s in db.session.scalars(query.order_by(OutboxMessage.id)) if s in nudges]


def settings(app, **values):
    with app.app_context():
        configure_event(**values)


def test_each_milestone_is_emailed_once_as_the_total_passes_it(make, smtp):
    page = make.participant(target_pence=30_000)
    make.donation(1000, page_id=page)
    assert subjects(make.app) == [FIRST]
    make.donation(1000, page_id=page)
    assert subjects(make.app) == [FIRST]  # the second donation is no first
    make.donation(13_000, page_id=page)  # £150 of £300: halfway
    assert subjects(make.app) == [FIRST, HALF]
    make.donation(15_000, page_id=page)
    assert subjects(make.app) == [FIRST, HALF, TARGET]
    make.donation(5_000, page_id=page)
    assert subjects(make.app) == [FIRST, HALF, TARGET]

    with make.app.app_context():
        send_due()
    [first, *_] = smtp.to("aisha@example.org")
    site = make.app.config["SITE_URL"]
    body = first.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Your first donation is in: your page has raised £10.00 of your £300.00" in body
    assert f"{site}/p/aisha" in body
    assert "https://wa.me/?text=I%27m%20taking%20part%20in%20Sponsored%20Abseil" in body
    assert "Could you sponsor me?" in body
    assert f"choose which you get here (you need to log in):\n{site}/me/emails" in body
    # Not a service message: the one-click link in both versions and in the headers (RFC 8058).
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", first["List-Unsubscribe"]).group(1)
    assert link.startswith(f"{site}/mailing/unsubscribe/")
    assert (
        f"You can stop fundraising nudges (halfway, target reached, a quiet week) with one "
        f"click, no log-in needed:\n{link}\n" in body
    )
    assert f'<a href="{link}"' in first.get_body(("html",)).get_content()


def test_one_big_donation_sends_only_the_furthest_milestone_and_none_again(make):
    page = make.participant(target_pence=10_000)
    donation = make.donation(12_000, page_id=page)
    assert subjects(make.app) == [TARGET]
    # A refund takes the page back under every milestone; paid again, nothing is resent.
    change(make.app, donation, refunded_pence=12_000)
    make.donation(12_000, page_id=page)
    assert subjects(make.app) == [TARGET]
    with make.app.app_context():
        kinds = set(db.session.scalars(select(NudgeSent.kind)))
    assert kinds == {NudgeKind.FIRST_DONATION, NudgeKind.HALFWAY, NudgeKind.TARGET_REACHED}


def test_gift_aid_counts_toward_milestones_only_when_the_event_says_so(make):
    for slug, fills in (("aisha", False), ("callum", True)):
        settings(make.app, gift_aid_fills_target=fills)
        page = make.participant(slug=slug, name=slug.title(), target_pence=10_000)
        make.donation(3_800, page_id=page, gift_aid=True)  # £38 + £9.50 Gift Aid
        make.donation(300, page_id=page)  # £41 raised, £50.50 with the Gift Aid
    assert subjects(make.app) == [FIRST]
    assert subjects(make.app, "callum@example.org") == [FIRST, HALF]


def test_event_donations_and_pending_ones_nudge_nobody(make):
    page = make.participant()
    make.donation(1000)
    make.donation(1000, page_id=page, status=DonationStatus.PENDING)
    assert subjects(make.app) == []


def test_a_participant_turns_kinds_off_on_me(make, client):
    page = make.participant(target_pence=10_000)
    auth = AuthActions(client)
    auth.login()
    form = client.get("/me/emails").get_data(as_text=True)
    assert 'name="halfway"' in form and "checked" in form
    assert "Choose which emails you get" in client.get("/me").get_data(as_text=True)
    answer = auth.post("/me/emails", {"first_donation": "y", "quiet_week": "y"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/me/emails")
    make.donation(6_000, page_id=page)  # first donation and halfway: halfway is off
    assert subjects(make.app) == [FIRST]
    make.donation(6_000, page_id=page)
    assert subjects(make.app) == [FIRST]  # target reached is off too
    page_html = client.get("/me/emails").get_data(as_text=True)
    assert page_html.count("checked") == 2
    auth.post("/me/emails", {})
    with make.app.app_context():
        assert service.turned_off(db.session.get(SponsorPage, page).participant_id) == set(
            NudgeKind
        )


def test_organisers_switch_a_kind_off_for_everyone(make, client):
    page = make.participant()
    settings(make.app, nudge_first_donation=False)
    auth = AuthActions(client)
    auth.login()
    assert "turned this email off for everyone" in client.get("/me/emails").get_data(as_text=True)
    make.donation(1000, page_id=page)
    assert subjects(make.app) == []


def test_the_organisers_settings_page_has_each_switch(organiser, client, event):
    html = client.get("/organiser/settings").get_data(as_text=True)
    for name in ("nudge_first_donation", "nudge_halfway", "nudge_target_reached"):
        assert f'name="{name}"' in html
    assert 'name="instructors_post_safety_news"' in html


def test_nothing_is_sent_after_the_event_closes(make):
    page = make.participant()
    settings(make.app, closes_at=utcnow() - timedelta(minutes=1))
    make.donation(1000, page_id=page)
    assert subjects(make.app) == []
    with make.app.app_context():
        assert service.send_quiet_week(utcnow() + timedelta(days=30)) == 0


def _went_live(app, page_id, when):
    with app.app_context():
        db.session.get(SponsorPage, page_id).approved_at = when
        db.session.commit()


def test_a_quiet_week_before_the_event_is_nudged_once_with_a_ready_message(make, smtp):
    app = make.app
    now = utcnow()
    quiet, busy, new = (
        make.participant(slug=s, name=n)
        for s, n in (("aisha", "Aisha Rahman"), ("callum", "Callum Reid"), ("dee", "Dee Ng"))
    )
    for page in (quiet, busy):
        _went_live(app, page, now - timedelta(days=20))
    make.donation(1000, page_id=busy)  # today
    with app.app_context():
        assert service.send_quiet_week(now) == 1
        assert service.send_quiet_week(now + timedelta(days=8)) == 2  # busy and new, once each
        assert service.send_quiet_week(now + timedelta(days=30)) == 0  # never twice
        send_due()
    [mail] = smtp.to("aisha@example.org")
    assert mail["Subject"] == QUIET
    body = mail.get_body(("plain",)).get_content()
    assert "A message ready to share" in body and "Could you sponsor me?" in body
    assert "Text message: sms:?body=" in body
    assert subjects(app, "callum@example.org") == [FIRST, QUIET]


def test_the_quiet_week_skips_opt_outs_pages_at_target_and_the_event_itself(make, client):
    app = make.app
    now = utcnow()
    at_target = make.participant(target_pence=1000)
    opted_out = make.participant(slug="callum", name="Callum Reid")
    _went_live(app, at_target, now - timedelta(days=20))
    _went_live(app, opted_out, now - timedelta(days=20))
    make.donation(1000, page_id=at_target)
    auth = AuthActions(client)
    auth.login("callum@example.org")
    auth.post("/me/emails", {"first_donation": "y"})
    with app.app_context():
        assert service.send_quiet_week(now + timedelta(days=8)) == 0
        starts = get_event().starts_at
    make.participant(slug="dee", name="Dee Ng")
    with app.app_context():
        assert service.send_quiet_week(starts) == 0  # on the day: no more nudges
    settings(app, nudge_quiet_week=False)
    with app.app_context():
        assert service.send_quiet_week(now + timedelta(days=8)) == 0
    settings(app, nudge_quiet_week=True)
    with app.app_context():
        assert service.send_quiet_week(now + timedelta(days=8)) == 1  # Dee


def _one_click(app, client, email: str, kind: str) -> None:
    """What a mail client's Unsubscribe button does with the link in the headers."""
    with app.test_request_context():
        path = "/" + unsubscribe_link(email, kind).split("/", 3)[3]
    answer = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("kind", ["nudges", "all"])
def test_an_unsubscribe_by_link_stops_every_nudge_until_ticked_again(make, client, kind):
    app = make.app
    page = make.participant(target_pence=10_000)
    _went_live(app, page, utcnow() - timedelta(days=20))
    _one_click(app, client, "aisha@example.org", kind)
    make.donation(1_000, page_id=page)  # a first donation: nothing
    make.donation(4_500, page_id=page)  # halfway: nothing
    with app.app_context():
        assert service.send_quiet_week(utcnow() + timedelta(days=8)) == 0
    assert subjects(app) == []
    auth = AuthActions(client)
    auth.login()
    form = client.get("/me/emails").text
    assert "You unsubscribed from these emails with the link" in form
    assert "checked" not in form  # the ticks say what is sent
    auth.post("/me/emails", {"target_reached": "y", "quiet_week": "y"})
    with app.app_context():
        assert may_email("aisha@example.org", "nudges")
        [*_, yes] = consent.history("aisha@example.org")
        assert (yes.kind, yes.given, yes.wording_version) == (
            "nudges",
            True,
            consent.ME_EMAILS_VERSION,
        )
        assert service.send_quiet_week(utcnow() + timedelta(days=8)) == 1
    make.donation(5_000, page_id=page)  # target reached
    assert subjects(app) == [QUIET, TARGET]
    assert "You unsubscribed" not in client.get("/me/emails").text


def test_the_timer_command_queues_the_quiet_week(make, runner):
    page = make.participant()
    _went_live(make.app, page, utcnow() - timedelta(days=8))
    result = runner.invoke(args=["nudges", "send"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 quiet-week nudge." in result.output
    assert "Queued 0 quiet-week nudges." in runner.invoke(args=["nudges", "send"]).output


@pytest.mark.postgres
def test_racing_webhooks_send_each_milestone_once_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    from tests.conftest import Factory

    page = Factory(app).participant(target_pence=2_000)

    def pay(i):
        with app.app_context():
            donation = Donation(
                sponsor_page_id=page,
                source=DonationSource.ONLINE,
                amount_pence=100,
                donor_name=f"Donor {i}",
            )
            with totals.tracking(donation):
                donation.status = DonationStatus.PAID
                donation.paid_at = utcnow()
            db.session.commit()

    def claim(_):
        with app.app_context():
            won = service._claim(1, NudgeKind.QUIET_WEEK)
            db.session.commit()
            return won

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(pay, range(30)))
            wins = list(pool.map(claim, range(10)))
        assert subjects(app) == [FIRST, HALF, TARGET]
        assert wins.count(True) == 1
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(NudgeSent)) == 4
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_a_card_payments_webhook_sends_the_nudge_with_the_notice(make, client, smtp):
    from tests import stripe_events as se
    from tests.test_webhooks import deliver

    make.app.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    page = make.participant(target_pence=10_000)
    donation_id = make.donation(2500, page_id=page, status=DonationStatus.PENDING)
    body = se.event("checkout.session.completed", se.checkout_session(donation_id, 2500))
    for _ in range(3):  # redelivered: still one of each
        assert deliver(client, body).status_code == 200
    assert sorted(m["Subject"] for m in smtp.wait_for("aisha@example.org", 2)) == [
        "New donation on your page: £25.00",
        FIRST,
    ]
