"""`flask backup` and `flask restore`: a backup restored into a fresh database gives back every
row (donations, totals, the append-only histories with their triggers, safety answers still
encrypted), on SQLite and on PostgreSQL."""

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from app import audit, create_app
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    AuditEntry,
    Donation,
    DonationSource,
    DonationStatus,
    SafetyAnswer,
    SafetyHistory,
    SafetySignOff,
    Totals,
)
from tests.conftest import Factory, configure_test_event, fresh_schema, stamp_head
from tests.safety.conftest import cast  # noqa: F401 - the safety tests' people, reused
from tests.safety.helpers import SECRET_MEDICAL, answer_everything, make_cast, sign_everything


def fill(cast_) -> None:
    """Donations of every kind, totals, audit history, answers and sign-offs."""
    make = Factory(cast_.app)
    page_id = make.participant("Dora Diver", "dora")
    make.donation(2500, page_id=page_id, gift_aid=True)
    make.donation(1000, donor_email="wyn@example.org", donor_name="Wyn")
    make.donation(700, status=DonationStatus.PENDING)
    cash = make.donation(5000, source=DonationSource.OFFLINE, donor_email="")
    with cast_.app.app_context():
        audit.record(
            "offline.recorded",
            donation=db.session.get(Donation, cash),
            after_pence=5000,
            reason="Bucket at the tower",
        )
        db.session.commit()
    answer_everything(cast_, "aisha@example.org")
    sign_everything(cast_, cast_.aisha, cast_.organiser)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (alembic_version included), in primary-key order."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return {
                name: [
                    tuple(row)
                    for row in conn.execute(
                        select(table).order_by(*(table.primary_key.columns or table.c))
                    )
                ]
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def fresh_database(source_url: str, tmp_path: Path, name: str) -> str:
    """An empty database of the same kind as `source_url` (on PostgreSQL, named for this
    process, so two runs on one server never share it)."""
    url = make_url(source_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}"
    name = f"{name}_{os.getpid()}"
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Remove a database `fresh_database` made on PostgreSQL (a SQLite file goes with tmp)."""
    url = make_url(url)
    if url.get_backend_name() == "postgresql":
        _admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _admin(url, *statements: str) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


def round_trip(source, tmp_path: Path) -> None:
    """Back up `source`, restore into a fresh database, and compare everything."""
    source_url = source.config["SQLALCHEMY_DATABASE_URI"]
    backup_file = tmp_path / "plunge.backup"
    code, output = run(source, "backup", str(backup_file))
    assert code == 0, output
    assert f"to {backup_file}" in output
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600  # donors' details: owner only
    assert not backup_file.with_name("plunge.backup.partial").exists()

    target_url = fresh_database(source_url, tmp_path, "plunge_test_restored")
    target = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": target_url})
    try:
        code, output = run(target, "restore", str(backup_file))
        assert code == 0, output
        before, after = snapshot(source_url), snapshot(target_url)
        assert set(after) == set(before)
        for table, rows in before.items():
            assert after[table] == rows, f"{table} came back different"
        # Safety answers are still ciphertext in the restored database...
        assert after["safety_answers"] and SECRET_MEDICAL not in repr(after["safety_answers"])
        with target.app_context():
            _check_restored(target)
        # A second restore over it is refused unless asked for.
        code, output = run(target, "restore", str(backup_file))
        assert code == 1 and "already has tables" in output
        code, output = run(target, "restore", "--replace", str(backup_file))
        assert code == 0, output
        assert snapshot(target_url) == before
    finally:
        with target.app_context():
            db.engine.dispose()
        drop_database(target_url)


def _check_restored(target) -> None:
    """What matters came back as itself: money, totals, histories that still refuse
    rewriting, and safety answers still encrypted and still readable with the key."""
    totals = db.session.get(Totals, EVENT_SCOPE)
    assert totals.raised_pence == 2500 + 1000 + 5000 and totals.supporters == 3
    assert db.session.query(Donation).count() == 4
    assert db.session.query(AuditEntry).one().reason == "Bucket at the tower"
    assert db.session.query(SafetySignOff).count() > 0
    history = db.session.query(SafetyHistory).count()
    assert history > 0
    # ...and readable with the same key.
    details = [a.data.get("details") for a in db.session.query(SafetyAnswer)]
    assert SECRET_MEDICAL in details
    db.session.rollback()
    for statement in (
        "UPDATE audit_entries SET reason = 'rewritten'",
        "DELETE FROM safety_history",
    ):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.query(SafetyHistory).count() == history


def test_a_backup_restores_into_a_fresh_database_intact(cast, tmp_path):  # noqa: F811
    fill(cast)
    round_trip(cast.app, tmp_path)


@pytest.mark.postgres
def test_a_postgres_backup_restores_into_a_fresh_database_intact(
    postgres_url, tmp_path, smtp, monkeypatch
):
    """The same round trip through pg_dump and pg_restore, whatever the suite runs on."""
    source_url = fresh_database(postgres_url, tmp_path, "plunge_test_backup_source")
    app = create_app(
        env="test",
        overrides={
            "SQLALCHEMY_DATABASE_URI": source_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
        },
    )
    try:
        with app.app_context():
            fresh_schema()
            stamp_head()
            configure_test_event()
        fill(make_cast(Factory(app)))
        round_trip(app, tmp_path)
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(source_url)


def test_a_backup_of_another_kind_is_refused(app, tmp_path):
    fake = tmp_path / "other.backup"
    fake.write_bytes(
        b"PGDMP\x01\x0e"
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        else b"SQLite format 3\x00"
    )
    code, output = run(app, "restore", str(fake))
    assert code == 1 and "backup but DATABASE_URL is a" in output
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    code, output = run(app, "restore", str(junk))
    assert code == 1 and "is not a Plunge backup" in output


def test_a_failed_backup_leaves_no_file_behind(app, tmp_path, monkeypatch):
    from app import backup

    def broken(*_args):
        raise backup.BackupError("the disk is full")

    monkeypatch.setattr(backup, "_sqlite_backup", broken)
    monkeypatch.setattr(backup, "_pg_dump", broken)
    code, output = run(app, "backup", str(tmp_path / "plunge.backup"))
    assert code == 1 and "the disk is full" in output
    assert list(tmp_path.iterdir()) == []


def test_a_backup_to_a_folder_that_does_not_exist_says_so(app, tmp_path):
    code, output = run(app, "backup", str(tmp_path / "no-such-folder" / "plunge.backup"))
    assert code == 1, output
    assert "Cannot write the backup to" in output or "pg_dump failed" in output
    assert not list(tmp_path.iterdir())
