"""The participant's own pages at /me: their home, the page editor, photo, updates, thanks."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.donations import offline
from app.events.service import page_progress, recent_donations
from app.numbers import cursor
from app.pages import forms, photos, service, sharing
from app.privacy import own_account

bp = Blueprint("me", __name__, url_prefix="/me")
# Each donor comes with a thank-you form; a page of them at a time keeps /me quick however
# many there are.
DONORS_PER_PAGE = 20


@bp.before_request
@login_required
def _participants_only():
    """Everything here is someone's own: log in first."""


@bp.get("")
def home():
    """The participant's home: progress, donors to thank, updates, and what to do next."""
    page = current_user.sponsor_page
    context = _home_context(page, older_than=cursor(request.args.get("older_than")))
    return render_template("pages/home.html", **context)


def _home_context(
    page, update_form=None, thank_form=None, thanked=None, cash_form=None, older_than=None
):
    # A page of donors at a time, newest first; one more than shown, to know if there are older.
    listed = recent_donations(DONORS_PER_PAGE + 1, page.id, older_than) if page else []
    donations = listed[:DONORS_PER_PAGE]
    thank_forms = {
        donation.id: forms.ThankYouForm(
            formdata=None, prefix=f"thanks-{donation.id}", reply=donation.thank_you
        )
        for donation in donations
    }
    if thanked is not None:
        thank_forms[thanked.id] = thank_form
    return {
        "page": page,
        "progress": page_progress(page.id) if page else None,
        "donations": donations,
        "listing_from": older_than,
        "older_than": donations[-1].id if len(listed) > DONORS_PER_PAGE else None,
        "thank_forms": thank_forms,
        "update_form": update_form or forms.UpdateForm(formdata=None),
        "share_url": sharing.page_url(page) if page else None,
        "share_message": sharing.message(page) if page else None,
        "steps": service.steps(page, _step_urls()),
        "safety_url": service.safety_url(),
        "moderation": service.pages_for_moderation() if current_user.is_organiser else None,
        "cash_form": cash_form or forms.CashReportForm(formdata=None),
        "cash_reports": offline.reports_by(current_user) if page else [],
    }


def _step_urls() -> dict[str, str]:
    editor = url_for("me.edit_page")
    return {
        "edit": editor,
        "photo": editor + "#photo",
        "publish": editor + "#publish",
        "share": url_for("me.home") + "#share",
    }


@bp.route("/page", methods=["GET", "POST"])
def edit_page():
    """Create or edit the page: title, address, target, story (inline errors with htmx)."""
    page = current_user.sponsor_page
    form = forms.PageForm(obj=page, data=None if page else _new_page_defaults())
    form.page_id = page.id if page else None
    if page and request.method == "GET":
        form.target.data = f"{page.target_pence / 100:.2f}".removesuffix(".00")
    if form.validate_on_submit():
        return _save_page(page, form)
    status = 422 if form.errors else 200
    if request.htmx:
        return render_template("pages/_page_form.html", form=form, page=page), status
    return _editor(page, form=form, status=status)


def _new_page_defaults() -> dict:
    first_name = current_user.name.split()[0] if current_user.name.split() else "My"
    return {
        "title": f"{first_name}'s abseil",
        "slug": service.suggest_slug(current_user.name),
        "target": "250",
    }


def _save_page(page, form):
    fields = {
        "title": form.title.data,
        "slug": form.slug.data,
        "story": form.story.data or "",
        "share_message": form.share_message.data or "",
        "target_pence": form.target_pence,
    }
    if page is None:
        service.create_page(current_user, **fields)
        flash("Your page is saved as a draft. Add a photo, then publish it.", "success")
        if request.htmx:
            return "", 204, {"HX-Redirect": url_for("me.edit_page")}
        return redirect(url_for("me.edit_page"), 303)
    service.update_page(page, **fields)
    if request.htmx:
        return render_template("pages/_page_form.html", form=form, page=page, saved=True)
    flash("Your changes are saved.", "success")
    return redirect(url_for("me.edit_page"), 303)


def _editor(page, form=None, photo_form=None, status=200):
    if form is None:
        form = forms.PageForm(formdata=None, obj=page)
        form.target.data = f"{page.target_pence / 100:.2f}".removesuffix(".00")
    return render_template(
        "pages/edit.html",
        page=page,
        form=form,
        photo_form=photo_form or forms.PhotoForm(formdata=None),
        size_limit=photos.size_limit_text(),
        share_url=sharing.page_url(page) if page else None,
    ), status


@bp.get("/page/slug")
def check_slug():
    """Says, as the participant types, whether an address is free (an htmx fragment)."""
    slug = (request.args.get("slug") or "").strip().lower()
    page = current_user.sponsor_page
    problem = service.slug_problem(slug, page.id if page else None)
    return render_template("pages/_slug_status.html", slug=slug, problem=problem)


