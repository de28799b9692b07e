"""Logs: one JSON object a line in production, readable lines in development, a request id in
every line of its request and in its response, one access line per request, and nothing
personal in any of it."""

import json
import logging

import pytest

from app.logs import mask_emails
from tests import stripe_events as se
from tests.accounts import PASSWORD
from tests.test_webhooks import deliver, pending


@pytest.fixture
def json_logs(app):
    """The app logging as production does (JSON lines on stdout)."""
    from app import logs

    app.config["LOG_FORMAT"] = "json"
    logs.configure(app)
    yield app
    app.config["LOG_FORMAT"] = "text"
    logs.configure(app)


def lines(capsys) -> list[dict]:
    """Every JSON log line written to stdout since the last call."""
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def access_lines(capsys) -> list[dict]:
    return [line for line in lines(capsys) if line["logger"] == "plunge.access"]


def test_each_request_gets_one_access_line_with_its_fields(json_logs, client, make, capsys):
    make.participant()
    capsys.readouterr()
    response = client.get("/p/aisha", headers={"X-Request-ID": "edge-7f3a.1_b"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "edge-7f3a.1_b"
    [line] = access_lines(capsys)
    assert line["request_id"] == "edge-7f3a.1_b"
    assert line["route"] == "/p/<slug>"  # the route, never the path someone typed
    assert line["status"] == 200 and line["method"] == "GET"
    assert line["level"] == "INFO" and line["user_role"] == "visitor"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")
    assert list(line)[0] == "time"


@pytest.mark.parametrize(
    "offered",
    ["", "x" * 65, "has space", "<script>", "semi;colon", "ünïcode", "a/b"],
)
def test_a_request_id_that_is_not_short_and_plain_is_replaced(json_logs, client, offered, capsys):
    capsys.readouterr()
    response = client.get("/static/css/plunge.css", headers={"X-Request-ID": offered})
    fresh = response.headers["X-Request-ID"]
    assert fresh != offered and len(fresh) == 32 and int(fresh, 16) >= 0
    [line] = access_lines(capsys)
    assert line["request_id"] == fresh


def test_without_a_request_id_each_request_gets_its_own(client, event):
    first = client.get("/").headers["X-Request-ID"]
    second = client.get("/").headers["X-Request-ID"]
    assert first != second


def test_every_line_of_a_request_carries_its_id_and_route(json_logs, make, capsys):
    make.app.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    client = make.app.test_client()
    donation_id = pending(make, 2500)
    capsys.readouterr()
    body = se.event("checkout.session.completed", se.checkout_session(donation_id, 2500))
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": se.sign(body), "X-Request-ID": "stripe-delivery-1"},
    )
    response.close()
    # The test's SMTP server (aiosmtpd, another thread) logs too; those lines are not ours.
    found = [line for line in lines(capsys) if line["logger"].startswith(("app", "plunge"))]
    assert {line["logger"] for line in found} >= {"app.payments.webhooks", "plunge.access"}
    assert {line["request_id"] for line in found} == {"stripe-delivery-1"}
    assert {line["route"] for line in found} == {"/stripe/webhook"}


def test_the_webhook_logs_each_event_and_what_it_changed(hooks_app, client, caplog):
    donation_id = pending(hooks_app, 2500)
    session = se.checkout_session(donation_id, 2500)
    body = se.event("checkout.session.completed", session)
    event_id = json.loads(body)["id"]
    with caplog.at_level(logging.INFO, logger="app.payments.webhooks"):
        deliver(client, body)
        deliver(client, body)
        deliver(client, se.event("customer.created", {"id": "cus_1", "object": "customer"}))
    said = [r.getMessage() for r in caplog.records if r.name == "app.payments.webhooks"]
    assert said[0] == (
        f"stripe event {event_id} (checkout.session.completed): applied; donation "
        f"{donation_id} now paid: taken 2500p, refunded 0p, disputed 0p"
    )
    assert (
        said[1]
        == f"stripe event {event_id} (checkout.session.completed): duplicate, already applied"
    )
    assert "(customer.created): ignored, not a type Plunge acts on" in said[2]


@pytest.fixture
def hooks_app(make):
    make.app.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    return make


def test_a_logged_in_request_names_the_role_not_the_person(json_logs, client, auth, make, capsys):
    make.participant()
    auth.login()
    capsys.readouterr()
    client.get("/me")
    [line] = access_lines(capsys)
    assert line["user_role"] == "participant"
    assert line["route"] == "/me"


def test_logging_in_logs_neither_password_nor_email(json_logs, client, auth, make, capsys):
    make.participant()
    capsys.readouterr()
    response = auth.login()
    assert response.status_code == 303
    out = capsys.readouterr().out
    assert out, "logging in wrote no access line"
    assert PASSWORD not in out and "aisha@example.org" not in out
    logins = [json.loads(line) for line in out.splitlines() if "/auth/login" in line]
    assert logins[-1]["method"] == "POST" and logins[-1]["user_role"] == "participant"


def test_a_search_for_a_donors_email_stays_out_of_the_log(json_logs, client, auth, make, capsys):
    make.user()
    auth.login("sandra@example.org")
    capsys.readouterr()
    client.get("/organiser/donations", query_string={"q": "fiona@example.org"})
    out = capsys.readouterr().out
    assert "fiona@example.org" not in out and "/organiser/donations" in out


def test_an_email_in_any_line_is_masked(json_logs, capsys):
    try:
        raise ValueError("could not send to fiona.o'neill+gifts@example.co.uk")
    except ValueError:
        logging.getLogger("app.test").exception("outbox to aisha@example.org failed")
    [line] = lines(capsys)
    assert line["message"] == "outbox to [email] failed"
    assert "[email]" in line["exc_info"] and "example.co.uk" not in line["exc_info"]


def test_mask_emails_keeps_what_is_not_an_address():
    assert mask_emails("donation 12 @ 10:00, user@host") == "donation 12 @ 10:00, user@host"
    assert mask_emails("to a@b.org and c.d@e.f.uk") == "to [email] and [email]"


def test_the_progress_fast_path_is_logged_and_answers_with_an_id(json_logs, client, event, capsys):
    capsys.readouterr()
    response = client.get("/progress", headers={"HX-Request": "true", "X-Request-ID": "poll-1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "poll-1"
    [line] = access_lines(capsys)
    assert line["route"] == "/progress" and line["status"] == 200


def test_an_unchanged_poll_is_logged_only_at_debug(json_logs, client, event, capsys):
    etag = client.get("/progress", headers={"HX-Request": "true"}).headers["ETag"]
    capsys.readouterr()
    unchanged = {"HX-Request": "true", "If-None-Match": etag}
    assert client.get("/progress", headers=unchanged).status_code == 304
    assert access_lines(capsys) == []
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        assert client.get("/progress", headers=unchanged).status_code == 304
        [line] = access_lines(capsys)
    finally:
        logging.getLogger().setLevel(logging.INFO)
    assert (line["level"], line["status"], line["route"]) == ("DEBUG", 304, "/progress")


def test_development_logs_are_readable_lines(client, event, capsys):
    capsys.readouterr()
    client.get("/", headers={"X-Request-ID": "dev-42"})
    [line] = [x for x in capsys.readouterr().out.splitlines() if "plunge.access" in x]
    assert " INFO plunge.access [dev-42] GET / 200 " in line and line.endswith(" ms")


def test_log_format_must_be_json_or_text(app):
    from app import logs

    app.config["LOG_FORMAT"] = "xml"
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or text"):
        logs.configure(app)
    app.config["LOG_FORMAT"] = "text"
