"""Who may use a route, by role: log in first, then 403 for any other role. Every check of a
role is here: `roles_required` for a view, `require_organiser` for a hook or a branch."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user, login_required

from app.models import Role


def roles_required(*roles):
    """Let only logged-in users with one of `roles` through; others get a 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_organiser() -> None:
    """403 for anyone but an organiser (for a blueprint's before_request hook, or a view that
    lets others in for some requests only)."""
    if not (current_user.is_authenticated and current_user.is_organiser):
        abort(403)


# Where each role starts after logging in: organisers and instructors are staff accounts,
# with no sponsor page or checklist of their own.
LANDING = {
    Role.ORGANISER: "organiser.dashboard",
    Role.INSTRUCTOR: "safety.show_board",
    Role.PARTICIPANT: "me.home",
    Role.PLANNER: "planning.home",
}


def landing_url(user) -> str:
    """Where `user` starts: the dashboard, the safety board or their own home."""
    return url_for(LANDING.get(user.role, "me.home"))


def safe_next(target: str | None) -> str:
    """Only ever go on to a path on this site, never to another one (open redirects); else
    where the logged-in user starts."""
    parts = urlsplit(target or "")
    ok = target and target.startswith("/") and not parts.scheme and not parts.netloc
    if not ok or target.startswith("//") or "\\" in target:
        return landing_url(current_user)
    return target
