"""Sponsor pages: the public page at /p/<slug>, and the participant's own at /me."""

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.events.service import get_event, page_progress, recent_donations
from app.extensions import limiter
from app.pages import forms, photos, service, sharing
from app.pages.text import paragraphs
from app.progress import progress_response

bp = Blueprint("pages", __name__)
bp.add_app_template_filter(paragraphs, "paragraphs")

PUBLIC_DONATIONS = 50


# The public page ------------------------------------------------------------------------


@bp.get("/p/<slug>")
def show_page(slug: str):
    """A participant's page: photo, story, progress, updates, donations and replies."""
    page = service.viewable_page(slug)
    progress = page_progress(page.id)
    return render_template(
        "pages/show.html",
        page=page,
        progress=progress,
        summary=sharing.summary(page, progress, get_event()),
        recent=recent_donations(limit=PUBLIC_DONATIONS, sponsor_page_id=page.id),
        updates=service.visible_updates(page),
        share_url=sharing.page_url(page),
        donate_url=service.donate_url(page),
        manage=service.may_manage(current_user, page),
        moderation_form=forms.ModerationForm(formdata=None),
    )


@bp.get("/p/<slug>/progress")
@limiter.exempt
def show_progress(slug: str):
    """The page's progress bar alone, polled by htmx every few seconds."""
    page = service.viewable_page(slug)
    return progress_response(page_progress(page.id), "events/_progress.html")


@bp.get("/p/<slug>/photo/<filename>")
def show_photo(slug: str, filename: str):
    """The page's photo (each upload has a new name, so it can be cached for long)."""
    page = service.viewable_page(slug)
    if not page.photo_filename or filename != page.photo_filename:
        return render_template("errors/404.html"), 404
    response = send_from_directory(photos.upload_folder(), filename, max_age=86_400)
    response.cache_control.private = not page.is_public
    return response


@bp.get("/p/<slug>/qr.svg")
def qr_svg(slug: str):
    """A QR code of the page's address, as SVG."""
    page = service.viewable_page(slug)
    return _download(sharing.qr_svg(page), "image/svg+xml", f"{page.slug}-qr.svg")


@bp.get("/p/<slug>/qr.png")
def qr_png(slug: str):
    """A QR code of the page's address, as a PNG big enough to print on a poster."""
    page = service.viewable_page(slug)
    return _download(sharing.qr_png(page), "image/png", f"{page.slug}-qr.png")


def _download(data: bytes, mimetype: str, filename: str):
    response = make_response(data)
    response.mimetype = mimetype
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


# Moderation by organisers ---------------------------------------------------------------


@bp.post("/p/<slug>/moderation")
@login_required
def moderate_page(slug: str):
    """An organiser approves, hides (saying why) or unhides a page."""
    service.require_organiser()
    page = service.viewable_page(slug)
    form = forms.ModerationForm()
    if form.validate_on_submit():
        flash(service.moderate(page, form.action.data, form.reason.data or ""), "success")
    else:
        flash(next(iter(form.errors.values()))[0], "error")
    return redirect(url_for("pages.show_page", slug=page.slug), 303)


@bp.post("/p/<slug>/updates/<int:update_id>/hide")
@login_required
def hide_update(slug: str, update_id: int):
    """An organiser hides one update from the public."""
    service.require_organiser()
    page = service.viewable_page(slug)
    service.hide_update(service.page_update_or_404(page, update_id))
    flash("The update is hidden from the public.", "success")
    return redirect(url_for("pages.show_page", slug=page.slug), 303)


# The participant's own ------------------------------------------------------------------


@bp.get("/me")
@login_required
def home():
    """The participant's home: progress, donors to thank, updates, and what to do next."""
    page = current_user.sponsor_page
    return render_template("pages/home.html", **_home_context(page))


def _home_context(page, update_form=None, thank_form=None, thanked=None):
    donations = service.page_donations(page) if page else []
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
        "thank_forms": thank_forms,
        "update_form": update_form or forms.UpdateForm(formdata=None),
        "share_url": sharing.page_url(page) if page else None,
        "steps": service.steps(page, _step_urls()),
        "safety_url": service.safety_url(),
    }


def _step_urls() -> dict[str, str]:
    editor = url_for("pages.edit_page")
    return {
        "edit": editor,
        "photo": editor + "#photo",
        "publish": editor + "#publish",
        "share": url_for("pages.home") + "#share",
    }


