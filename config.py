"""Configuration classes, read from the environment (see .env.example for every variable)."""

import os
from datetime import date
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    """Read an integer setting, failing loudly at start-up rather than on the day."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_month_day(name: str, default: str) -> str:
    """Read a day of the year as MM-DD (like 03-31), failing loudly at start-up."""
    raw = os.environ.get(name) or default
    try:
        month, day = (int(part) for part in raw.split("-"))
        date(2024, month, day)  # a leap year: 02-29 is a day some years end on
    except ValueError as exc:
        raise RuntimeError(f"{name} must be MM-DD, like 03-31, got {raw!r}") from exc
    return f"{month:02d}-{day:02d}"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'plunge.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url()
    # A server database may drop idle connections; checking costs a round trip per checkout,
    # which SQLite (a file) never needs.
    SQLALCHEMY_ENGINE_OPTIONS = (
        {} if SQLALCHEMY_DATABASE_URI.startswith("sqlite") else {"pool_pre_ping": True}
    )
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000").rstrip("/")

    # Live progress partial: how often browsers poll it.
    PROGRESS_POLL_SECONDS = _env_int("PROGRESS_POLL_SECONDS", 5)
    # The event page, for visitors without cookies, is rendered at most this often per process.
    PUBLIC_PAGE_CACHE_SECONDS = _env_int("PUBLIC_PAGE_CACHE_SECONDS", 5)

    # Stripe. With no secret key the app talks to the local sandbox (development and tests only).
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_SANDBOX_PORT = _env_int("STRIPE_SANDBOX_PORT", 12111)

    # Mail. Development default: the local mail catcher started by `make run`.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 1025)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "false").lower() == "true"
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "false").lower() == "true"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@plunge.local")
    MAIL_TIMEOUT_SECONDS = _env_int("MAIL_TIMEOUT_SECONDS", 10)
    # Bulk mail (the message after the event) at most this many a second, across every
    # process, so a shared SMTP relay is not overwhelmed; 0 for no limit.
    MAIL_BULK_PER_SECOND = float(os.environ.get("MAIL_BULK_PER_SECOND", "1"))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # If Redis goes away, count in this process rather than refuse every log-in and donation.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Proxies in front of the app (1 behind nginx or Caddy): whose X-Forwarded-For to believe.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    # Who to tell about a vulnerability (/.well-known/security.txt); default: the event's email.
    SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "")
    HSTS_SECONDS = 0

    # Logs go to stdout: readable lines in development, one JSON object a line in production.
    LOG_FORMAT = os.environ.get("LOG_FORMAT") or "text"
    LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()
    # /readyz fails when an email has waited this long, or (with real Stripe) when
    # `flask stripe reconcile` has not finished cleanly for this long.
    READYZ_OUTBOX_MINUTES = _env_int("READYZ_OUTBOX_MINUTES", 30)
    READYZ_RECONCILE_HOURS = _env_int("READYZ_RECONCILE_HOURS", 2)
    # Error reports to Sentry (pip install '.[sentry]'); empty: off.
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "")
    # Organisers' and instructors' sessions end after this long unused, and this long after
    # log-in however busy; health answers, exports and changes to organisers ask for the
    # password again once it was given more than PASSWORD_RECONFIRM_MINUTES ago.
    STAFF_SESSION_IDLE_MINUTES = _env_int("STAFF_SESSION_IDLE_MINUTES", 120)
    STAFF_SESSION_MAX_HOURS = _env_int("STAFF_SESSION_MAX_HOURS", 12)
    PASSWORD_RECONFIRM_MINUTES = _env_int("PASSWORD_RECONFIRM_MINUTES", 15)
    # Limits per account (on top of those per client address, Flask-Limiter's notation):
    # failed log-ins to one address, wrong second-factor codes for one account, and emails
    # (sign-up links, password resets) sent to one address.
    LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "10 per 15 minutes")
    CODE_FAILURES_PER_ACCOUNT = os.environ.get(
        "CODE_FAILURES_PER_ACCOUNT", "5 per 15 minutes; 20 per day"
    )
    EMAILS_PER_ADDRESS = os.environ.get("EMAILS_PER_ADDRESS", "5 per hour; 20 per day")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 8 * 1024 * 1024)

    # Safety answers (health, emergency contacts) are encrypted with this Fernet key. Empty in
    # development and tests: a key derived from SECRET_KEY. Production refuses to start without.
    SAFETY_ENCRYPTION_KEY = os.environ.get("SAFETY_ENCRYPTION_KEY", "")
    # Comma-separated keys still accepted for reading, until `flask safety rotate-key` has run.
    SAFETY_ENCRYPTION_OLD_KEYS = os.environ.get("SAFETY_ENCRYPTION_OLD_KEYS", "")
    # `flask safety purge` deletes health answers and emergency contacts this long after the day.
    SAFETY_RETENTION_DAYS = _env_int("SAFETY_RETENTION_DAYS", 30)
    # `flask privacy purge` removes donors' names, email addresses and messages this long after
    # the day, unless a Gift Aid declaration or the donor's consent to hear more keeps them.
    DONOR_CONTACT_RETENTION_MONTHS = _env_int("DONOR_CONTACT_RETENTION_MONTHS", 12)
    # A donor who asked to hear how the event goes keeps their name and address until they
    # unsubscribe, and never longer than this many months after the day.
    DONOR_NEWS_RETENTION_MONTHS = _env_int("DONOR_NEWS_RETENTION_MONTHS", 24)
    # The last day (MM-DD) of the charity's accounting year: HMRC takes a Gift Aid claim up to
    # 4 years after the end of the accounting period in which the money was received.
    GIFT_AID_ACCOUNTING_YEAR_END = _env_month_day("GIFT_AID_ACCOUNTING_YEAR_END", "03-31")


class DevelopmentConfig(Config):
    """`make run`: SQLite, the Stripe sandbox, the local mail catcher."""

    DEBUG = False


class TestConfig(Config):
    """pytest: a throwaway database per run, CSRF checked as in production."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = False
    PUBLIC_PAGE_CACHE_SECONDS = 0  # tests see every change at once; tests of the cache turn it on
    # Tests send real mail to a real (local aiosmtpd) SMTP server.
    MAIL_SUPPRESS_SEND = False
    MAIL_TIMEOUT_SECONDS = 2
    # Whatever the shell says: tests never reach real Stripe or write JSON logs by accident.
    STRIPE_SECRET_KEY = ""
    STRIPE_PUBLISHABLE_KEY = ""
    LOG_FORMAT = "text"
    SENTRY_DSN = ""


class ProductionConfig(Config):
    """Behind gunicorn: every secret must come from the environment."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 365 * 24 * 3600
    LOG_FORMAT = os.environ.get("LOG_FORMAT") or "json"
    # A failed statement's message would otherwise quote its values (emails, names) in the log.
    SQLALCHEMY_ENGINE_OPTIONS = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "hide_parameters": True}

    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "SITE_URL", "SAFETY_ENCRYPTION_KEY")
    # Without these the app would use the local Stripe sandbox, and refuse every webhook.
    REQUIRED += ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")

    @classmethod
    def check(cls) -> None:
        """Refuse to start without the secrets production needs."""
        missing = [name for name in cls.REQUIRED if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production needs these environment variables: " + ", ".join(missing)
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
