"""Consent first (#16 part 1): the tick box, its record, may_email, and the unsubscribe link
that works without logging in, at once, one click from a mail client (RFC 8058)."""

import re

import pytest

from app import mailing
from app.extensions import db
from app.mailing import consent
from app.mailing.links import read_unsubscribe_token, unsubscribe_token
from app.models import ConsentRecord, ConsentRecordChanged
from tests.test_donations import GOOD, _CheckoutSession


@pytest.fixture
def no_csrf(event):
    event.config["WTF_CSRF_ENABLED"] = False
    return event


@pytest.fixture
def checkout(monkeypatch):
    from app import payments

    monkeypatch.setattr(payments, "create_checkout_session", lambda *_: _CheckoutSession())


def records(app) -> list[ConsentRecord]:
    with app.app_context():
        rows = db.session.scalars(db.select(ConsentRecord).order_by(ConsentRecord.id)).all()
        db.session.expunge_all()
        return list(rows)


def test_the_donation_form_asks_with_an_unticked_box(client, event):
    html = client.get("/donate").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="keep_in_touch"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert "Tell me how the event goes" in html


def test_a_tick_is_stored_with_its_wording_and_time(client, no_csrf, checkout):
    form = {**GOOD, "donor_email": "Fiona@Example.org", "keep_in_touch": "y"}
    assert client.post("/donate", data=form).status_code == 303
    [row] = records(no_csrf)
    assert (row.email, row.kind, row.given) == ("fiona@example.org", "event_news", True)
    assert row.wording_version == consent.TICK_VERSION
    assert consent.wording(row.wording_version).startswith("Tell me how the event goes")
    assert row.source == "donation form" and row.donation_id and row.recorded_at
    with no_csrf.app_context():
        assert mailing.may_email("FIONA@example.org", "event_news")


def test_no_tick_records_nothing_and_news_is_not_sent(client, no_csrf, checkout):
    assert client.post("/donate", data=GOOD).status_code == 303
    assert records(no_csrf) == []
    with no_csrf.app_context():
        assert not mailing.may_email("fiona@example.org", "event_news")
        # A reply to their own gift goes unless they said no.
        assert mailing.may_email("fiona@example.org", "thank_you")


def test_an_offline_donation_records_what_the_donor_asked(organiser, client, make):
    data = {
        "recipient": "event",
        "method": "cash",
        "amount": "10",
        "donor_name": "Morag",
        "donor_email": "morag@example.org",
        "keep_in_touch": "y",
    }
    response = organiser.post("/organiser/offline/new", data)
    assert response.status_code == 303
    [row] = records(make.app)
    assert row.source == "offline form" and row.wording_version == consent.OFFLINE_VERSION
    assert row.recorded_by_id is not None
    no_email = {**data, "donor_email": ""}
    response = organiser.post("/organiser/offline/new", no_email)
    assert response.status_code == 422
    assert "Enter the donor&#39;s email address, or untick this" in response.get_data(as_text=True)


def test_the_latest_record_decides_and_all_stops_every_kind(app):
    with app.app_context():
        say = consent.record
        say("a@example.org", "event_news", True, wording_version="tick-2026-1", source="t")
        say("a@example.org", "all", False, wording_version="unsubscribe-all-2026-1", source="t")
        assert not mailing.may_email("a@example.org", "event_news")
        assert not mailing.may_email("a@example.org", "thank_you")
        say("a@example.org", "event_news", True, wording_version="tick-2026-1", source="t")
        assert mailing.may_email("a@example.org", "event_news")
        assert not mailing.may_email("a@example.org", "thank_you")  # only what they said yes to
        db.session.commit()


def test_a_record_cannot_be_changed_and_erasure_leaves_only_a_suppression(app):
    with app.app_context():
        row = consent.record("b@example.org", "event_news", True, wording_version="x", source="t")
        db.session.commit()
        row.given = False
        with pytest.raises(ConsentRecordChanged):
            db.session.flush()
        db.session.rollback()
        assert consent.erase("B@example.org") == 1
        db.session.commit()
        [left] = consent.history("b@example.org")
        assert (left.kind, left.given, left.source, left.donation_id) == (
            "all",
            False,
            "erasure",
            None,
        )
        assert not mailing.may_email("b@example.org", "thank_you")


def _link_path(app, email, kind) -> str:
    with app.test_request_context():
        return "/mailing/unsubscribe/" + unsubscribe_token(email, kind)


def test_unsubscribing_needs_no_log_in_and_is_honoured_at_once(client, event):
    with event.app_context():
        consent.record("c@example.org", "event_news", True, wording_version="x", source="t")
        db.session.commit()
    path = _link_path(event, "c@example.org", "event_news")
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "c•@example.org" in html and "c@example.org" not in html
    with event.app_context():
        assert mailing.may_email(
            "c@example.org", "event_news"
        )  # a GET (a link scanner) changes nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    with event.app_context():
        assert not mailing.may_email("c@example.org", "event_news")
        assert mailing.may_email("c@example.org", "thank_you")


def test_the_page_form_needs_its_csrf_token_but_one_click_does_not(client, event):
    path = _link_path(event, "d@example.org", "thank_you")
    assert client.post(path, data={}).status_code == 400
    with event.app_context():
        assert mailing.may_email("d@example.org", "thank_you")
    # RFC 8058: the mail client POSTs this body, no cookie, no token.
    answer = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    with event.app_context():
        assert not mailing.may_email("d@example.org", "thank_you")
        [row] = consent.history("d@example.org")
        assert row.source == "one-click"


