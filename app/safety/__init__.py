"""Safety and consent: the checklist, organisers' sign-off, the day's roster and check-in.

One blueprint, its routes split by who uses them: `views` (the participant), `board`
(organisers and instructors) and `editor` (organisers changing the list)."""

from flask import Blueprint

bp = Blueprint("safety", __name__, url_prefix="/safety")


@bp.after_request
def _never_cache(response):
    # Health details and emergency contacts must not linger in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response
