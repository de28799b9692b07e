"""Append-only histories, enforced by the database: triggers that refuse UPDATE and DELETE.

The ORM guards beside each model stop the app's own code; these triggers also stop raw SQL, a
`flask shell` session and Core `update()`/`delete()`, which never reach the ORM. This module is
the one source of the trigger SQL: `protect()` attaches it to a table so `create_all` makes it
(the tests build their schema that way), and the migration that added it calls the same
functions. Nothing the app does rewrites a history (the purge, consent withdrawal and key
rotation touch answers and sign-offs, and only add history lines), so there is no way round it
short of DDL: emptying a history means dropping its table or its triggers."""

from sqlalchemy import DDL, Table, event

# One PostgreSQL function serves every protected table; it names the table and the operation.
PG_FUNCTION = "plunge_refuse_history_change"
OPERATIONS = ("UPDATE", "DELETE")


def message(table: str, operation: str) -> str:
    """What the database answers an attempt to rewrite a history, e.g. on an auditor's screen."""
    return f"{table} is append-only: {operation} is refused"


def trigger_name(table: str, operation: str | None = None) -> str:
    """The trigger's name: one per table on PostgreSQL, one per operation on SQLite."""
    suffix = f"_{operation.lower()}" if operation else ""
    return f"{table}_append_only{suffix}"


def pg_function_sql() -> str:
    """The PostgreSQL function raising the refusal (created or replaced, so it can be re-run)."""
    # restrict_violation (23001) is an integrity error, as SQLite's RAISE(ABORT) is, so callers
    # see the same exception class on both. No % in this SQL: DDL() would take it for a format.
    return (
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    RAISE EXCEPTION USING\n"
        "        MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' is refused',\n"
        "        ERRCODE = 'restrict_violation';\n"
        "END\n"
        "$$"
    )


def create_sql(table: str, dialect: str) -> list[str]:
    """The statements that make `table` refuse UPDATE and DELETE on `dialect`."""
    if dialect == "postgresql":
        return [
            pg_function_sql(),
            f"CREATE TRIGGER {trigger_name(table)} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {trigger_name(table, op)} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message(table, op)}'); END"
            for op in OPERATIONS
        ]
    raise NotImplementedError(f"append-only triggers for {dialect}")


def drop_sql(table: str, dialect: str) -> list[str]:
    """The statements that remove `table`'s triggers (the shared function is dropped apart)."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {trigger_name(table, op)}" for op in OPERATIONS]


def drop_pg_function_sql() -> str:
    """Remove the shared PostgreSQL function, once no trigger uses it."""
    return f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"


def protect(table: Table) -> None:
    """Make `table` append-only in the database wherever `create_all` (or `table.create`) runs."""
    table.info["append_only"] = True
    for dialect in ("postgresql", "sqlite"):
        for statement in create_sql(table.name, dialect):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    # drop_all drops the tables, and their triggers with them; the function would linger.
    if not table.metadata.info.get("append_only_cleanup"):
        table.metadata.info["append_only_cleanup"] = True
        event.listen(
            table.metadata,
            "after_drop",
            DDL(drop_pg_function_sql()).execute_if(dialect="postgresql"),
        )
