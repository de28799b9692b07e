"""Engine settings, and write transactions that queue on SQLite as row locks do on PostgreSQL."""

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from app.extensions import db

_IMMEDIATE = "plunge_sqlite_immediate"


def tune_engine(engine: Engine) -> None:
    """Turn on WAL, a busy timeout and foreign keys for SQLite; nothing to do for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # We issue BEGIN ourselves (below), so a write can take its lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the progress partial read while a webhook writes.
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write() -> None:
    """Start a transaction that will read then write the same rows.

    PostgreSQL callers also lock rows with SELECT ... FOR UPDATE; SQLite has no row locks, so
    there the transaction takes the write lock at BEGIN and concurrent writers queue."""
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={_IMMEDIATE: True})
