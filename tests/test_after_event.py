"""The message after the event (#16 part 5): written, previewed, tested on the organiser,
then sent once to every consenting donor and every participant, throttled, through the real
SMTP server, with the server stopped and started again mid-send."""

import re
import threading
import time
from datetime import timedelta
from io import BytesIO

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from app import outbox
from app.extensions import db
from app.mailing import consent
from app.models import AfterEventDelivery, AfterEventMessage, OutboxMessage, utcnow
from app.organiser import after_event
from tests.conftest import SMTPServer

PAGE = "/organiser/after-event"


def say_yes(app, *emails):
    with app.app_context():
        for email in emails:
            consent.record(email, "event_news", True, wording_version="tick-2026-1", source="t")
        db.session.commit()


def write(organiser, subject="How the abseil went", body="We did it! Thank you.", **extra):
    return organiser.post(PAGE, {"subject": subject, "body": body, **extra})


def send(organiser):
    return organiser.post(f"{PAGE}/send", {"checked": "y"})


def drain(app, until: float = 30):
    """Run the outbox as its service does, until nothing is waiting."""
    deadline = time.monotonic() + until
    with app.app_context():
        try:
            while time.monotonic() < deadline:
                outbox.send_due(limit=500, wait_for_bulk=True)
                if not _waiting():
                    return
                time.sleep(0.05)
        finally:
            db.session.remove()
    raise AssertionError("the outbox never emptied")


def test_write_preview_test_and_send_once(organiser, make, smtp):
    page_id = make.participant()  # aisha@example.org takes part
    make.donation(2000, page_id=page_id, donor_email="fiona@example.org", gift_aid=True)
    for _ in range(4):  # five gifts, three spellings: one email
        make.donation(500, page_id=page_id, donor_email="Fiona@Example.org")
    make.donation(1000, donor_email="quiet@example.org")  # never ticked: nothing
    say_yes(make.app, "fiona@example.org")
    make.app.config["MAIL_BULK_PER_SECOND"] = 0

    assert write(organiser).status_code == 303
    html = organiser.client.get(PAGE).get_data(as_text=True)
    assert "We did it! Thank you." in html
    # £50.00 raised and Gift Aid on the £20.00 declared: the totals' own figures.
    assert "£50.00 raised and £5.00 Gift Aid" in html and "£55.00 for Carers Voice" in html
    assert "It will go to <strong>2</strong> people" in html

    organiser.post(f"{PAGE}/test", {}).close()
    [test] = smtp.wait_for("sandra@example.org")
    assert test["Subject"] == "[Test] How the abseil went"

    assert organiser.post(f"{PAGE}/send", {}).status_code == 422  # not yet confirmed
    response = send(organiser)
    assert response.status_code == 303
    response.close()
    again = send(organiser)
    assert again.status_code == 303
    again.close()
    drain(make.app)
    assert len(smtp.to("fiona@example.org")) == 1
    # Aisha's first-donation nudge came before: only the message after the event is counted.
    [to_aisha] = [m for m in smtp.to("aisha@example.org") if m["Subject"] == "How the abseil went"]
    assert smtp.to("quiet@example.org") == []
    body = smtp.to("fiona@example.org")[0].get_body(("plain",)).get_content()
    assert "£55.00 for Carers Voice" in body and "asked to be told" in body
    assert "took part" in to_aisha.get_body(("plain",)).get_content()
    status = organiser.client.get(f"{PAGE}/status").get_data(as_text=True)
    assert re.search(r'id="count-sent">2<', status) and re.search(r'id="count-waiting">0<', status)
    # Sent: polling stops.
    assert organiser.client.get(f"{PAGE}/status", headers={"HX-Request": "true"}).status_code == 286


def test_an_unsubscribe_after_ticking_is_honoured_and_only_sent_to_those_still_in(
    organiser, make, smtp
):
    make.donation(1000, donor_email="gone@example.org")
    say_yes(make.app, "gone@example.org")
    with make.app.app_context():
        consent.record("gone@example.org", "all", False, wording_version="x", source="t")
        db.session.commit()
        assert after_event.recipients() == []


