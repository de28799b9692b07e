"""Paper sponsorship forms: printed from /me, typed back in by organisers, pledges paid later."""

from app.paper import sheet_views  # noqa: F401 - its routes join bp
from app.paper.views import bp

__all__ = ["bp"]
