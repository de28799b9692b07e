"""Setting up an organiser's second factor: scan a QR code (or type the key), give one code,
save ten recovery codes."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth import forms, two_factor
from app.auth.roles import roles_required
from app.extensions import limiter
from app.models import Role

bp = Blueprint("two_factor", __name__, url_prefix="/two-factor")


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def enrol():
    """The QR code and key for an authenticator app, and the code it then shows; the
    recovery codes are shown once, in the answer to that code."""
    user = current_user._get_current_object()
    if two_factor.confirmed(user) is not None:
        flash("Your second factor is already set up.", "info")
        return redirect(url_for("auth.account.show_account"), 303)
    form = forms.CodeForm()
    if form.validate_on_submit():
        codes = two_factor.finish_enrolment(user, form.code.data)
        if codes is not None:
            return render_template("auth/recovery_codes.html", codes=codes, renewed=False)
        form.code.errors.append(
            "That code isn't right. Check the app shows this site, and type the code it shows now."
        )
    factor = two_factor.pending_factor(user)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr_svg=two_factor.qr_svg(factor, user),
        secret=two_factor.spaced_secret(factor),
        required=two_factor.required_for(user),
    ), 422 if form.errors else 200
