"""Engine settings that make SQLite behave for a web app with several threads or processes."""

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine


def tune_engine(engine: Engine) -> None:
    """Turn on WAL, a busy timeout and foreign keys for SQLite; nothing to do for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets the progress partial read while a webhook writes.
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
