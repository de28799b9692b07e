"""The account page (/auth/account): where you are logged in, log out everywhere, and an
organiser's second factor."""

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from app.auth import forms, sessions, two_factor
from app.auth.roles import roles_required
from app.database import begin_write
from app.extensions import db
from app.models import Role

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _logged_in_only():
    """Everything here is about your own account: log in first."""


@bp.get("")
def show_account():
    """Your account: your sessions, and (for organisers) your second factor."""
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html",
        user=user,
        login_sessions=sessions.sessions_of(user),
        this_session=sessions.current(),
        factor=two_factor.confirmed(user),
        codes_left=two_factor.codes_left(user),
        required=two_factor.required_for(user),
        form=forms.ConfirmForm(),
    )


@bp.post("/logout-everywhere")
def log_out_everywhere():
    """End every session of this account, on every browser and device, this one included."""
    user = current_user._get_current_object()
    begin_write()
    ended = sessions.end_all(user)
    db.session.commit()
    logout_user()
    session.clear()
    where = "1 browser" if ended == 1 else f"{ended} browsers"
    flash(f"You have logged out everywhere ({where}). Log in again to carry on.", "success")
    return redirect(url_for("auth.login"), 303)


@bp.post("/recovery-codes")
@roles_required(Role.ORGANISER)
@sessions.recent_password_required(back="auth.account.show_account")
def renew_recovery_codes():
    """Ten new recovery codes for an organiser's second factor; the old ones stop working."""
    user = current_user._get_current_object()
    if two_factor.confirmed(user) is None:
        return redirect(url_for("auth.two_factor.enrol"), 303)
    begin_write()
    codes = two_factor.new_recovery_codes(user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, renewed=True)
