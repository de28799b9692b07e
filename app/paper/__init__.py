"""Paper sponsorship forms: printed from /me, typed back in by organisers, pledges paid later."""

from app.paper.views import bp

__all__ = ["bp"]
