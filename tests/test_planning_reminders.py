"""The weekly reminder: to each person with decisions waiting for their say, through the
outbox, at most once a week, with a working "stop these emails" link and List-Unsubscribe."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import OutboxMessage
from app.outbox import send_due
from app.planning import reminders
from tests.test_planning import as_user, decision_id, planning, propose  # noqa: F401

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def waiting(planning):  # noqa: F811 - the fixture imported above
    """One open decision that Sandra (Students) has had her say on, and one taken alone."""
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra, title="Which tower?", decide_by="2027-03-10"))
    sandra.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    sandra.post(
        "/planning/decisions/alone",
        {"title": "The date", "decided": "17 April", "why": "Free", "alone_reason": "No time"},
    ).close()
    return planning


def _run(app, now):
    with app.app_context():
        sent = reminders.send_reminders(now)
        send_due()
        return sent


def test_each_person_hears_what_waits_for_their_say_once_a_week(waiting, smtp):
    app = waiting["app"]
    assert _run(app, MONDAY) == 4  # Pat, Rowan and Morven; Sandra for the decision taken alone
    [pat] = smtp.to("pat@example.org")
    body = pat.get_body(("plain",)).get_content()
    assert "2 things need your say:" in body
    assert "- Which tower? (decide by 10 March 2027)" in body
    assert "- The date (decided alone: please read it)" in body
    site = app.config["SITE_URL"]
    assert f"See them here:\n{site}/planning\n" in body.replace("\r\n", "\n")
    [sandra] = smtp.to("sandra@example.org")
    assert "1 thing needs your say:" in sandra.get_body(("plain",)).get_content()
    assert (
        "Which tower?" not in sandra.get_body(("plain",)).get_content()
    )  # she has had her say on it
    stop = pat["List-Unsubscribe"]
    assert stop.startswith(f"<{site}/planning/reminders/") and stop.endswith(">")
    assert stop.strip("<>") in body  # the same link is in the email

    smtp.messages.clear()
    assert _run(app, MONDAY + timedelta(days=3)) == 0  # the same week: nothing again
    assert smtp.messages == []
    assert _run(app, MONDAY + timedelta(days=7)) == 4  # next week: again


def test_nobody_is_emailed_when_nothing_waits(planning, smtp):  # noqa: F811
    assert _run(planning["app"], MONDAY) == 0
    with planning["app"].app_context():
        assert db.session.query(OutboxMessage).count() == 0


def test_the_link_in_the_email_turns_it_off_and_on(waiting, smtp, client):
    app = waiting["app"]
    _run(app, MONDAY)
    [pat] = smtp.to("pat@example.org")
    path = "/" + pat["List-Unsubscribe"].strip("<>").split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "Your weekly email is on." in page.text
    from tests.accounts import AuthActions

    stopped = AuthActions(client).post(path, {"reminders": "off"})
    assert "Your weekly email is off. We will not send it." in stopped.text
    smtp.messages.clear()
    assert _run(app, MONDAY + timedelta(days=7)) == 3
    assert smtp.to("pat@example.org") == []
    AuthActions(client).post(path, {"reminders": "on"})
    assert _run(app, MONDAY + timedelta(days=14)) == 4


def test_the_planning_page_turns_it_off_too(waiting, smtp):
    rowan = as_user(waiting["app"], "rowan@example.org")
    assert "Your weekly email is on." in rowan.client.get("/planning").text
    answer = rowan.post("/planning/reminders", {"reminders": "off"}, follow_redirects=True)
    assert "The weekly email is off." in answer.text
    _run(waiting["app"], MONDAY)
    assert smtp.to("rowan@example.org") == []
    assert smtp.to("pat@example.org") != []


def test_the_command_for_cron(waiting, runner, smtp):
    result = runner.invoke(args=["planning", "remind"])
    assert result.exit_code == 0, result.output
    assert result.output == "Queued 4 reminders.\n"
    assert runner.invoke(args=["planning", "remind"]).output == "Queued 0 reminders.\n"
    with waiting["app"].app_context():
        assert db.session.query(OutboxMessage).count() == 4


def test_week_of():
    assert reminders.week_of(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"
    assert reminders.week_of(MONDAY) == "2027-W09"
