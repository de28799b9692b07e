"""Sponsor pages: who may see and change them, their addresses, publishing and moderation,
photos, updates and thank-you replies."""

import re
import unicodedata
from dataclasses import dataclass
from typing import IO, NoReturn
from urllib.parse import quote_from_bytes

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import audit, mailing, totals
from app.events.service import counted_clause, get_event
from app.extensions import db
from app.images import service as images
from app.models import (
    Donation,
    PageStatus,
    PreviousSlug,
    SponsorPage,
    SponsorUpdate,
    User,
    utcnow,
)
from app.pages import photos
from app.urls import absolute_url, url_if_exists

SLUG_MIN, SLUG_MAX = 3, 40
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Words that are, or may one day be, parts of the site rather than someone's page.
# fmt: off
RESERVED_SLUGS = frozenset({
    "about", "account", "admin", "api", "auth", "contact", "donate", "donation", "donations",
    "edit", "event", "events", "help", "home", "login", "logout", "me", "new", "organiser",
    "organisers", "p", "page", "pages", "photo", "privacy", "progress", "qr", "safety",
    "settings", "signup", "static", "terms", "www",
    # /donate/<slug> sits beside these donation routes.
    "check", "resume", "thanks",
})
# fmt: on


# Who may see and change what -----------------------------------------------------------


def may_manage(user, page: SponsorPage) -> bool:
    """The page's own participant, or an organiser."""
    return bool(user.is_authenticated and (user.id == page.participant_id or user.is_organiser))


def may_view(user, page: SponsorPage) -> bool:
    """Anyone, once the page is public; before that, and while hidden, only its managers."""
    return page.is_public or may_manage(user, page)


def viewable_page(slug: str) -> SponsorPage:
    """The page at /p/<slug>, or 404: drafts, hidden and unapproved pages exist only for
    their participant and the organisers. One of the page's old addresses redirects to the
    same place at its current one, for those who could see it there."""
    page = db.session.scalar(select(SponsorPage).where(SponsorPage.slug == slug.lower()))
    if page is None:
        page = renamed_page(slug)
        if page is not None and may_view(current_user, page):
            moved_to(page)
    if page is None or not may_view(current_user, page):
        abort(404)
    return page


def own_page_or_404() -> SponsorPage:
    """The logged-in participant's own page; there is no way to name anyone else's."""
    page = current_user.sponsor_page
    if page is None:
        abort(404)
    return page


# Addresses ------------------------------------------------------------------------------


def renamed_page(slug: str) -> SponsorPage | None:
    """The page that used to be at `slug`, if one did."""
    return db.session.scalar(
        select(SponsorPage).join(PreviousSlug).where(PreviousSlug.slug == slug.lower())
    )


def moved_to(page: SponsorPage) -> NoReturn:
    """Send this request, made to an old address of `page`, to the same place at its current
    address, query string and all: 301 for reading; 308 for a form sent from a page loaded
    before the change, so the browser sends the same form again (a donor's details and
    attempt key) to the new address rather than dropping what they typed."""
    location = url_for(request.endpoint, **{**request.view_args, "slug": page.slug})
    if request.query_string:
        # As sent, but with anything a Location header cannot hold percent-encoded.
        location += "?" + quote_from_bytes(request.query_string, safe="!$&'()*+,;=:@/?%")
    response = redirect(location, 301 if request.method in ("GET", "HEAD") else 308)
    # The owner may move back to an old address one day; a cached 301 would then loop.
    response.headers["Cache-Control"] = "no-cache"
    abort(response)


def slug_problem(slug: str, page_id: int | None = None) -> str | None:
    """Why `slug` can't be this page's address, in words for the participant; None if it can."""
    if not slug:
        return "Choose a web address for your page"
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return f"Use between {SLUG_MIN} and {SLUG_MAX} characters"
    if not _SLUG.fullmatch(slug):
        return (
            "Use only lowercase letters, numbers and single hyphens between words, "
            "like morag-abseils"
        )
    if slug in RESERVED_SLUGS:
        return "That address is kept for the website itself. Try another"
    taken = select(SponsorPage.id).where(SponsorPage.slug == slug)
    if page_id is not None:
        taken = taken.where(SponsorPage.id != page_id)
    if db.session.scalar(taken) is not None:
        return "Someone already has that address. Try another, perhaps with your surname"
    used = select(PreviousSlug.sponsor_page_id).where(PreviousSlug.slug == slug)
    if page_id is not None:
        used = used.where(PreviousSlug.sponsor_page_id != page_id)
    if db.session.scalar(used) is not None:
        return (
            "Another page had that address before, and links and QR codes already shared "
            "with it still lead there. Try another"
        )
    return None


