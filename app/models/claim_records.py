"""What a submitted Gift Aid claim holds is kept, and the database enforces it: triggers refuse
to change a claim's line or what it repaid, and to delete a submitted claim, its lines or its
repayments, on SQLite and PostgreSQL alike (HMRC: keep what was claimed, and when, 6 years).

A started claim's lines and repayments may still be deleted (discarding releases them), so
these are not append-only histories (app/models/append_only.py) but the same idea. `protect()`
attaches the SQL to the tables so `create_all` makes it; the migration that made the tables
calls the same functions."""

from sqlalchemy import DDL, Table, event

CLAIMS = "gift_aid_claims"
# Tables of a claim's parts, each with a claim_id.
PARTS = ("gift_aid_claim_lines", "gift_aid_overclaim_settlements")
TABLES = (CLAIMS, *PARTS)
PG_FUNCTION = {
    CLAIMS: "plunge_keep_submitted_claim",
    **dict.fromkeys(PARTS, "plunge_keep_claim_part"),
}
SUBMITTED = "'submitted'"


def message(table: str) -> str:
    """What the database answers an attempt to change or delete a kept claim record."""
    return f"{table}: a claim's lines never change, and a submitted claim is kept"


def trigger_names(table: str, dialect: str) -> list[str]:
    """The table's triggers: one on PostgreSQL, one per operation on SQLite."""
    if dialect == "postgresql":
        return [f"{table}_kept"]
    return [f"{table}_kept_update", f"{table}_kept_delete"]


def _pg_functions() -> list[str]:
    # No % in this SQL: DDL() would take it for a format. The message is built in SQL, as the
    # table's name is only known there.
    refuse = (
        "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || "
        "': a claim''s lines never change, and a submitted claim is kept', "
        "ERRCODE = 'restrict_violation';"
    )
    claim = (
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION[CLAIMS]}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n    IF OLD.status = {SUBMITTED} THEN {refuse} END IF;\n"
        "    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$"
    )
    part = (
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION[PARTS[0]]}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n    IF TG_OP = 'UPDATE' OR (SELECT status FROM {CLAIMS} "
        f"WHERE id = OLD.claim_id) = {SUBMITTED} THEN {refuse} END IF;\n"
        "    RETURN OLD;\nEND\n$$"
    )
    return [claim, part]


def create_sql(table: str, dialect: str) -> list[str]:
    """The statements that keep `table`'s submitted records on `dialect`."""
    if dialect == "postgresql":
        [name] = trigger_names(table, dialect)
        return [
            *_pg_functions(),
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION[table]}()",
        ]
    if dialect == "sqlite":
        update, delete = trigger_names(table, dialect)
        quoted = message(table).replace("'", "''")
        refuse = f"BEGIN SELECT RAISE(ABORT, '{quoted}'); END"
        if table == CLAIMS:
            when = f"WHEN OLD.status = {SUBMITTED}"
            return [
                f"CREATE TRIGGER {update} BEFORE UPDATE ON {table} {when} {refuse}",
                f"CREATE TRIGGER {delete} BEFORE DELETE ON {table} {when} {refuse}",
            ]
        submitted = f"WHEN (SELECT status FROM {CLAIMS} WHERE id = OLD.claim_id) = {SUBMITTED}"
        return [
            f"CREATE TRIGGER {update} BEFORE UPDATE ON {table} {refuse}",
            f"CREATE TRIGGER {delete} BEFORE DELETE ON {table} {submitted} {refuse}",
        ]
    raise NotImplementedError(f"claim record triggers for {dialect}")


def drop_pg_functions_sql() -> list[str]:
    """Remove the PostgreSQL functions, once the tables (and their triggers) are gone."""
    return [f"DROP FUNCTION IF EXISTS {name}()" for name in sorted(set(PG_FUNCTION.values()))]


def protect(table: Table) -> None:
    """Keep `table`'s submitted records wherever `create_all` (or `table.create`) runs."""
    table.info["kept"] = True
    for dialect in ("postgresql", "sqlite"):
        for statement in create_sql(table.name, dialect):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    if not table.metadata.info.get("claim_records_cleanup"):
        table.metadata.info["claim_records_cleanup"] = True
        for statement in drop_pg_functions_sql():
            event.listen(
                table.metadata, "after_drop", DDL(statement).execute_if(dialect="postgresql")
            )
