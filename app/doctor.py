"""`flask doctor`: check a configuration before go-live and say what to fix.

Each check looks at one thing a volunteer could get wrong on the day (a test Stripe key, no
webhook secret, an http SITE_URL, an SMTP server that refuses us...) and says what it found
and, when something is wrong, what to set. Secrets are never printed. Exits 1 if anything
must be fixed; warnings alone exit 0."""

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

OK, WARN, FIX = "ok", "warn", "FIX"
DEV_SECRET = "dev-only-not-secret"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class Finding:
    """What one check found: OK, WARN (worth a look) or FIX (must change before go-live)."""

    level: str
    subject: str
    message: str


def secret_key(config) -> Finding:
    """SECRET_KEY is a real secret (it signs every session and CSRF token)."""
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET or len(key) < 32:
        return Finding(
            FIX,
            "Secret key",
            "SECRET_KEY is the development value or shorter than 32 characters: set it to "
            "the output of python3 -c 'import secrets; print(secrets.token_hex(32))'.",
        )
    return Finding(OK, "Secret key", "set")


def stripe_keys(config) -> Finding:
    """A live Stripe secret key, and a publishable key (if any) of the same mode."""
    key, public = config.get("STRIPE_SECRET_KEY") or "", config.get("STRIPE_PUBLISHABLE_KEY")
    subject = "Stripe keys"
    if not key:
        return Finding(
            FIX,
            subject,
            "STRIPE_SECRET_KEY is empty, so donations go to the local sandbox: copy the "
            "secret key (sk_live_...) from the Stripe Dashboard.",
        )
    mode = _stripe_mode(key, ("sk_", "rk_"))
    if mode is None:
        return Finding(
            FIX,
            subject,
            "STRIPE_SECRET_KEY does not look like a Stripe secret key "
            "(sk_live_... or rk_live_...).",
        )
    if mode == "test":
        return Finding(
            FIX,
            subject,
            "STRIPE_SECRET_KEY is a test key: no real money can be taken. Use the live "
            "secret key (sk_live_...) to go live.",
        )
    if public and _stripe_mode(public, ("pk_",)) != "live":
        return Finding(
            FIX,
            subject,
            "STRIPE_PUBLISHABLE_KEY is not a live publishable key (pk_live_...): leave it "
            "empty or use the live one that pairs with the secret key.",
        )
    return Finding(OK, subject, "a live secret key")


