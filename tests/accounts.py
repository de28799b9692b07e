"""Accounts in tests: one known password, and flaskr-style actions to log a client in and out
and to send forms with their CSRF tokens (CSRF stays on in tests, as in production)."""

import re
from functools import cache

from werkzeug.security import generate_password_hash

# Every account the factory makes logs in with this password (see `auth`).
PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    """PASSWORD hashed once per run (scrypt is slow on purpose)."""
    return generate_password_hash(PASSWORD)


class AuthActions:
    """Log a test client in and out, and send forms with their CSRF tokens (flaskr's idea)."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        """The session's CSRF token, as the page hands it to htmx."""
        page = self.client.get("/privacy").get_data(as_text=True)
        return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)

    def post(self, url: str, data: dict | None = None, prefix: str = "", **kwargs):
        """POST a form as the browser would, with the token under the form's prefix."""
        field = f"{prefix}-csrf_token" if prefix else "csrf_token"
        return self.client.post(url, data={field: self.csrf_token(), **(data or {})}, **kwargs)

    def login(self, email: str = "aisha@example.org", password: str = PASSWORD):
        """Log in through the form."""
        return self.post("/auth/login", {"email": email, "password": password})

    def logout(self):
        """Log out through the form."""
        return self.post("/auth/logout")


class Clock:
    """A clock a test moves by hand, for the modules that read `utcnow` (sessions, codes)."""

    def __init__(self, monkeypatch, *modules):
        from app.models import utcnow

        self.now = utcnow()
        for module in modules:
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def forward(self, **delta) -> None:
        """Move the time on by a `timedelta(**delta)`."""
        from datetime import timedelta

        self.now += timedelta(**delta)
