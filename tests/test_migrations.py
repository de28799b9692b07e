"""The committed migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from app.models import append_only
from tests.conftest import fresh_schema

# The revision before the database enforced the append-only histories.
BEFORE_TRIGGERS = "7d7f486817ef"


def test_migrations_match_the_models(tmp_path, database_url):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        engine.dispose()
        db.engine.dispose()
    assert diff == [], "models changed without a migration: run `flask --app wsgi db migrate`"


def _triggers() -> dict[str, str]:
    """The database's own triggers (name: definition), on SQLite or PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        query = (
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal ORDER BY tgname"
        )
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    with db.engine.connect() as conn:
        return dict(conn.execute(text(query)).all())


def _refuses_rewriting_history() -> None:
    with db.engine.connect() as conn:
        for table in ("safety_history", "audit_entries"):
            for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
                operation = statement.split()[0]
                with conn.begin() as transaction:
                    _one_line_of_history(conn, table)  # a trigger fires only for a row
                    refusal = f"{table} is append-only: {operation}"
                    with pytest.raises(IntegrityError, match=refusal):
                        conn.execute(text(statement))
                    transaction.rollback()


def _keeps_submitted_claims() -> None:
    with db.engine.connect() as conn:
        for statement in (
            "UPDATE gift_aid_claims SET hmrc_reference = 'changed'",
            "DELETE FROM gift_aid_claims",
        ):
            with conn.begin() as transaction:
                conn.execute(
                    text(
                        "INSERT INTO gift_aid_claims (period_from, period_to, status, line_count,"
                        " amount_pence, gift_aid_pence, overclaimed_pence, started_at,"
                        " hmrc_reference) VALUES ('2026-01-01', '2026-01-31', 'submitted', 0, 0,"
                        " 0, 0, CURRENT_TIMESTAMP, '')"
                    )
                )
                with pytest.raises(IntegrityError, match="a submitted claim is kept"):
                    conn.execute(text(statement))
                transaction.rollback()


def _one_line_of_history(conn, table: str) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, email, name, role, password_hash, created_at) "
            "VALUES (1, 'a@example.org', 'A', 'participant', 'x', CURRENT_TIMESTAMP)"
        )
    )
    if table == "safety_history":
        conn.execute(
            text(
                "INSERT INTO safety_history (participant_id, item_label, action, at, note) "
                "VALUES (1, '', 'sign_off', CURRENT_TIMESTAMP, '')"
            )
        )
    else:
        conn.execute(
            text(
                "INSERT INTO audit_entries (created_at, action, reason, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'offline.recorded', '', '')"
            )
        )


def _migrated_and_created_triggers_agree() -> None:
    """Inside an app context on an empty database: the migrations make the same triggers as
    create_all, they refuse rewriting history (and submitted claims), and downgrading removes
    them."""
    fresh_schema()
    created = _triggers()
    # The histories' append-only triggers, and those keeping submitted Gift Aid claims.
    assert created and all(("_append_only" in n) or ("_kept" in n) for n in created)
    assert {n for n in created if n.startswith("gift_aid_claims_kept")}
    db.drop_all()
    upgrade()
    assert _triggers() == created
    _refuses_rewriting_history()
    _keeps_submitted_claims()
    downgrade(revision=BEFORE_TRIGGERS)
    assert _triggers() == {}
    upgrade()
    assert _triggers() == created


def test_the_migrated_database_refuses_to_rewrite_history(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _migrated_and_created_triggers_agree()
        db.engine.dispose()


@pytest.mark.postgres
def test_the_migrated_postgres_database_refuses_to_rewrite_history(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        try:
            _migrated_and_created_triggers_agree()
            downgrade(revision=BEFORE_TRIGGERS)
            with db.engine.connect() as conn:
                function = "SELECT count(*) FROM pg_proc WHERE proname = :name"
                assert conn.scalar(text(function), {"name": append_only.PG_FUNCTION}) == 0
        finally:
            fresh_schema()
            db.drop_all()
            db.engine.dispose()
