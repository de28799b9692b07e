"""Planning the event together (co-production): the organising group's groups, decisions put
to every group, decisions taken alone and reported back, and the report for meetings.

Planners, invited only to plan, see no donor, money or health data: besides what any visitor
sees, only these pages are theirs. The guard below refuses them everywhere else that needs an
account, so a page added later to /me, /safety or /organiser stays closed to them."""

from flask import Blueprint, abort, request
from flask_login import current_user

from app.models import Role

bp = Blueprint("planning", __name__)

# Where donors' details, money and health data live (with the participant's own pages).
BARRED_TO_PLANNERS = frozenset({"me", "safety", "organiser"})


@bp.before_app_request
def _planners_stay_in_planning():
    """403 for a planner on any page of the blueprints above."""
    if (
        current_user.is_authenticated
        and current_user.role == Role.PLANNER
        and BARRED_TO_PLANNERS & set(request.blueprints)
    ):
        abort(403)
