"""Retention (app/privacy/retention.py): donors' contact details nothing requires us to keep
are removed DONOR_CONTACT_RETENTION_MONTHS after the event by `flask privacy purge`, which
refuses to run early without --force and says what it removed; the privacy notice states
each retention period exactly as the code applies it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.mailing import consent
from app.models import (
    EVENT_ID,
    AfterEventDelivery,
    AfterEventMessage,
    AuditEntry,
    Donation,
    GiftAidClaim,
    OutboxMessage,
)
from app.privacy import retention, rules
from app.safety import service as safety_service
from app.timefmt import parse_london

EVENT_DAY = parse_london("2027-04-17 10:00")


def _donor_copies() -> list[str]:
    """Whom the kept copies of emails went to, donors only (the participant's nudges and
    notices are hers: an account keeps them)."""
    query = select(OutboxMessage.to_address).where(OutboxMessage.to_address != "aisha@example.org")
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def _sent(app, to: str) -> None:
    with app.app_context():
        db.session.add(
            OutboxMessage(to_address=to, subject="Receipt", body_text="Thanks", sent_at=EVENT_DAY)
        )
        db.session.commit()


@pytest.fixture
def donations(make):
    page_id = make.participant()
    plain = make.donation(1000, page_id, donor_name="Gordon", donor_email="gordon@example.org")
    declared = make.donation(2000, page_id, donor_email="fiona@example.org", gift_aid=True)
    _sent(make.app, "gordon@example.org")
    _sent(make.app, "fiona@example.org")
    return {"plain": plain, "declared": declared}


def test_the_purge_refuses_to_run_early_without_force(donations, runner):
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 1
    assert "Not yet: donors' contact details are kept until" in result.output
    assert "Use --force" in result.output
    with runner.app.app_context():
        assert db.session.get(Donation, donations["plain"]).donor_email == "gordon@example.org"


def test_the_purge_removes_what_nothing_keeps_and_says_so(donations, runner, make):
    with make.app.app_context():
        totals_before = [
            d.contribution() for d in db.session.scalars(select(Donation).order_by(Donation.id))
        ]
    result = runner.invoke(args=["privacy", "purge", "--force"])
    assert result.exit_code == 0, result.output
    assert "Removed the name and email address from 1 donations (1 addresses)" in result.output
    assert "deleted 1 sent emails" in result.output
    assert "Kept 1 donations with a Gift Aid declaration" in result.output
    with make.app.app_context():
        plain = db.session.get(Donation, donations["plain"])
        assert (plain.donor_name, plain.donor_email, plain.amount_pence) == ("", "", 1000)
        declared = db.session.get(Donation, donations["declared"])
        assert declared.donor_email == "fiona@example.org"
        assert _donor_copies() == ["fiona@example.org"]
        assert [
            d.contribution() for d in db.session.scalars(select(Donation).order_by(Donation.id))
        ] == totals_before
        assert db.session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "privacy.contacts_removed")
        )


def test_the_purge_runs_by_itself_once_the_period_is_over(donations, make):
    with make.app.app_context():
        due = retention.purge_date()
        assert due == datetime(2028, 4, 17, 9, 0, tzinfo=UTC)  # 12 months after 10am BST
        with pytest.raises(retention.TooEarly):
            retention.purge(now=due - timedelta(seconds=1))
        assert retention.purge(now=due).donations_cleared == 1


def _say(app, email: str, given: bool, kind: str = "event_news") -> None:
    with app.app_context():
        consent.record(email, kind, given, wording_version=consent.TICK_VERSION, source="t")
        db.session.commit()


def _consents(app, email: str) -> list[bool]:
    with app.app_context():
        return [r.given for r in consent.history(email)]


def test_a_donor_who_said_yes_is_kept_until_they_unsubscribe(donations, make):
    app = make.app
    _say(app, "Gordon@Example.org ", True)  # however it was typed
    with app.app_context():
        report = retention.purge(force=True)
        assert (report.donations_cleared, report.kept_for_consent) == (0, 1)
        assert db.session.get(Donation, donations["plain"]).donor_email == "gordon@example.org"
    assert _consents(app, "gordon@example.org") == [True]
    _say(app, "gordon@example.org", False)  # the one-click link, months later
    with app.app_context():
        report = retention.purge(force=True)
        assert (report.donations_cleared, report.kept_for_consent) == (1, 0)
        assert db.session.get(Donation, donations["plain"]).donor_email == ""
        assert _donor_copies() == ["fiona@example.org"]
    assert _consents(app, "gordon@example.org") == []  # the address is gone from them too


def test_an_unsubscribe_from_everything_ends_the_consent_too(donations, make):
    _say(make.app, "gordon@example.org", True)
    _say(make.app, "gordon@example.org", False, kind=consent.ALL)
    with make.app.app_context():
        assert retention.purge(force=True).kept_for_consent == 0


def test_consent_keeps_details_no_longer_than_the_longer_period(donations, make):
    _say(make.app, "gordon@example.org", True)
    with make.app.app_context():
        first, last = retention.purge_date(), retention.news_purge_date()
        assert last == retention.add_months(EVENT_DAY, 24)
        assert retention.purge(now=first).kept_for_consent == 1
        report = retention.purge(now=last)
        assert (report.donations_cleared, report.kept_for_consent) == (1, 0)


def test_the_after_event_delivery_goes_with_its_sent_copy(donations, make):
    with make.app.app_context():
        copy = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.to_address == "gordon@example.org")
        )
        draft = AfterEventMessage(event_id=EVENT_ID, subject="How it went", body="Thanks")
        db.session.add(draft)
        db.session.flush()
        db.session.add(
            AfterEventDelivery(
                message_id=draft.id, email="gordon@example.org", outbox_message_id=copy.id
            )
        )
        db.session.commit()
        assert retention.purge(force=True).emails_deleted == 1
        assert db.session.scalars(select(AfterEventDelivery.email)).all() == []


@pytest.mark.parametrize(
    "moment, months, expected",
    [
        (datetime(2027, 1, 31, tzinfo=UTC), 1, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 4, 17, tzinfo=UTC), 12, datetime(2028, 4, 17, tzinfo=UTC)),
        (datetime(2027, 11, 30, tzinfo=UTC), 3, datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(moment, months, expected):
    assert retention.add_months(moment, months) == expected


def _notice_periods(client) -> dict[str, str]:
    page = client.get("/privacy").text
    return dict(re.findall(r'<span data-retention="(\w+)">([^<]+)</span>', page))


@pytest.mark.parametrize("months, news, days", [(12, 24, 30), (18, 36, 45)])
def test_the_privacy_notice_states_each_period_the_code_applies(event, client, months, news, days):
    event.config.update(
        DONOR_CONTACT_RETENTION_MONTHS=months,
        DONOR_NEWS_RETENTION_MONTHS=news,
        SAFETY_RETENTION_DAYS=days,
    )
    stated = _notice_periods(client)
    assert stated == {
        "donor_contact": f"{months} months after the event",
        "donor_news": f"{news} months after the event",
        "gift_aid": "6 years after the claim",
        "safety": f"{days} days after the event",
    }
    with event.app_context():
        assert stated == rules.retention_periods()
        starts = EVENT_DAY
        # What the code does, read back from the code that does it.
        assert retention.purge_date() == retention.add_months(starts, months)
        assert retention.news_purge_date() == retention.add_months(starts, news)
        assert safety_service.purge_date() == starts + timedelta(days=days)
        claim = GiftAidClaim(period_from=starts.date(), period_to=starts.date())
        claim.submitted_on = starts.date()
        assert claim.keep_until == starts.date().replace(year=starts.year + 6)
