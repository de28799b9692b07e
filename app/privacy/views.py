"""People's data rights for organisers, at /organiser/privacy: find everything held about an
email address, download it for a subject access request, correct it, erase it.

The address travels in form posts, never in a URL, so it is not written to access logs. Each
page here shows donors' details or health answers, so each asks for the password again when it
was last given more than a few minutes ago."""

from flask import Blueprint, flash, render_template
from flask_login import current_user

from app import audit
from app.auth.sessions import recent_password_required
from app.organiser.export_views import attachment
from app.privacy import erasure, forms, records, rules, service
from app.privacy.records import person_ref

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
BACK = "organiser.privacy.find_person"


@bp.get("")
def find_person():
    """Ask which email address to look up."""
    return render_template("privacy/find.html", form=forms.FindPersonForm())


@bp.post("/person")
@recent_password_required(back=BACK)
def show_person():
    """Everything held about one address, with what can be done with it."""
    form = forms.FindPersonForm()
    if not form.validate():
        return render_template("privacy/find.html", form=form), 422
    return _person_page(form.email.data)


def _person_page(address: str, status: int = 200, correct_form=None, corrected=None):
    found = service.look_up(address)
    return render_template(
        "privacy/person.html",
        found=found,
        ref=person_ref(address),
        refusal=erasure.refusal(found.account, current_user),
        correct_form=correct_form,
        corrected=corrected,
        describe=audit.describe,
    ), status


@bp.post("/download")
@recent_password_required(back=BACK)
def download():
    """The subject access file: everything held about the address, nothing of anyone else's."""
    form = forms.DownloadForm()
    if not form.validate():
        return render_template("privacy/find.html", form=forms.FindPersonForm()), 422
    body, mimetype = service.download(form.email.data, form.format.data)
    filename = f"subject-access-{person_ref(form.email.data)}.{form.format.data}"
    return attachment(body, mimetype, filename)


@bp.post("/correct")
@recent_password_required(back=BACK)
def correct_person():
    """Correct the name and email address on an account or one donation."""
    form = forms.CorrectForm()
    if not form.validate():
        if form.email.errors:
            return render_template("privacy/find.html", form=forms.FindPersonForm()), 422
        return _person_page(form.email.data, 422, correct_form=form)
    try:
        address = service.correct(
            form.email.data, form.donation_id.data, form.name.data, form.new_email.data
        )
    except service.CorrectionRefused as refused:
        form.new_email.errors = [str(refused)]
        return _person_page(form.email.data, 422, correct_form=form)
    flash("Corrected. The person is now found by the address below.", "success")
    return _person_page(address, corrected=form.donation_id.data or "account")


@bp.post("/erase/check")
@recent_password_required(back=BACK)
def review_erasure():
    """What erasing this person removes, and what is kept and why, before anything is done."""
    asked = forms.FindPersonForm()
    if not asked.validate():
        return render_template("privacy/find.html", form=asked), 422
    return _erase_page(forms.EraseForm(formdata=None, email=asked.email.data), 200)


def _erase_page(form, status: int):
    found = records.find(form.email.data or "")
    refusal = erasure.refusal(found.account, current_user)
    return render_template(
        "privacy/erase.html", form=form, found=found, kept=rules.KEPT_ON_ERASURE, refusal=refusal
    ), status


@bp.post("/erase")
@recent_password_required(back=BACK)
def erase_person():
    """Erase what may be erased about the address: one transaction, or nothing."""
    form = forms.EraseForm()
    if not form.validate():
        return _erase_page(form, 422)
    try:
        report = erasure.erase(form.email.data, current_user, form.reason.data)
    except erasure.ErasureRefused as refused:
        form.confirm.errors = [str(refused)]
        return _erase_page(form, 409)
    return render_template("privacy/erased.html", report=report, kept=rules.KEPT_ON_ERASURE)
