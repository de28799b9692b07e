"""/organiser/after-event: write the message after the event, preview it, test it on
yourself, send it once, and watch it go (sent, waiting, failed: polled by htmx)."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.events.service import get_event
from app.organiser import after_event
from app.organiser.after_event_forms import AfterEventForm, SendForm
from app.pages import photos
from app.progress import polled_response

bp = Blueprint("after_event", __name__, url_prefix="/after-event")
HERE = "organiser.after_event.edit_message"


@bp.route("", methods=["GET", "POST"])
def edit_message():
    """The draft and its preview; a POST saves the draft."""
    draft = after_event.message()
    form = AfterEventForm(obj=draft, has_photo=bool(draft and draft.photo_sha256))
    if request.method == "POST" and form.validate_on_submit():
        try:
            after_event.save_draft(
                form.subject.data,
                form.body.data,
                photo=form.upload(),
                photo_alt=form.photo_alt.data or "",
                remove_photo=bool(form.remove_photo.data),
            )
        except after_event.AlreadySent:
            flash("The message has been sent: it can't be changed now.", "error")
            return redirect(url_for(HERE), 303)
        except photos.PhotoError as exc:
            form.photo.errors = [*form.photo.errors, str(exc)]
        else:
            flash("Draft saved. Check the preview below.", "success")
            return redirect(url_for(HERE), 303)
    status = 422 if form.errors else 200
    return _page(draft, form), status


@bp.post("/test")
def send_test():
    """Send the draft to the organiser alone, exactly as donors will get it."""
    draft = after_event.message()
    if draft is None:
        flash("Save your message first.", "error")
    else:
        after_event.send_test(draft, current_user)
        flash(f"A test copy is on its way to {current_user.email}.", "success")
    return redirect(url_for(HERE), 303)


@bp.post("/send")
def send_message():
    """Send the message to everyone it goes to: once, never twice."""
    form = SendForm()
    draft = after_event.message()
    if not form.validate_on_submit() or draft is None:
        return _page(draft, AfterEventForm(obj=draft), send_form=form), 422
    try:
        queued = after_event.send(current_user)
    except after_event.AlreadySent:
        flash("The message was sent already: it goes to each person once.", "error")
    else:
        flash(f"Sending to {queued} people, a few a second.", "success")
    return redirect(url_for(HERE), 303)


@bp.get("/status")
def show_status():
    """The sent, waiting and failed counts; htmx polls them until every copy has gone."""
    draft = after_event.message()
    counts = after_event.counts(draft)
    if not counts.done:
        # Keep the outbox moving while the page is open (within the throttle), even where
        # no outbox service runs (`make run`).
        g.outbox_has_mail = True
    return polled_response(
        counts.etag,
        "organiser/_after_event_status.html",
        stop_polling=bool(draft and draft.sent_at) and counts.done,
        counts=counts,
        draft=draft,
    )


def _page(draft, form, send_form=None):
    return render_template(
        "organiser/after_event.html",
        draft=draft,
        form=form,
        send_form=send_form or SendForm(formdata=None),
        event=get_event(),
        figures=after_event.figures(draft) if draft else None,
        preview=after_event.preview_text(draft, current_user.email) if draft else "",
        recipients=len(after_event.recipients()) if draft and not draft.sent_at else None,
        counts=after_event.counts(draft),
        size_limit=photos.size_limit_text(),
    )