@bp.post("/page/photo")
def upload_photo():
    """Upload a new photo: checked, shrunk and cleaned of metadata; errors beside the field."""
    page = service.own_page_or_404()
    form = forms.PhotoForm()
    if form.validate_on_submit():
        try:
            service.replace_photo(page, form.file.data.stream, form.alt.data)
        except photos.PhotoError as exc:
            form.file.errors.append(str(exc))
        else:
            flash("Your photo is saved.", "success")
            return redirect(url_for("me.edit_page") + "#photo", 303)
    return _editor(page, photo_form=form, status=422)


@bp.post("/page/photo/delete")
def delete_photo():
    """Take the photo off the page."""
    service.remove_photo(service.own_page_or_404())
    flash("Your photo is removed.", "success")
    return redirect(url_for("me.edit_page") + "#photo", 303)


@bp.post("/page/publish")
def publish_page():
    """Publish the page (it may wait for an organiser's approval)."""
    page = service.own_page_or_404()
    service.publish(page)
    if page.is_public:
        flash("Your page is live! Now share it.", "success")
    elif page.hidden_at is None:
        flash("Your page is published and waits for an organiser to approve it.", "info")
    return redirect(url_for("me.home"), 303)


@bp.post("/page/unpublish")
def unpublish_page():
    """Take the page back to a draft."""
    service.unpublish(service.own_page_or_404())
    flash("Your page is a draft again: only you and the organisers can see it.", "info")
    return redirect(url_for("me.edit_page"), 303)


@bp.post("/updates")
def post_update():
    """Post an update for sponsors (htmx swaps the updates panel)."""
    page = service.own_page_or_404()
    form = forms.UpdateForm()
    if form.validate_on_submit():
        service.post_update(page, form.body.data)
        form = forms.UpdateForm(formdata=None)
        if not request.htmx:
            flash("Your update is posted.", "success")
            return redirect(url_for("me.home") + "#updates", 303)
    saved = "Your update is posted." if not form.errors else None
    return _updates_panel(page, form, 422 if form.errors else 200, saved)


@bp.post("/updates/<int:update_id>/delete")
def delete_update(update_id: int):
    """Delete one of your own updates."""
    page = service.own_page_or_404()
    service.delete_update(service.page_update_or_404(page, update_id))
    if not request.htmx:
        flash("Your update is deleted.", "success")
        return redirect(url_for("me.home") + "#updates", 303)
    return _updates_panel(page, forms.UpdateForm(formdata=None), 200, "Your update is deleted.")


def _updates_panel(page, form, status, saved=None):
    if request.htmx:
        panel = render_template(
            "pages/_updates_panel.html", page=page, update_form=form, saved=saved
        )
        return panel, status
    return render_template("pages/home.html", **_home_context(page, update_form=form)), status


@bp.post("/cash")
def report_cash():
    """Report cash collected for your page; it counts once an organiser confirms it."""
    page = service.own_page_or_404()
    form = forms.CashReportForm()
    if form.validate_on_submit():
        offline.report_cash(current_user, page, form.amount_pence, form.note.data or "")
        flash("Thanks! An organiser will confirm your cash once they have it.", "success")
        return redirect(url_for("me.home") + "#cash", 303)
    return render_template("pages/home.html", **_home_context(page, cash_form=form)), 422


@bp.post("/donations/<int:donation_id>/thanks")
def thank_donor(donation_id: int):
    """Reply publicly under a donation to your own page."""
    page = service.own_page_or_404()
    donation = service.page_donation_or_404(page, donation_id)
    form = forms.ThankYouForm(prefix=f"thanks-{donation.id}")
    older_than = cursor(request.form.get("older_than"))
    emailed = False
    if form.validate_on_submit():
        emailed = service.thank(donation, form.reply.data or "")
        if not request.htmx:
            flash(
                "Your reply is saved and emailed to them." if emailed else "Your reply is saved.",
                "success",
            )
            # Back to the page of donors the reply was written on.
            listing = {"older_than": older_than} if older_than else {}
            return redirect(url_for("me.home", **listing) + f"#donation-{donation.id}", 303)
    status = 422 if form.errors else 200
    if request.htmx:
        return render_template(
            "pages/_thank_you.html",
            donation=donation,
            form=form,
            saved=not form.errors,
            emailed=emailed,
        ), status
    context = _home_context(page, thank_form=form, thanked=donation, older_than=older_than)
    return render_template("pages/home.html", **context), status


def photo_too_large(message: str):
    """The photo editor with `message` beside the photo field (status 413), when the upload
    that was too big came from a participant's own page; else None (app/errors.py answers)."""
    page = current_user.sponsor_page if current_user.is_authenticated else None
    if page is None:
        return None
    photo_form = forms.PhotoForm(formdata=None)
    photo_form.file.errors = [message]
    return _editor(page, photo_form=photo_form, status=413)


@bp.route("/delete", methods=["GET", "POST"])
def delete_account():
    """Delete one's own account (app/privacy: what is erased, and what the law keeps)."""
    return own_account.delete_account_page()