def suggest_slug(name: str) -> str:
    """A free address made from a name: 'Morag Fraser' -> 'morag-fraser' (or 'morag-fraser-2')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[: SLUG_MAX - 4].strip("-")
    if len(base) < SLUG_MIN:
        base = "abseiler"
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base}-{n}"
        if slug_problem(candidate) is None:
            return candidate
    return f"{base}-{utcnow():%H%M%S}"


# The page itself ------------------------------------------------------------------------


def create_page(participant: User, **fields) -> SponsorPage:
    """A new draft page and its totals row, in one transaction."""
    page = SponsorPage(participant=participant, status=PageStatus.DRAFT, **fields)
    db.session.add(page)
    db.session.flush()
    totals.ensure_scope(page.totals_scope)
    db.session.commit()
    return page


def update_page(page: SponsorPage, **fields) -> None:
    """Save edits; a new target makes every open page fetch the new bar, and a new address
    keeps the old one leading here."""
    target_changed = fields.get("target_pence", page.target_pence) != page.target_pence
    if fields.get("slug", page.slug) != page.slug:
        _keep_old_address(page, fields["slug"])
    for name, value in fields.items():
        setattr(page, name, value)
    if target_changed:
        totals.touch(page.totals_scope)
    db.session.commit()


def _keep_old_address(page: SponsorPage, new_slug: str) -> None:
    # Moving back to one of its own old addresses makes that one current again.
    kept = [previous for previous in page.previous_slugs if previous.slug != new_slug]
    page.previous_slugs = [*kept, PreviousSlug(slug=page.slug)]


def publish(page: SponsorPage) -> None:
    """Publish; unless the event makes new pages wait for an organiser, it goes live now."""
    event = get_event()
    page.status = PageStatus.PUBLISHED
    if page.approved_at is None and not (event and event.pages_need_approval):
        page.approved_at = utcnow()
    db.session.commit()


def unpublish(page: SponsorPage) -> None:
    """Back to a draft, seen only by the participant and organisers."""
    page.status = PageStatus.DRAFT
    db.session.commit()


def moderate(page: SponsorPage, action: str, reason: str = "") -> str:
    """An organiser approves a page that waited, hides it (saying why) or puts it back;
    returns what happened, in words."""
    if action == "approve":
        page.approved_at = page.approved_at or utcnow()
        message = "The page is approved."
    elif action == "hide":
        page.hidden_at, page.hidden_reason = utcnow(), reason
        message = "The page is hidden from the public."
    elif action == "unhide":
        page.hidden_at, page.hidden_reason = None, ""
        message = "The page is no longer hidden."
    else:
        raise ValueError(f"unknown moderation action {action!r}")
    audit.record(f"page.{action}", sponsor_page=page, reason=reason if action == "hide" else "")
    db.session.commit()
    return message


def replace_photo(page: SponsorPage, upload: IO[bytes], alt: str) -> None:
    """Check, clean and store a new photo, then delete the old one unless something else still
    shows it. Raises PhotoError."""
    image = images.store(photos.clean_jpeg(upload))
    old, page.photo = page.photo_sha256, image
    page.old_photo_filename, page.photo_alt = None, alt
    if old != image.sha256:
        images.release(old)
    db.session.commit()


def remove_photo(page: SponsorPage) -> None:
    """Take the photo off the page, and out of the database unless something else shows it."""
    old, page.photo = page.photo_sha256, None
    page.old_photo_filename, page.photo_alt = None, ""
    images.release(old)
    db.session.commit()


def photo_audience(sha256: str) -> str | None:
    """Who may see the photo with this hash: "public" when a public page, the event, a news
    item or the sent message after the event shows it, "private" when only what the current
    user manages does, None for anyone else (or no such photo)."""
    from app.events.service import get_event
    from app.news.service import photo_audience as news_audience
    from app.organiser.after_event import photo_audience as message_audience
    from app.organiser.pictures import is_event_picture

    if is_event_picture(get_event(), sha256):
        return "public"
    audiences = {news_audience(sha256, current_user), message_audience(sha256)}
    if "public" in audiences:
        return "public"
    pages = db.session.scalars(select(SponsorPage).where(SponsorPage.photo_sha256 == sha256))
    for page in pages:
        if page.is_public:
            return "public"
        if may_view(current_user, page):
            audiences.add("private")
    return "private" if "private" in audiences else None


# Updates and thanks ---------------------------------------------------------------------


def post_update(page: SponsorPage, body: str) -> SponsorUpdate:
    """A short news item on the page, newest first."""
    update = SponsorUpdate(sponsor_page=page, body=body)
    db.session.add(update)
    db.session.commit()
    return update


def visible_updates(page: SponsorPage) -> list[SponsorUpdate]:
    """The page's updates the public sees: not hidden by an organiser."""
    return [update for update in page.updates if update.hidden_at is None]


