"""`/healthz` and `/readyz`: is the process up, and is the site fit to serve the event.

`/healthz` asks nothing of the database: for a load balancer or process supervisor, which
should restart or route around a process, not a whole site. `/readyz` checks the database,
the migrations, the outbox and the Stripe reconcile, for an uptime monitor that tells a
person. Both answer JSON with no personal data, are never rate-limited, and are cheap: a
handful of indexed one-row reads."""

import logging
from datetime import timedelta
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, limiter
from app.models import OutboxMessage, utcnow

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process is up and answering (no database: that is /readyz)."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Every check /readyz makes, and 503 unless all pass."""
    checks = readiness()
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return jsonify(body), 200 if ready else 503, NO_STORE


def readiness() -> dict[str, dict]:
    """Each check's result, {"ok": bool, "detail": words}; the later ones only if the
    database answers at all."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("readyz: database unreachable: %s", type(exc).__name__)
        return {"database": _result(False, "unreachable")}
    checks = {"database": _result(True, "reachable")}
    for name, check in (("migrations", migrations), ("outbox", outbox), ("reconcile", reconcile)):
        try:
            checks[name] = check()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("readyz: %s check failed: %s", name, type(exc).__name__)
            checks[name] = _result(False, "could not be checked")
    db.session.rollback()  # end the read: nothing was written
    return checks


def _result(ok: bool, detail: str) -> dict:
    return {"ok": ok, "detail": detail}


@cache
def migration_heads() -> frozenset[str]:
    """The revisions the code's migrations end at (read from disk once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def database_revisions() -> frozenset[str]:
    """The revisions the database says it is at; empty if it was never migrated."""
    try:
        return frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        # No alembic_version table: never migrated. PostgreSQL needs the failed read undone.
        db.session.rollback()
        return frozenset()


def migrations() -> dict:
    """The database is at the migrations' head: `flask db upgrade` has run for this code."""
    at, heads = database_revisions(), migration_heads()
    if at == heads:
        return _result(True, "at head")
    if not at:
        return _result(False, "not migrated: run flask db upgrade")
    return _result(False, "behind or ahead of the code: run flask db upgrade")


def outbox() -> dict:
    """No email has waited longer than READYZ_OUTBOX_MINUTES (SMTP down or refusing). Bulk
    copies waiting their throttled turn are not stuck; one that has failed counts."""
    limit = timedelta(minutes=current_app.config["READYZ_OUTBOX_MINUTES"])
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.bulk.is_(False), OutboxMessage.attempts > 0),
        )
    )
    if oldest is None:
        return _result(True, "nothing waiting")
    waited = utcnow() - oldest
    minutes = int(waited.total_seconds() // 60)
    if waited > limit:
        return _result(False, f"the oldest unsent email has waited {minutes} minutes")
    return _result(True, f"the oldest unsent email has waited {minutes} minutes")


def reconcile() -> dict:
    """With real Stripe, `flask stripe reconcile` finished without error within
    READYZ_RECONCILE_HOURS; with the sandbox there is nothing to reconcile."""
    from app.payments.reconcile import last_run

    if not current_app.config["STRIPE_SECRET_KEY"]:
        return _result(True, "not checked: the Stripe sandbox, not Stripe")
    limit = timedelta(hours=current_app.config["READYZ_RECONCILE_HOURS"])
    run = last_run()
    if run is None:
        return _result(False, "never run: schedule flask stripe reconcile")
    if run.finished_at is None:
        age = utcnow() - run.started_at
        if age > limit:
            return _result(False, "the last run never finished")
        return _result(True, "running now")
    if run.error:
        return _result(False, "the last run failed: Stripe could not be reached")
    hours = (utcnow() - run.finished_at).total_seconds() / 3600
    if hours > limit.total_seconds() / 3600:
        return _result(False, f"the last run finished {hours:.1f} hours ago")
    return _result(True, f"the last run finished {hours:.1f} hours ago")
