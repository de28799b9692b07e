"""Link-preview pictures (Open Graph and Twitter cards): 1200x630 PNGs drawn by Plunge with
the event's or participant's photo, their name, the event, the amount raised and the bar.

Drawn once per version of what they show (the totals row's version, and the name, title and
photo) and kept in the share_images table and a small in-process cache, so a page shared
widely costs one drawing per change of its total, not one per request."""

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from threading import Lock

from flask import Response, current_app, request
from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app import avatars
from app.events.service import Progress
from app.extensions import db
from app.models import Event, ShareImage, SponsorPage, StoredImage, Team, utcnow
from app.money import format_pence
from app.urls import absolute_url

WIDTH, HEIGHT = 1200, 630
PHOTO_WIDTH = 480
INK, MUTED, TRACK, BAR, PAPER = "#1b1b1f", "#4a4a55", "#e4e4ea", "#1a7f37", "#ffffff"
# Share images kept in each process, newest used last.
MEMORY_SLOTS = 64


@dataclass(frozen=True)
class ShareCard:
    """What one share image shows."""

    scope: str
    name: str
    event_name: str
    raised_pence: int
    target_pence: int
    percent: int
    totals_version: int
    photo_sha256: str | None = None
    # The address part that names the subject (a sponsor page's or team's slug); none for
    # the event.
    slug: str | None = None

    @property
    def version(self) -> str:
        """Changes whenever anything drawn changes: the totals' version, or the words and
        photo (which the totals' version does not follow)."""
        words = f"{self.name}\n{self.event_name}\n{self.photo_sha256}\n{self.target_pence}"
        return f"{self.totals_version}-{hashlib.sha256(words.encode()).hexdigest()[:12]}"


def event_card(event: Event, progress: Progress) -> ShareCard:
    """The event page's share image."""
    return _card(progress, event.charity_name, event.name, event.image_sha256)


def page_card(page: SponsorPage, event: Event | None, progress: Progress) -> ShareCard:
    """A sponsor page's share image."""
    event_name = event.name if event else ""
    return _card(progress, page.participant.name, event_name, page.photo_sha256, page.slug)


def team_card(team: Team, event: Event | None, progress: Progress) -> ShareCard:
    """A team page's share image: the team's photo (or initials), name, event, total, bar."""
    event_name = event.name if event else ""
    return _card(progress, team.name, event_name, team.photo_sha256, team.slug)


def _card(progress, name: str, event_name: str, photo: str | None, slug=None) -> ShareCard:
    return ShareCard(
        slug=slug,
        scope=progress.scope,
        name=name,
        event_name=event_name,
        raised_pence=progress.counted_pence,
        target_pence=progress.target_pence,
        percent=progress.percent,
        totals_version=progress.version,
        photo_sha256=photo,
    )


# Where each kind of scope's share image is served.
ENDPOINTS = {
    "event": "events.show_share_image",
    "page": "pages.show_share_image",
    "team": "teams.show_share_image",
}


def share_image_url(card: ShareCard) -> str:
    """The image's absolute address, naming its version: a new total is a new address, so
    link previews fetch the new picture and browsers may keep each one for ever."""
    endpoint = ENDPOINTS[card.scope.split(":")[0]]
    slug = {"slug": card.slug} if card.slug else {}
    return absolute_url(endpoint, v=card.version, **slug)


def response(card: ShareCard, public: bool) -> Response:
    """The card's PNG with caching headers: for ever at its versioned address, briefly at
    the bare one (its total moves), privately for a page only some may see; 304 if unchanged."""
    if not public:
        cache_control = "private, no-cache"
    elif request.args.get("v") == card.version:
        cache_control = "public, max-age=31536000, immutable"
    else:
        cache_control = "public, max-age=60"
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if request.if_none_match.contains(card.version):
        return Response(status=304, headers={**headers, "ETag": f'"{card.version}"'})
    answer = Response(png(card), headers=headers, content_type="image/png")
    answer.set_etag(card.version)
    return answer


class _Memory:
    """A few recently served share images per process: the common case reads no bytes."""

    def __init__(self, slots: int):
        self.slots, self.items, self.lock = slots, OrderedDict(), Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def put(self, key, value):
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.slots:
                self.items.popitem(last=False)


def _memory() -> _Memory:
    # One per app (so per process, and a fresh one for each test's app).
    return current_app.extensions.setdefault("plunge_share_images", _Memory(MEMORY_SLOTS))


