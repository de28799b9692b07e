"""Who may use the planning pages."""

from app.auth.roles import roles_required
from app.models import Role

# Everyone who plans: organisers and planners.
organising_group_only = roles_required(Role.ORGANISER, Role.PLANNER)
# Changing the groups and inviting planners.
organisers_only = roles_required(Role.ORGANISER)
