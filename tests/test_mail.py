"""Email goes through the outbox: sent after commit, kept and retried when SMTP is down."""

import socket
from datetime import timedelta

from flask import Blueprint

from app import outbox
from app.extensions import db
from app.models import OutboxMessage, utcnow
from tests.conftest import configure_test_event


def _queue_in_request(app, address="donor@example.org"):
    """A route that queues a message and commits, as the webhook and sign-up will."""
    bp = Blueprint("mail_probe", __name__)

    @bp.post("/_probe/mail")
    def probe():
        outbox.queue(address, "Thank you", "test_probe", name="Fiona")
        db.session.commit()
        return "queued"

    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False


def test_mail_queued_in_a_request_is_sent_after_the_response(app, client, smtp):
    _queue_in_request(app)
    response = client.post("/_probe/mail")
    assert response.data == b"queued"
    response.close()  # the server has finished sending the response: now the mail goes
    [message] = smtp.to("donor@example.org")
    assert message["Subject"] == "Thank you"
    assert "Hello Fiona" in message.get_body(("plain",)).get_content()
    with app.app_context():
        assert db.session.query(OutboxMessage).one().sent_at is not None


def test_mail_goes_in_the_charitys_name_unless_the_sender_names_someone(app, smtp):
    with app.app_context():
        configure_test_event()
        app.config["MAIL_DEFAULT_SENDER"] = "abseil@example.org"
        outbox.queue("one@example.org", "Thank you", "test_probe", name="Fiona")
        db.session.commit()
        outbox.send_due()
        app.config["MAIL_DEFAULT_SENDER"] = "Abseil Team <abseil@example.org>"
        outbox.queue("two@example.org", "Thank you", "test_probe", name="Fiona")
        db.session.commit()
        outbox.send_due()
    assert smtp.to("one@example.org")[0]["From"] == "Carers Voice <abseil@example.org>"
    assert smtp.to("two@example.org")[0]["From"] == "Abseil Team <abseil@example.org>"


def test_smtp_being_down_loses_nothing_and_fails_nothing(app, client, smtp):
    smtp.refusing = True
    _queue_in_request(app)
    response = client.post("/_probe/mail")
    assert response.status_code == 200
    response.close()
    assert smtp.messages == []
    with app.app_context():
        waiting = db.session.query(OutboxMessage).one()
        assert waiting.sent_at is None and waiting.attempts == 1
        assert waiting.next_attempt_at > utcnow()
        assert "451" in waiting.last_error

    smtp.refusing = False
    with app.app_context():
        waiting.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.merge(waiting)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "send-outbox"])
    assert "Sent 1, failed 0, still waiting 0." in result.output
    assert len(smtp.to("donor@example.org")) == 1


def test_no_server_listening_is_retried_later_not_an_error(app, smtp):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    app.extensions["mail"].port = dead_port  # Flask-Mail reads its settings once, at start-up
    with app.test_request_context():
        outbox.queue("someone@example.org", "Hello", "test_probe", name="Sam")
        db.session.commit()
        assert outbox.send_due() == (0, 1)
        assert outbox.send_due() == (0, 0)  # not due again until the backoff has passed


def test_a_message_is_sent_once_even_if_two_senders_run(app, smtp):
    with app.test_request_context():
        outbox.queue("once@example.org", "Hello", "test_probe", name="Sam")
        db.session.commit()
        assert outbox.send_due() == (1, 0)
        assert outbox.send_due() == (0, 0)
    assert len(smtp.to("once@example.org")) == 1


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) == timedelta(seconds=30)
    assert outbox.backoff(3) == timedelta(minutes=2)
    assert outbox.backoff(30) == timedelta(hours=1)
