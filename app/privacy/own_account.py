"""A participant deleting their own account from /me: the same erasure an organiser does,
asked for with their password. Their sponsor page is unpublished; donations they received
stay as money, and their own donations as anonymised money records."""

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user

from app.auth.service import authenticate
from app.models.gift_aid_claims import YEARS_KEPT
from app.privacy import erasure, forms


def delete_account_page():
    """GET: what deleting removes and keeps; POST: delete, log out and say so."""
    form = forms.DeleteAccountForm()
    refusal = erasure.refusal(current_user, current_user)
    if refusal or not form.validate_on_submit():
        status = 409 if refusal and form.is_submitted() else 422 if form.errors else 200
        return _page(form, refusal), status
    user = current_user._get_current_object()
    if authenticate(user.email, form.password.data) is None:
        form.password.errors = ["That is not your password"]
        return _page(form, None), 422
    erasure.erase(user.email, user, reason="Deleted their own account", own=True)
    logout_user()
    session.clear()
    flash("Your account is deleted. Thank you for taking part.", "info")
    return redirect(url_for("events.show_event"), 303)


def _page(form, refusal):
    return render_template(
        "privacy/delete_account.html", form=form, refusal=refusal, years_kept=YEARS_KEPT
    )
