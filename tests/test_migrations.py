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


def test_gift_aid_is_counted_again_by_hmrcs_rules_when_upgrading(tmp_path):
    """Migration 5c1e7a9b2d40 on a database with donations: the totals keep only Gift Aid
    HMRC would accept (gift and fee cover), count the rest as needing attention, and each old
    declaration gets the sponsorship wording its event shows."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    declared = (
        "INSERT INTO donations (sponsor_page_id, source, status, amount_pence, fee_cover_pence, "
        "refunded_pence, dispute_status, donor_name, donor_email, message, anonymous, "
        "hide_amount, gift_aid, gift_aid_declaration_version, gift_aid_declared_at, "
        "gift_aid_title, gift_aid_first_name, gift_aid_last_name, gift_aid_house, "
        "gift_aid_postcode, gift_aid_confirmed_sponsorship, created_at, paid_at) VALUES "
        "(1, 'online', 'paid', {amount}, {fee}, 0, 'none', 'Fiona', '{email}', '', 0, 0, 1, "
        "'2026-1', CURRENT_TIMESTAMP, 'Ms', 'Fiona', 'Campbell', '12', '{postcode}', 1, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with app.app_context():
        upgrade(revision="1385c172c783")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO users (id, email, name, role, password_hash, created_at) "
                "VALUES (1, 'aisha@example.org', 'Aisha', 'participant', 'x', CURRENT_TIMESTAMP)",
                "INSERT INTO sponsor_pages (id, participant_id, slug, title, story, "
                "photo_filename, photo_alt, target_pence, status, approved_at, hidden_reason, "
                "created_at, updated_at) VALUES (1, 1, 'aisha', 'Aisha abseils', '', NULL, '', "
                "30000, 'published', CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                declared.format(amount=2000, fee=50, email="fiona@example.org", postcode="G12 8QQ"),
                declared.format(amount=4000, fee=0, email="fiona@example.org", postcode=""),
                # Counted before as Gift Aid, as every declaration was: 2,000 + 4,000.
                "INSERT INTO totals (scope, raised_pence, online_pence, offline_pence, "
                "gift_aid_eligible_pence, fees_covered_pence, refunded_pence, disputed_pence, "
                "supporters, version) VALUES ('event', 6000, 6000, 0, 6000, 50, 0, 0, 2, 1), "
                "('page:1', 6000, 6000, 0, 6000, 50, 0, 0, 2, 1)",
            ):
                conn.execute(text(statement))
        upgrade(revision="5c1e7a9b2d40")
        with db.engine.connect() as conn:
            totals = conn.execute(
                text(
                    "SELECT scope, gift_aid_eligible_pence, gift_aid_attention, "
                    "gift_aid_attention_pence, version FROM totals ORDER BY scope"
                )
            ).all()
            versions = conn.execute(
                text("SELECT gift_aid_sponsorship_version FROM donations ORDER BY id")
            ).scalars()
            assert list(versions) == ["own-money-2026-1", "own-money-2026-1"]
        assert [tuple(row) for row in totals] == [
            ("event", 2050, 1, 4000, 2),
            ("page:1", 2050, 1, 4000, 2),
        ]
        db.engine.dispose()