def test_emoji_html_and_a_bad_photo_are_safe_or_refused(organiser, make, smtp):
    make.participant()
    assert write(organiser, subject="🎉🎉", body="🧗‍♀️🎉💷").status_code == 303
    html = write(organiser, body="<script>alert(1)</script><b>bold</b>")
    assert html.status_code == 303
    page = organiser.client.get(PAGE).get_data(as_text=True)
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    not_a_photo = write(organiser, photo=(BytesIO(b"not an image"), "x.jpg"), photo_alt="x")
    assert not_a_photo.status_code == 422 and "isn&#39;t a photo" in not_a_photo.get_data(
        as_text=True
    )
    no_alt = write(organiser, photo=(_jpeg(), "x.jpg"))
    assert no_alt.status_code == 422 and "Describe the photo" in no_alt.get_data(as_text=True)
    huge = _post_photo(organiser, b"\xff" * 10 * 1024 * 1024)  # a 10 MB photo
    assert huge.status_code == 413 and "That file is too big" in huge.get_data(as_text=True)
    with_photo = write(
        organiser,
        subject="🎉🎉",
        body="<script>alert(1)</script>",
        photo=(_jpeg(), "x.jpg"),
        photo_alt="Aisha at the top",
    )
    assert with_photo.status_code == 303
    make.app.config["MAIL_BULK_PER_SECOND"] = 0
    send(organiser).close()
    drain(make.app)
    [message] = smtp.to("aisha@example.org")
    assert message["Subject"] == "🎉🎉"
    text = message.get_body(("plain",)).get_content()
    assert "<script>alert(1)</script>" in text  # plain text: shown as typed, never run
    photo = re.search(r"(/images/[0-9a-f]{64}\.jpg)", text).group(1)
    organiser.client.post("/auth/logout", data={"csrf_token": organiser.csrf_token()})
    assert organiser.client.get(photo).status_code == 200  # public once sent


def _post_photo(organiser, photo: bytes):
    """A multipart POST built by hand: the test client would spool a big file to a temporary
    file it never closes (a ResourceWarning in a later test)."""
    boundary = "plunge-boundary"
    fields = {"csrf_token": organiser.csrf_token(), "subject": "S", "body": "B", "photo_alt": "x"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return organiser.client.post(
        PAGE, data=b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}"
    )


def _jpeg() -> BytesIO:
    out = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "JPEG")
    out.seek(0)
    return out


def test_bulk_mail_is_throttled_across_senders_and_service_mail_goes_first(app, smtp):
    app.config["MAIL_BULK_PER_SECOND"] = 2
    started = time.monotonic()
    with app.test_request_context():
        for n in range(5):
            outbox.queue(f"bulk{n}@example.org", "News", "test_probe", bulk=True, name="S")
        outbox.queue("receipt@example.org", "Receipt", "test_probe", name="S")
        db.session.commit()
        # A request's sender: the receipt, then bulk mail only while a slot is free.
        sent, failed = outbox.send_due()
        assert failed == 0 and 2 <= sent < 6
    assert smtp.messages[0]["To"] == "receipt@example.org"
    senders = [threading.Thread(target=drain, args=(app,)) for _ in range(2)]  # two processes
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    # Five bulk slots at two a second, however many senders: at least 2 s from first to last.
    assert time.monotonic() - started >= 2.0
    assert len(smtp.messages) == 6