def _stripe_mode(key: str, prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        for mode in ("live", "test"):
            if key.startswith(f"{prefix}{mode}_"):
                return mode
    return None


def webhook_secret(config) -> Finding:
    """The webhook endpoint's signing secret is set (else every Stripe event is refused)."""
    secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    site = (config.get("SITE_URL") or "").rstrip("/")
    if not secret.startswith("whsec_"):
        what = "is empty" if not secret else "does not look like a signing secret (whsec_...)"
        return Finding(
            FIX,
            "Stripe webhook",
            f"STRIPE_WEBHOOK_SECRET {what}: add the endpoint {site}/stripe/webhook in the "
            "Stripe Dashboard and copy its signing secret here.",
        )
    return Finding(OK, "Stripe webhook", "signing secret set")


def site_url(config) -> Finding:
    """SITE_URL is the public https address (emails, share links, Stripe's return URLs)."""
    url = config.get("SITE_URL") or ""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return Finding(
            FIX,
            "SITE_URL",
            f"{url or '(empty)'} is not https: set SITE_URL to "
            "the public address, e.g. https://abseil.example.org.",
        )
    if parts.hostname in LOCAL_HOSTS or parts.hostname.endswith((".local", ".localhost")):
        return Finding(
            FIX,
            "SITE_URL",
            f"{url} is not a public address: donors' emails and Stripe would send people there.",
        )
    return Finding(OK, "SITE_URL", url)


def smtp(config, send_to: str | None = None) -> Finding:
    """The SMTP server answers and accepts our login; with `send_to`, takes a test email."""
    host, port = config.get("MAIL_SERVER"), config.get("MAIL_PORT")
    subject = "Email (SMTP)"
    timeout = config.get("MAIL_TIMEOUT_SECONDS", 10)
    connect = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    try:
        with connect(host, port, timeout=timeout) as server:
            server.ehlo()
            if config.get("MAIL_USE_TLS"):
                server.starttls()
                server.ehlo()
            if config.get("MAIL_USERNAME"):
                server.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            if send_to:
                server.send_message(_test_message(config, send_to))
            else:
                server.noop()
    except (OSError, smtplib.SMTPException) as exc:  # timeouts and refusals are OSErrors
        return Finding(
            FIX,
            subject,
            f"{host}:{port} did not work ({type(exc).__name__}: {exc}): check MAIL_SERVER, "
            "MAIL_PORT, MAIL_USE_TLS/MAIL_USE_SSL, MAIL_USERNAME and MAIL_PASSWORD.",
        )
    if send_to:
        return Finding(
            OK,
            subject,
            f"{host}:{port} took a test email for {send_to}: check "
            "that it arrived (and not in spam)",
        )
    return Finding(OK, subject, f"{host}:{port} answers (add --send-to ADDRESS to send a test)")


def _test_message(config, send_to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Plunge: a test email from flask doctor"
    message["From"] = config.get("MAIL_DEFAULT_SENDER")
    message["To"] = send_to
    message.set_content(
        f"This email was sent by `flask doctor` to check that {config.get('SITE_URL')} can "
        "send mail. Receipts, sign-up links and password resets will come the same way.\n"
    )
    return message


def mail_sender(config) -> Finding:
    """MAIL_DEFAULT_SENDER is a real address donors can reply to."""
    sender = config.get("MAIL_DEFAULT_SENDER") or ""
    if not sender or sender.rstrip(">").endswith((".local", "@localhost")):
        return Finding(
            FIX,
            "Email sender",
            f"MAIL_DEFAULT_SENDER is {sender or '(empty)'}: "
            "set it to an address of your domain, e.g. Abseil <abseil@example.org>.",
        )
    return Finding(OK, "Email sender", sender)


def encryption_key(config) -> Finding:
    """SAFETY_ENCRYPTION_KEY is a Fernet key of its own, not the one derived from SECRET_KEY."""
    from app.safety.crypto import SafetyKeyError, build

    if not config.get("SAFETY_ENCRYPTION_KEY"):
        return Finding(
            FIX,
            "Safety answers key",
            "SAFETY_ENCRYPTION_KEY is empty, so health "
            "answers are encrypted with a key derived from SECRET_KEY: make one "
            "with flask --app wsgi safety new-key and keep a copy apart from backups.",
        )
    try:
        build(config)
    except SafetyKeyError as exc:
        return Finding(FIX, "Safety answers key", str(exc))
    return Finding(OK, "Safety answers key", "set")


def redis_storage(config) -> Finding:
    """The rate-limit store (Redis, when configured) answers."""
    uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    subject = "Rate-limit store"
    if uri.startswith("memory://"):
        return Finding(
            WARN,
            subject,
            "memory://: each process counts on its own, so two "
            "workers let twice the limit through. Set RATELIMIT_STORAGE_URI="
            "redis://127.0.0.1:6379/0 when running more than one.",
        )
    if not uri.startswith(("redis://", "rediss://", "unix://")):
        return Finding(WARN, subject, f"{urlsplit(uri).scheme}:// is not checked by doctor")
    import redis

    try:
        redis.Redis.from_url(uri, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        host = urlsplit(uri).hostname or uri
        return Finding(
            FIX,
            subject,
            f"Redis at {host} does not answer ({type(exc).__name__}): "
            "start it, or fix RATELIMIT_STORAGE_URI.",
        )
    return Finding(OK, subject, "Redis answers")


def database(_config) -> Finding:
    """The database answers and is at the migrations' head."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from app.extensions import db
    from app.health import migrations

    try:
        db.session.execute(text("SELECT 1"))
        state = migrations()
    except SQLAlchemyError as exc:
        return Finding(
            FIX,
            "Database",
            f"unreachable ({type(exc).__name__}): check "
            "DATABASE_URL and that the server is running.",
        )
    finally:
        db.session.rollback()
    if not state["ok"]:
        return Finding(FIX, "Database", state["detail"])
    return Finding(OK, "Database", f"{db.engine.dialect.name}, migrations at head")


CHECKS: list[Callable] = [
    secret_key,
    stripe_keys,
    webhook_secret,
    site_url,
    smtp,
    mail_sender,
    encryption_key,
    redis_storage,
    database,
]


def examine(config, send_to: str | None = None) -> list[Finding]:
    """Every check's finding, in the order a volunteer would fix them."""
    return [check(config, send_to) if check is smtp else check(config) for check in CHECKS]


@click.command("doctor")
@click.option("--send-to", metavar="ADDRESS", help="Also send a test email to this address.")
@with_appcontext
def doctor_command(send_to: str | None) -> None:
    """Check this configuration before go-live and say what to fix (exit 1 if anything)."""
    if send_to is not None:
        _check_address(send_to)
    findings = examine(current_app.config, send_to)
    click.echo(f"Checking the {current_app.config.get('PLUNGE_ENV')} configuration:")
    for finding in findings:
        click.echo(f"  {finding.level:<4}  {finding.subject}: {finding.message}")
    to_fix = sum(finding.level == FIX for finding in findings)
    if to_fix:
        click.echo(f"{to_fix} to fix before going live.")
        raise SystemExit(1)
    click.echo("Nothing to fix.")


def _check_address(address: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="--send-to") from exc
