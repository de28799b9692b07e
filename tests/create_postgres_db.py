"""Create a PostgreSQL test database if missing: `python -m tests.create_postgres_db NAME`."""

import sys

from sqlalchemy import create_engine, text


def main(name: str) -> None:
    """Create database `name` on the local server (user postgres, trust auth)."""
    engine = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