# Drawings made by this process (for `make bench`: one per version, not one per request).
renders = {"count": 0, "ms": 0.0}


def png(card: ShareCard) -> bytes:
    """The card's PNG: from memory, else the database, else drawn now and stored."""
    key = (card.scope, card.version)
    kept = _memory().get(key)
    if kept is not None:
        return kept
    query = select(ShareImage).where(ShareImage.scope == card.scope)
    stored = db.session.scalar(query.options(undefer(ShareImage.content)))
    if stored is not None and stored.version == card.version:
        data = stored.content
    else:
        data = _store(card, stored)
    _memory().put(key, data)
    return data


def _store(card: ShareCard, stored: ShareImage | None) -> bytes:
    started = time.perf_counter()
    data = draw(card, _photo_bytes(card.photo_sha256))
    elapsed_ms = (time.perf_counter() - started) * 1000
    renders["count"] += 1
    renders["ms"] += elapsed_ms
    try:
        with db.session.begin_nested():
            if stored is None:
                stored = ShareImage(scope=card.scope)
                db.session.add(stored)
            stored.version, stored.content = card.version, data
            stored.render_ms, stored.drawn_at = round(elapsed_ms), utcnow()
        db.session.commit()
    except IntegrityError:
        # Another request drew the same card a moment ago: theirs is as good as ours.
        db.session.rollback()
    return data


def _photo_bytes(sha256: str | None) -> bytes | None:
    if sha256 is None:
        return None
    query = select(StoredImage.content).where(StoredImage.sha256 == sha256)
    return db.session.scalar(query)


# Debian's fonts-dejavu-core (it has the pound sign, which Pillow's own font lacks).
FONT_FILES = {
    False: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    True: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    if FONT_FILES[bold].exists():
        return ImageFont.truetype(str(FONT_FILES[bold]), size)
    return ImageFont.load_default(size=size)


def _money(pence: int) -> str:
    text = format_pence(pence)
    return text if FONT_FILES[False].exists() else text.replace("£", "GBP ")


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, bold: bool = False):
    """The largest font up to `size` that fits `text` in `width`, shortening it if need be."""
    while size > 28 and draw.textlength(text, font=_font(size, bold)) > width:
        size -= 4
    font = _font(size, bold)
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2].rstrip() + "…"
    return text, font


def draw(card: ShareCard, photo: bytes | None) -> bytes:
    """Draw the card: photo (or initials) on the left, name, event, amount and bar beside it."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    if photo is not None:
        with Image.open(BytesIO(photo)) as opened:
            picture = ImageOps.fit(opened.convert("RGB"), (PHOTO_WIDTH, HEIGHT))
        canvas.paste(picture, (0, 0))
    else:
        _initials(canvas, card.name)
    pen = ImageDraw.Draw(canvas)
    left, width = PHOTO_WIDTH + 56, WIDTH - PHOTO_WIDTH - 112
    name, font = _fit(pen, card.name, 72, width, bold=True)
    pen.text((left, 110), name, font=font, fill=INK)
    event_name, font = _fit(pen, card.event_name, 40, width)
    pen.text((left, 220), event_name, font=font, fill=MUTED)
    raised = f"{_money(card.raised_pence)} raised"
    pen.text((left, 320), raised, font=_fit(pen, raised, 60, width, bold=True)[1], fill=BAR)
    target = f"{card.percent}% of {_money(card.target_pence)}"
    pen.text((left, 410), target, font=_font(36), fill=MUTED)
    top, bar_height = 480, 44
    pen.rounded_rectangle((left, top, left + width, top + bar_height), 22, fill=TRACK)
    filled = round(width * min(card.percent, 100) / 100)
    if filled:
        pen.rounded_rectangle((left, top, left + max(filled, 44), top + bar_height), 22, fill=BAR)
    out = BytesIO()
    canvas.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _initials(canvas: Image.Image, name: str) -> None:
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 0, PHOTO_WIDTH, HEIGHT), fill=avatars.colour(name))
    text, font = avatars.initials(name), _font(200, bold=True)
    box = pen.textbbox((0, 0), text, font=font)
    x = (PHOTO_WIDTH - (box[2] - box[0])) / 2 - box[0]
    y = (HEIGHT - (box[3] - box[1])) / 2 - box[1]
    pen.text((x, y), text, font=font, fill=PAPER)