def test_a_link_cannot_be_guessed_or_turned_on_someone_else(client, event):
    with event.test_request_context():
        mine = unsubscribe_token("eve@example.org", "event_news")
        assert read_unsubscribe_token(mine) == ("eve@example.org", "event_news")
        payload, signature = mine.rsplit(".", 1)
        import base64
        import json

        forged = base64.urlsafe_b64encode(json.dumps(["victim@example.org", "all"]).encode())
        forged = forged.decode().rstrip("=") + "." + signature
        assert read_unsubscribe_token(forged) is None
        assert read_unsubscribe_token(mine[:-2]) is None
        assert unsubscribe_token("eve@example.org", "all") != mine
    for bad in (forged, mine[:-2], "x", "..", "a" * 500):
        answer = client.post(
            f"/mailing/unsubscribe/{bad}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 404
    assert records(event) == []


def test_a_non_service_email_carries_the_link_and_headers(app, smtp):
    from app import outbox

    with app.test_request_context():
        mailing.queue_non_service(
            "f@example.org", "Hello", "test_probe_news", "participant_news", name="Sam"
        )
        db.session.commit()
        assert (
            mailing.queue_non_service(
                "nobody@example.org", "Hello", "test_probe_news", "event_news", name="Sam"
            )
            is None
        )  # no say-so: not even queued
        outbox.send_due()
    [message] = smtp.to("f@example.org")
    [link] = re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])
    assert link.startswith("http") and "/mailing/unsubscribe/" in link
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_body(("plain",)).get_content()


def test_a_template_without_its_link_is_refused(app):
    with app.test_request_context(), pytest.raises(mailing.links.MissingUnsubscribeLink):
        mailing.queue_non_service("g@example.org", "Hi", "test_probe", "thank_you", name="S")


def test_the_thank_you_reply_carries_the_link_and_is_not_sent_after_unsubscribing(auth, make, smtp):
    page_id = make.participant()
    first = make.donation(2000, page_id=page_id, donor_email="h@example.org")
    second = make.donation(1000, page_id=page_id, donor_email="H@example.org")
    auth.login()
    url, field = f"/me/donations/{first}/thanks", f"thanks-{first}"
    auth.post(url, {f"{field}-reply": "Ta!"}, prefix=field).close()
    [message] = smtp.wait_for("h@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert link in body
    auth.logout()
    path = "/" + link.split("/", 3)[3]
    answer = auth.client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    auth.login()
    url, field = f"/me/donations/{second}/thanks", f"thanks-{second}"
    response = auth.post(url, {f"{field}-reply": "Ta again!"}, prefix=field)
    assert response.status_code == 303
    response.close()
    with make.app.app_context():
        from app.models import OutboxMessage

        to_donor = db.session.query(OutboxMessage).filter_by(to_address="h@example.org")
        assert to_donor.count() == 1  # the second was never queued (Aisha's nudge is hers)


def _stop_everything(client, app, email: str, from_kind: str) -> None:
    """The unsubscribe page a link in one kind of email opens, answered "stop everything"."""
    path = _link_path(app, email, from_kind)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)
    answer = client.post(path, data={"csrf_token": token, "scope": consent.ALL})
    assert answer.status_code == 200


def test_stopping_everything_stops_replies_nudges_and_the_message_after_the_event(
    auth, make, client
):
    from app.models import OutboxMessage
    from app.nudges import service as nudges
    from app.organiser import after_event

    app = make.app
    aisha_page = make.participant()
    callum_page = make.participant(slug="callum", name="Callum Reid")
    _stop_everything(client, app, "aisha@example.org", "nudges")
    gift = make.donation(2000, page_id=aisha_page, donor_email="h@example.org")
    make.donation(2000, page_id=callum_page, donor_email="k@example.org")
    with app.app_context():
        for email in ("h@example.org", "k@example.org"):
            consent.record(
                email, "event_news", True, wording_version=consent.TICK_VERSION, source="t"
            )
        db.session.commit()
    _stop_everything(client, app, "h@example.org", "event_news")
    auth.login()  # Aisha thanks the donor who stopped everything
    field = f"thanks-{gift}"
    auth.post(f"/me/donations/{gift}/thanks", {f"{field}-reply": "Ta!"}, prefix=field).close()
    with app.app_context():
        to = db.session.scalars(db.select(OutboxMessage.to_address)).all()
        assert "h@example.org" not in to  # no reply
        assert (
            nudges.SUBJECTS[nudges.NudgeKind.FIRST_DONATION]
            in db.session.scalars(
                db.select(OutboxMessage.subject).where(
                    OutboxMessage.to_address == "callum@example.org"
                )
            ).all()
        )
        assert all(
            subject not in nudges.SUBJECTS.values()
            for subject in db.session.scalars(
                db.select(OutboxMessage.subject).where(
                    OutboxMessage.to_address == "aisha@example.org"
                )
            )
        )  # her notices came, no nudge did
        assert [r.email for r in after_event.recipients()] == [
            "callum@example.org",
            "k@example.org",
        ]