@bp.route("/me/page", methods=["GET", "POST"])
@login_required
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
        "target_pence": form.target_pence,
    }
    if page is None:
        service.create_page(current_user, **fields)
        flash("Your page is saved as a draft. Add a photo, then publish it.", "success")
        if request.htmx:
            return "", 204, {"HX-Redirect": url_for("pages.edit_page")}
        return redirect(url_for("pages.edit_page"), 303)
    service.update_page(page, **fields)
    if request.htmx:
        return render_template("pages/_page_form.html", form=form, page=page, saved=True)
    flash("Your changes are saved.", "success")
    return redirect(url_for("pages.edit_page"), 303)


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


@bp.get("/me/page/slug")
@login_required
def check_slug():
    """Says, as the participant types, whether an address is free (an htmx fragment)."""
    slug = (request.args.get("slug") or "").strip().lower()
    page = current_user.sponsor_page
    problem = service.slug_problem(slug, page.id if page else None)
    return render_template("pages/_slug_status.html", slug=slug, problem=problem)


@bp.post("/me/page/photo")
@login_required
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
            return redirect(url_for("pages.edit_page") + "#photo", 303)
    return _editor(page, photo_form=form, status=422)


@bp.post("/me/page/photo/delete")
@login_required
def delete_photo():
    """Take the photo off the page."""
    service.remove_photo(service.own_page_or_404())
    flash("Your photo is removed.", "success")
    return redirect(url_for("pages.edit_page") + "#photo", 303)


@bp.post("/me/page/publish")
@login_required
def publish_page():
    """Publish the page (it may wait for an organiser's approval)."""
    page = service.own_page_or_404()
    service.publish(page)
    if page.is_public:
        flash("Your page is live! Now share it.", "success")
    elif page.hidden_at is None:
        flash("Your page is published and waits for an organiser to approve it.", "info")
    return redirect(url_for("pages.home"), 303)


@bp.post("/me/page/unpublish")
@login_required
def unpublish_page():
    """Take the page back to a draft."""
    service.unpublish(service.own_page_or_404())
    flash("Your page is a draft again: only you and the organisers can see it.", "info")
    return redirect(url_for("pages.edit_page"), 303)


@bp.post("/me/updates")
@login_required
def post_update():
    """Post an update for sponsors (htmx swaps the updates panel)."""
    page = service.own_page_or_404()
    form = forms.UpdateForm()
    if form.validate_on_submit():
        service.post_update(page, form.body.data)
        form = forms.UpdateForm(formdata=None)
        if not request.htmx:
            flash("Your update is posted.", "success")
            return redirect(url_for("pages.home") + "#updates", 303)
    return _updates_panel(page, form, 422 if form.errors else 200)


@bp.post("/me/updates/<int:update_id>/delete")
@login_required
def delete_update(update_id: int):
    """Delete one of your own updates."""
    page = service.own_page_or_404()
    service.delete_update(service.page_update_or_404(page, update_id))
    if not request.htmx:
        flash("Your update is deleted.", "success")
        return redirect(url_for("pages.home") + "#updates", 303)
    return _updates_panel(page, forms.UpdateForm(formdata=None), 200)


def _updates_panel(page, form, status):
    if request.htmx:
        return render_template("pages/_updates_panel.html", page=page, update_form=form), status
    return render_template("pages/home.html", **_home_context(page, update_form=form)), status


@bp.post("/me/donations/<int:donation_id>/thanks")
@login_required
def thank_donor(donation_id: int):
    """Reply publicly under a donation to your own page."""
    page = service.own_page_or_404()
    donation = service.page_donation_or_404(page, donation_id)
    form = forms.ThankYouForm(prefix=f"thanks-{donation.id}")
    if form.validate_on_submit():
        service.thank(donation, form.reply.data or "")
        if not request.htmx:
            flash("Your reply is saved.", "success")
            return redirect(url_for("pages.home") + f"#donation-{donation.id}", 303)
    status = 422 if form.errors else 200
    if request.htmx:
        return render_template(
            "pages/_thank_you.html", donation=donation, form=form, saved=not form.errors
        ), status
    context = _home_context(page, thank_form=form, thanked=donation)
    return render_template("pages/home.html", **context), status


@bp.app_errorhandler(RequestEntityTooLarge)
def upload_too_large(_error):
    """A file over the size limit: say so beside the photo field, not as a bare 413."""
    message = f"That file is too big. Choose a photo smaller than {photos.size_limit_text()}."
    page = current_user.sponsor_page if current_user.is_authenticated else None
    if request.endpoint == "pages.upload_photo" and page is not None:
        photo_form = forms.PhotoForm(formdata=None)
        photo_form.file.errors = [message]
        return _editor(page, photo_form=photo_form, status=413)
    return render_template("errors/413.html", message=message), 413
