"""Who may use a route, by role: log in first, then 403 for any other role."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


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
