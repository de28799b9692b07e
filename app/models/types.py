"""Column types shared by the models."""

import json
from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite forgets the zone; we add it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given: store times as timezone-aware UTC")
        value = value.astimezone(UTC)
        # SQLite stores text; keep it naive UTC there so comparisons sort correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class EncryptedJSON(TypeDecorator):
    """A JSON object stored as a Fernet token: unreadable in the database file or a backup.

    The key comes from the app (`app.safety.crypto`), so this needs an app context."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect) -> str | None:
        if value is None:
            return None
        from app.safety.crypto import encrypt

        return encrypt(json.dumps(value, separators=(",", ":")).encode())

    def process_result_value(self, value: str | None, dialect) -> dict | None:
        if value is None:
            return None
        from app.safety.crypto import decrypt

        return json.loads(decrypt(value))
