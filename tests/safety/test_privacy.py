"""Health answers and contacts: encrypted at rest, keys rotated, consent withdrawn, purged after
the event, and production refusing to start without a key."""

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text

from app import create_app
from app.events.service import configure_event
from app.extensions import db
from app.models import HistoryAction, ItemKind, SafetyAnswer, SafetyHistory, utcnow
from app.safety import crypto
from tests.safety.helpers import (
    SECRET_CONTACT,
    SECRET_MEDICAL,
    SECRET_PHONE,
    answer_everything,
    sign_everything,
    status,
)

SECRETS = (SECRET_CONTACT, SECRET_PHONE, SECRET_MEDICAL, "Grace Guardian", "1995-06-01")


def _raw_answers(app) -> list[str]:
    with app.app_context():
        return [row[0] for row in db.session.execute(text("SELECT data FROM safety_answers"))]


def test_answers_are_not_readable_in_the_database(cast, database_url):
    answer_everything(cast, "aisha@example.org")
    raw = _raw_answers(cast.app)
    assert raw and all(token.startswith("gAAAAA") for token in raw)  # Fernet tokens
    for secret in SECRETS:
        assert not any(secret in token for token in raw), secret
    if database_url.startswith("sqlite:///"):
        with cast.app.app_context():
            db.session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        files = Path(database_url.removeprefix("sqlite:///")).parent.glob("plunge-test.db*")
        content = b"".join(path.read_bytes() for path in files)
        for secret in SECRETS:
            assert secret.encode() not in content, secret
    with cast.app.app_context():  # and the app reads them back
        contact = db.session.query(SafetyAnswer).filter(
            SafetyAnswer.item_id == cast.item("Emergency")
        )
        assert contact.one().data["phone"] == SECRET_PHONE


def test_rotate_key_re_encrypts_every_answer(cast):
    answer_everything(cast, "aisha@example.org")
    before = _raw_answers(cast.app)
    new_key = crypto.new_key()
    old_key = crypto.derived_key(cast.app.config["SECRET_KEY"]).decode()
    cast.app.config.update(SAFETY_ENCRYPTION_KEY=new_key, SAFETY_ENCRYPTION_OLD_KEYS=old_key)
    crypto.init_app(cast.app)
    assert status(cast, cast.aisha).done_count == 6  # old rows still read, through the old key

    result = cast.app.test_cli_runner().invoke(args=["safety", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert f"Re-encrypted {len(before)} answers" in result.output
    after = _raw_answers(cast.app)
    only_new = MultiFernet([Fernet(new_key)])
    assert all(b"date_of_birth" in only_new.decrypt(t.encode()) for t in after[:1])
    assert set(after).isdisjoint(before)

    cast.app.config["SAFETY_ENCRYPTION_OLD_KEYS"] = ""  # the old key can now go
    crypto.init_app(cast.app)
    assert status(cast, cast.aisha).done_count == 6


def test_a_wrong_key_fails_loudly_and_never_shows_the_key(cast):
    answer_everything(cast, "aisha@example.org")
    cast.app.config["SAFETY_ENCRYPTION_KEY"] = crypto.new_key()
    crypto.init_app(cast.app)
    result = cast.app.test_cli_runner().invoke(args=["safety", "rotate-key"])
    assert result.exit_code != 0 and "fits none of the configured keys" in result.output
    cast.app.config["SAFETY_ENCRYPTION_KEY"] = "not-a-key"
    with pytest.raises(crypto.SafetyKeyError) as error:
        crypto.init_app(cast.app)
    assert "not-a-key" not in str(error.value)


def test_production_refuses_to_start_without_an_encryption_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("SITE_URL", "https://abseil.example.org")
    monkeypatch.delenv("SAFETY_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SAFETY_ENCRYPTION_KEY"):
        create_app(env="production")


def test_withdrawing_consent_deletes_health_answers_and_uncleares(cast):
    participant = answer_everything(cast, "aisha@example.org")
    sign_everything(cast, cast.aisha, cast.organiser)
    assert status(cast, cast.aisha).cleared
    response = participant.post("/safety/consent/withdraw")
    assert response.status_code == 303
    page = participant.client.get("/safety").get_data(as_text=True)
    assert "We have deleted your medical answers" in page
    assert "You withdrew your consent" in page and "Cleared to take part" not in page
    state = status(cast, cast.aisha)
    assert not state.cleared and state.item(ItemKind.MEDICAL).answer is None
    assert state.item(ItemKind.EMERGENCY_CONTACT).answer is not None  # not health data: kept
    with cast.app.app_context():
        actions = {h.action for h in db.session.query(SafetyHistory)}
        assert HistoryAction.CONSENT_WITHDRAWN in actions
    organiser = cast.client("sandra@example.org")
    record = organiser.client.get(f"/safety/people/{cast.aisha}").get_data(as_text=True)
    assert SECRET_MEDICAL not in record and "Consent to use health information withdrawn" in record
    assert "Consent withdrawn" in organiser.client.get("/safety/roster").get_data(as_text=True)


def _move_event(app, days_ago: int) -> None:
    with app.app_context():
        configure_event(starts_at=utcnow() - timedelta(days=days_ago))


def test_purge_waits_for_the_retention_period(cast):
    answer_everything(cast, "aisha@example.org")
    runner = cast.app.test_cli_runner()
    _move_event(cast.app, 29)
    result = runner.invoke(args=["safety", "purge"])
    assert result.exit_code != 0 and "Not yet" in result.output and "--force" in result.output
    assert len(_raw_answers(cast.app)) == 7  # guardian answered too

    _move_event(cast.app, 31)
    result = runner.invoke(args=["safety", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 medical declarations and 1 emergency contacts." in result.output
    state = status(cast, cast.aisha)
    assert state.item(ItemKind.MEDICAL).answer is None
    assert state.item(ItemKind.EMERGENCY_CONTACT).answer is None
    assert state.item(ItemKind.DATE_OF_BIRTH).answer is not None
    again = runner.invoke(args=["safety", "purge"])
    assert "Deleted 0 medical declarations and 0 emergency contacts." in again.output


def test_purge_can_be_forced_early(cast):
    answer_everything(cast, "aisha@example.org")
    answer_everything(cast, "callum@example.org")
    result = cast.app.test_cli_runner().invoke(args=["safety", "purge", "--force"])
    assert "Deleted 2 medical declarations and 2 emergency contacts." in result.output
    with cast.app.app_context():
        purged = db.session.query(SafetyHistory).filter_by(action=HistoryAction.PURGED).count()
        assert purged == 2


def test_seed_checklist_and_new_key_commands(app):
    runner = app.test_cli_runner()
    assert (
        "Created the default checklist with 12 items."
        in runner.invoke(args=["safety", "seed-checklist"]).output
    )
    assert "already exists" in runner.invoke(args=["safety", "seed-checklist"]).output
    key = runner.invoke(args=["safety", "new-key"]).output.strip()
    Fernet(key)  # a valid key


def test_the_privacy_notice_explains_the_safety_data(client, event):
    html = client.get("/privacy").get_data(as_text=True)
    for words in ("special category", "withdraw", "encrypted", "30 days after the event"):
        assert words in html
