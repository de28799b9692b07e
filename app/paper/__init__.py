"""Paper sponsorship forms: printed from /me, typed back in by organisers, pledges paid later."""

from app.paper import claim_views, sheet_views  # noqa: F401 - their routes join bp
from app.paper.views import bp

__all__ = ["bp"]
