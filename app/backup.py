"""`flask backup PATH` and `flask restore PATH`: a consistent copy of the whole database, and
the way back from one.

SQLite is copied with its own online backup API (a consistent snapshot while the site keeps
serving); PostgreSQL with `pg_dump --format=custom` (one snapshot transaction). A backup is
written beside PATH and renamed into place only once complete, readable by its owner only:
it holds donors' names, addresses and emails. Safety answers stay encrypted in it, so a
restore needs the same SAFETY_ENCRYPTION_KEY (and any old keys) to read them."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from app.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead, with what to do about it."""


def database_url() -> URL:
    """The configured database, as SQLAlchemy parses it."""
    return db.engine.url


def backup(path: Path) -> int:
    """Write a consistent backup of the configured database to `path`; returns its size."""
    url = database_url()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        elif url.get_backend_name() == "postgresql":
            _pg_dump(url, partial)
        else:
            raise BackupError(f"No backup method for {url.get_backend_name()} databases.")
        os.replace(partial, path)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"Cannot write the backup to {path}: {_reason(exc)}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


def restore(path: Path, replace: bool = False) -> None:
    """Restore `path` into the configured database, which must be empty unless `replace`."""
    url = database_url()
    kind = _kind_of(path)
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(
            f"{path} is a {kind} backup but DATABASE_URL is a {backend} database: restore it "
            f"into a {kind} database."
        )
    db.session.remove()
    if not replace and inspect(db.engine).get_table_names():
        raise BackupError(
            "The database already has tables: restore into a new, empty database, or add "
            "--replace to overwrite this one (stop the site first)."
        )
    db.engine.dispose()  # no pooled connection may hold the database while it is replaced
    try:
        if backend == "sqlite":
            _sqlite_restore(path, _sqlite_file(url))
        else:
            _pg_restore(url, path, replace)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"Cannot restore {path}: {_reason(exc)}") from exc
    db.engine.dispose()


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _kind_of(path: Path) -> str:
    try:
        with path.open("rb") as file:
            start = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror}.") from exc
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Plunge backup (neither SQLite nor pg_dump's format).")


def _sqlite_file(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("An in-memory SQLite database has nothing on disk to back up.")
    return Path(url.database)


def _private_file(path: Path) -> None:
    # Created empty and owner-only before anything personal is written into it.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    _private_file(target)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # one step: a single consistent snapshot, even with writers
        # One self-contained file (the site runs in WAL mode, which keeps a second file).
        dst.execute("PRAGMA journal_mode=DELETE")
        [(verdict,)] = dst.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok":
            raise BackupError(f"The copy failed SQLite's integrity check: {verdict}")
    finally:
        src.close()
        dst.close()


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    src, dst = sqlite3.connect(backup_file), sqlite3.connect(target)
    try:
        [(verdict,)] = src.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok":
            raise BackupError(f"{backup_file} failed SQLite's integrity check: {verdict}")
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _pg_command(name: str, url: URL) -> tuple[list[str], dict]:
    """The client program and an environment that gives it the password, which would be
    visible to every user of the machine on a command line."""
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} is not installed: apt-get install postgresql-client (the same major "
            "version as the server, or newer)."
        )
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return [program, f"--dbname={plain.render_as_string(hide_password=False)}"], env


def _run(command: list[str], env: dict, what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, umask=0o077)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def _pg_dump(url: URL, target: Path) -> None:
    command, env = _pg_command("pg_dump", url)
    _run([*command, "--format=custom", f"--file={target}"], env, "pg_dump")


def _pg_restore(url: URL, backup_file: Path, replace: bool) -> None:
    command, env = _pg_command("pg_restore", url)
    # Owned by whoever restores (the app's own database user), all or nothing.
    options = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if replace:
        options += ["--clean", "--if-exists"]
    _run([*command, *options, str(backup_file)], env, "pg_restore")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent backup of the database to PATH (keep it off this machine)."""
    size = backup(path)
    click.echo(
        f"Backed up the {database_url().get_backend_name()} database to {path} ({size:,} bytes)."
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already has tables.")
@with_appcontext
def restore_command(path: Path, replace: bool) -> None:
    """Restore the backup at PATH into the configured (empty) database."""
    restore(path, replace=replace)
    click.echo(
        f"Restored {path} into the {database_url().get_backend_name()} database. "
        "Run flask --app wsgi db upgrade if the code is newer than the backup."
    )
