"""Encryption at rest for safety answers: Fernet, with MultiFernet for key rotation.

SAFETY_ENCRYPTION_KEY encrypts; it and SAFETY_ENCRYPTION_OLD_KEYS (comma-separated) decrypt,
so after a key change the app reads old rows until `flask safety rotate-key` re-encrypts them."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

EXTENSION = "plunge_safety_fernet"


class SafetyKeyError(RuntimeError):
    """A configured key is not a Fernet key, or a stored answer fits none of the keys."""


def derived_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY: for development and tests only."""
    digest = hashlib.sha256(b"plunge-safety-answers:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet(key: str | bytes, name: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError) as exc:
        # Never echo the key itself: it would end up in logs.
        raise SafetyKeyError(
            f"{name} is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with `flask --app wsgi safety new-key`"
        ) from exc


def build(config) -> MultiFernet:
    """The MultiFernet for a configuration: the current key first, then any old ones."""
    current = config.get("SAFETY_ENCRYPTION_KEY") or derived_key(config["SECRET_KEY"])
    keys = [_fernet(current, "SAFETY_ENCRYPTION_KEY")]
    old = [k.strip() for k in (config.get("SAFETY_ENCRYPTION_OLD_KEYS") or "").split(",")]
    keys += [_fernet(key, "a key in SAFETY_ENCRYPTION_OLD_KEYS") for key in old if key]
    return MultiFernet(keys)


def init_app(app: Flask) -> None:
    """Check the keys at start-up (a bad key fails now, not on the day) and keep them."""
    app.extensions[EXTENSION] = build(app.config)


def _current() -> MultiFernet:
    return current_app.extensions[EXTENSION]


def encrypt(plaintext: bytes) -> str:
    """Encrypt with the current key."""
    return _current().encrypt(plaintext).decode()


def decrypt(token: str) -> bytes:
    """Decrypt with whichever configured key made the token."""
    try:
        return _current().decrypt(token.encode())
    except InvalidToken as exc:
        raise SafetyKeyError(
            "a safety answer can't be decrypted with SAFETY_ENCRYPTION_KEY or "
            "SAFETY_ENCRYPTION_OLD_KEYS: was a key changed without listing the old one?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the current key (MultiFernet.rotate)."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SafetyKeyError("a safety answer fits none of the configured keys") from exc


def new_key() -> str:
    """A fresh random Fernet key, for SAFETY_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode()
