"""Sign up, log in and out, and reset a forgotten password."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import confirm_login, current_user, login_required, logout_user

from app.auth import forms, limits, service, sessions, two_factor
from app.auth.account_views import bp as account_bp
from app.auth.roles import landing_url, safe_next
from app.auth.two_factor_views import bp as two_factor_bp
from app.extensions import limiter
from app.urls import url_if_exists

bp = Blueprint("auth", __name__, url_prefix="/auth")
bp.add_app_template_global(url_if_exists, "url_if_exists")
for child in (account_bp, two_factor_bp):
    bp.register_blueprint(child)
# Every request: a logged-in session is kept alive or ended (idle, too old, logged out
# elsewhere); then an organiser who must have a second factor and has none is sent to enrol.
bp.before_app_request(sessions.keep_alive)
bp.before_app_request(two_factor.require_enrolment)

# Slow down password guessing and mail-bombing someone's inbox; GETs are never limited.
ATTEMPTS = "10 per minute; 50 per hour"


def _home():
    return redirect(landing_url(current_user), 303)


def _hx_redirect(endpoint: str):
    """A 303 for a plain form post; for htmx, a header telling it to load the new page."""
    if request.htmx:
        return "", 204, {"HX-Redirect": url_for(endpoint)}
    return redirect(url_for(endpoint), 303)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
@limits.emails_sent()
def signup():
    """Sign up: the answer is "check your email" whether or not the address has an account."""
    if current_user.is_authenticated:
        return _home()
    form = forms.SignupForm()
    if form.validate_on_submit():
        limits.count_email()
        service.start_signup(form.name.data, form.email.data, form.password.data)
        session["check_email"] = {"address": form.email.data, "purpose": "signup"}
        return _hx_redirect("auth.check_email")
    status = 422 if form.errors else 200
    if request.htmx:
        return render_template("auth/_signup_form.html", form=form), status
    return render_template("auth/signup.html", form=form), status


@bp.get("/check-email")
def check_email():
    """Where sign-up and reset requests land: the same words for every address."""
    sent = session.get("check_email")
    if not sent:
        return redirect(url_for("auth.login"))
    return render_template("auth/check_email.html", **sent)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_signup(token: str):
    """An emailed sign-up link: shows a button (mail scanners follow links); the POST acts."""
    pending = service.pending_signup(token)
    if pending is None:
        return render_template("auth/link_expired.html", purpose="signup"), 404
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        return render_template("auth/confirm.html", form=form, name=pending.name)
    user = service.confirm_signup(pending)
    if user is None:
        flash("Your account is already set up: log in below.", "info")
        return redirect(url_for("auth.login"), 303)
    service.log_in(user)
    flash(f"Welcome, {user.name}! Your account is ready.", "success")
    return _home()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
@limits.login_failures()
def login():
    """Log in with email and password (then the code, for a second factor); one message for
    every way it can fail."""
    if current_user.is_authenticated:
        return _home()
    form = forms.LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = request.args.get("next", "")
            if service.password_accepted(user, next_url):
                return redirect(safe_next(next_url), 303)
            return redirect(url_for("auth.enter_code"), 303)
        limits.count_failure()
        form.password.errors.append(
            "That email address and password don't match an account. "
            "Check them, or reset your password."
        )
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
@limits.code_failures()
def enter_code():
    """The second step of an organiser's log-in: a code from their app, or a recovery code.
    Until it is given, nobody is logged in."""
    user = service.waiting_for_code()
    if user is None:
        flash("Please log in again: the code must come within 5 minutes of the password.", "info")
        return redirect(url_for("auth.login"), 303)
    app_form, recovery_form = forms.CodeForm(), forms.RecoveryCodeForm()
    form = recovery_form if "recovery_code" in request.form else app_form
    if form.validate_on_submit():
        typed = form.data.get("code") or form.data.get("recovery_code")
        next_url = service.finish_second_factor(user, typed)
        if next_url is not None:
            return redirect(safe_next(next_url), 303)
        limits.count_failure()
        wrong = "That code isn't right, or has been used. Check it and try again."
        (form.code if form is app_form else form.recovery_code).errors.append(wrong)
    status = 422 if form.errors else 200
    return render_template(
        "auth/login_code.html", form=app_form, recovery_form=recovery_form
    ), status


@bp.route("/confirm-password", methods=["GET", "POST"])
@login_required
@limiter.limit(ATTEMPTS, methods=["POST"])
def confirm_password():
    """The password again, before health answers, exports and changes to organisers; then
    back to where they were (a page on this site only)."""
    form = forms.ConfirmPasswordForm()
    if form.validate_on_submit():
        if service.authenticate(current_user.email, form.password.data) is not None:
            confirm_login()  # fresh again, from this address and browser
            sessions.confirm_password()
            return redirect(safe_next(request.args.get("next")), 303)
        form.password.errors.append("That isn't your password. Check it and try again.")
    status = 422 if form.errors else 200
    return render_template("auth/confirm_password.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out (a POST with a CSRF token, so no other site can log you out). The session ends
    on the server too: a copy of the cookie no longer logs anyone in."""
    sessions.end_this()
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("events.show_event"), 303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
@limits.emails_sent()
def request_reset():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        limits.count_email()
        service.request_password_reset(form.email.data)
        session["check_email"] = {"address": form.email.data, "purpose": "reset"}
        return redirect(url_for("auth.check_email"), 303)
    return render_template("auth/reset_request.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link that works once, for an hour."""
    user = service.user_for_reset(token)
    if user is None:
        return render_template("auth/link_expired.html", purpose="reset"), 404
    form = forms.NewPasswordForm()
    if form.validate_on_submit():
        service.set_password(user, form.password.data)
        if not service.password_accepted(user, ""):
            flash("Your password has been changed. Now enter a code to log in.", "success")
            return redirect(url_for("auth.enter_code"), 303)
        flash("Your password has been changed and you are logged in.", "success")
        return _home()
    return render_template("auth/reset_password.html", form=form), 422 if form.errors else 200


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(ATTEMPTS, methods=["POST"])
def accept_invite(token: str):
    """An emailed invitation to be an organiser: choose a password (the link works once)."""
    user = service.user_for_invite(token)
    if user is None:
        return render_template("auth/link_expired.html", purpose="invite"), 404
    form = forms.NewPasswordForm()
    if form.validate_on_submit():
        service.accept_invite(user, form.password.data)
        service.log_in(user)
        flash(f"Welcome, {user.name}! You are now an organiser.", "success")
        return redirect(url_for("organiser.dashboard"), 303)
    status = 422 if form.errors else 200
    return render_template("auth/accept_invite.html", form=form, name=user.name), status