def test_a_mass_send_through_smtp_stopped_and_started_mid_send(organiser, make, monkeypatch):
    """Every consenting donor gets exactly one message, though the server went away."""
    donors = [f"donor{n}@example.org" for n in range(20)]
    for email in donors:
        make.donation(1000, donor_email=email)
        make.donation(500, donor_email=email.upper())  # gave twice
    make.donation(700, donor_email="no-tick@example.org")
    say_yes(make.app, *donors)
    make.app.config["MAIL_BULK_PER_SECOND"] = 5
    monkeypatch.setattr(outbox, "backoff", lambda attempts: timedelta(0))
    # A server of this test's own: one that is stopped cannot be started again, so the
    # second half of the outage is a new server on the same port.
    own = SMTPServer()
    own.controller.start()
    make.app.extensions["mail"].port = own.port  # Flask-Mail reads its settings at start-up
    write(organiser).close()
    send(organiser).close()  # its request sends the first copy, as the throttle allows

    failures, phase = 0, "up"
    with make.app.app_context():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (phase != "back" or _waiting()):
            # One copy at a time, as the throttled service sends them, so the outage falls
            # between two copies (as a relay restarting would): a server that dies after
            # taking a message but before saying so makes any SMTP client send it again.
            failures += outbox.send_due(limit=1, wait_for_bulk=True)[1]
            if phase == "up" and len(own.messages) >= 4:
                own.controller.stop()
                phase = "down"
            elif phase == "down" and failures >= 3:
                own.controller = Controller(own, hostname="127.0.0.1", port=own.port)
                own.controller.start()
                phase = "back"
        assert phase == "back" and not _waiting()
    own.controller.stop()
    assert failures >= 3
    for email in donors:
        assert len(own.to(email)) == 1, email
    assert own.to("no-tick@example.org") == []
    with make.app.app_context():
        assert db.session.query(AfterEventDelivery).count() == 20
        assert after_event.counts(after_event.message()) == after_event.Counts(sent=20)


def _waiting() -> int:
    return db.session.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None)).count()


@pytest.mark.postgres
def test_two_concurrent_sends_on_postgresql_send_once(postgres_url, smtp):
    from app import create_app
    from app.models import Role, User
    from tests.accounts import password_hash
    from tests.conftest import configure_test_event

    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        configure_test_event()
        organiser = User(
            email="o@example.org", name="O", role=Role.ORGANISER, password_hash=password_hash()
        )
        db.session.add(organiser)
        for n in range(20):
            consent.record(f"d{n}@example.org", "event_news", True, wording_version="x", source="t")
        db.session.commit()
        organiser_id = organiser.id
        from tests.conftest import Factory

        factory = Factory(app)
        for n in range(20):
            factory.donation(1000, donor_email=f"d{n}@example.org")
        after_event.save_draft("News", "We did it")

    barrier = threading.Barrier(2)
    results = []

    def attempt():
        with app.test_request_context():
            user = db.session.get(User, organiser_id)
            barrier.wait()
            try:
                results.append(after_event.send(user))
            except after_event.AlreadySent:
                results.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(results, key=str) == [20, "already"]
        with app.app_context():
            assert db.session.query(OutboxMessage).count() == 20
            assert db.session.query(AfterEventDelivery).count() == 20
            assert db.session.query(AfterEventMessage).count() == 1
            # The constraint itself refuses a second copy to one address.
            from sqlalchemy.exc import IntegrityError

            delivery = db.session.query(AfterEventDelivery).first()
            db.session.add(
                AfterEventDelivery(
                    message_id=delivery.message_id,
                    email=delivery.email,
                    outbox_message_id=delivery.outbox_message_id,
                )
            )
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_readyz_does_not_call_bulk_copies_waiting_their_turn_stuck(app, client):
    with app.app_context():
        old = utcnow() - timedelta(minutes=45)
        db.session.add(
            OutboxMessage(
                to_address="d@example.org",
                subject="News",
                body_text="x",
                bulk=True,
                created_at=old,
                next_attempt_at=old,
            )
        )
        db.session.commit()
    assert client.get("/readyz").json["checks"]["outbox"]["ok"] is True
    with app.app_context():
        db.session.query(OutboxMessage).update({"attempts": 1})  # it has failed: now it counts
        db.session.commit()
    assert client.get("/readyz").json["checks"]["outbox"]["ok"] is False