def page_update_or_404(page: SponsorPage, update_id: int) -> SponsorUpdate:
    """One of this page's updates; another page's is a 404."""
    update = db.session.get(SponsorUpdate, update_id)
    if update is None or update.sponsor_page_id != page.id:
        abort(404)
    return update


def delete_update(update: SponsorUpdate) -> None:
    """The participant takes back one of their own updates."""
    db.session.delete(update)
    db.session.commit()


def hide_update(update: SponsorUpdate, reason: str = "") -> None:
    """An organiser hides an update from the public (the history says who, when and why)."""
    if update.hidden_at is None:
        update.hidden_at = utcnow()
        audit.record(
            "update.hidden",
            sponsor_page=update.sponsor_page,
            sponsor_update_id=update.id,
            reason=reason,
        )
    db.session.commit()


def restore_update(update: SponsorUpdate, reason: str = "") -> None:
    """An organiser shows a hidden update again."""
    if update.hidden_at is not None:
        update.hidden_at = None
        audit.record(
            "update.restored",
            sponsor_page=update.sponsor_page,
            sponsor_update_id=update.id,
            reason=reason,
        )
    db.session.commit()


def page_donation_or_404(page: SponsorPage, donation_id: int) -> Donation:
    """A donation to this page that counts; anyone else's (or a failed one) is a 404."""
    donation = db.session.scalar(
        select(Donation).where(
            Donation.id == donation_id, Donation.sponsor_page_id == page.id, counted_clause()
        )
    )
    if donation is None:
        abort(404)
    return donation


def thank(donation: Donation, reply: str) -> bool:
    """Save the participant's public reply under a donation (empty takes it away). A first
    reply is emailed to the donor too: it answers their own gift. True if it was emailed."""
    first = bool(reply) and not donation.thank_you
    donation.thank_you = reply
    donation.thanked_at = utcnow() if reply else None
    emailed = False
    if first and donation.donor_email:
        page = donation.sponsor_page
        # Not a service message, but a reply to their own gift: it goes unless they said no.
        emailed = (
            mailing.queue_non_service(
                donation.donor_email,
                f"{page.participant.name} has thanked you for sponsoring them",
                "thank_you_reply",
                "thank_you",
                donation=donation,
                page=page,
                event=get_event(),
                reply=reply,
                page_url=absolute_url("pages.show_page", slug=page.slug),
            )
            is not None
        )
    db.session.commit()
    return emailed


# The participant's home -----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a participant does to get sponsored, and whether it is done."""

    label: str
    done: bool
    href: str


def steps(page: SponsorPage | None, urls: dict[str, str]) -> list[Step]:
    """The road from sign-up to sharing; the first step not done is the next thing to do."""
    return [
        Step("Create your sponsor page", page is not None, urls["edit"]),
        Step("Add a photo", bool(page and page.photo_sha256), urls["photo"]),
        Step(
            "Publish your page",
            bool(page and page.status == PageStatus.PUBLISHED),
            urls["publish"],
        ),
        Step("Share your page with friends and family", False, urls["share"]),
    ]


def pages_for_moderation() -> dict[str, list[SponsorPage]]:
    """Pages an organiser should look at: published and waiting for approval, or hidden."""
    waiting = select(SponsorPage).where(
        SponsorPage.status == PageStatus.PUBLISHED,
        SponsorPage.approved_at.is_(None),
        SponsorPage.hidden_at.is_(None),
    )
    hidden = select(SponsorPage).where(SponsorPage.hidden_at.is_not(None))
    return {
        "waiting": list(db.session.scalars(waiting.order_by(SponsorPage.updated_at))),
        "hidden": list(db.session.scalars(hidden.order_by(SponsorPage.hidden_at.desc()))),
    }


def donate_url(page: SponsorPage) -> str | None:
    """Where to sponsor this page, once the donation flow is part of the site, else None."""
    return url_if_exists("donations.donate", slug=page.slug)


def safety_url() -> str | None:
    """The safety checklist's address once that part of the site exists, else None."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/safety":
            return rule.rule
    return None
