"""The news feed: posting, hiding, "Done it!", and the feed's version for polling."""

from dataclasses import dataclass

from sqlalchemy import func, select, true
from sqlalchemy.orm import selectinload

from app import audit
from app.events.service import get_event
from app.extensions import db
from app.images import service as images
from app.models import Event, NewsItem, NewsKind, Role, SafetyRecord, User, utcnow
from app.models.event import EVENT_ID
from app.pages import photos

FEED_LENGTH = 30


class NewsRefused(Exception):
    """The person may not post this (an instructor while the organisers don't allow it)."""


@dataclass(frozen=True)
class FeedVersion:
    """What the polling partial's ETag says: which items exist, and whether the event closed."""

    newest_id: int
    hidden: int
    closed: bool

    @property
    def etag(self) -> str:
        """Changes whenever the feed would look different."""
        return f"news-{self.newest_id}-{self.hidden}{'-closed' if self.closed else ''}"


def version_query():
    """The feed's version in one aggregate read: a new item raises the highest id, hiding one
    raises the hidden count; with the event's close time. The fast path (app/progress.py)
    runs this very select."""
    return (
        select(
            func.coalesce(func.max(NewsItem.id), 0), func.count(NewsItem.hidden_at), Event.closes_at
        )
        .select_from(Event)
        .outerjoin(NewsItem, true())
        .where(Event.id == EVENT_ID)
        .group_by(Event.closes_at)
    )


def version_from_row(row, now) -> FeedVersion | None:
    """The version from version_query's row (None: no event yet); `now` is compared with the
    close time as the database returned it."""
    if row is None:
        return None
    newest, hidden, closes_at = row
    return FeedVersion(int(newest), int(hidden), closes_at is not None and now >= closes_at)


def feed_version() -> FeedVersion | None:
    """The feed's version now, through the app's session."""
    return version_from_row(db.session.execute(version_query()).first(), utcnow())


def feed(limit: int = FEED_LENGTH) -> list[NewsItem]:
    """The newest visible items first."""
    query = select(NewsItem).where(NewsItem.hidden_at.is_(None)).order_by(NewsItem.id.desc())
    # The photos' sizes (for <img width height>) in one more query, not one per item.
    query = query.options(selectinload(NewsItem.photo))
    return list(db.session.scalars(query.limit(limit)))


def may_post(user: User) -> set[NewsKind]:
    """The kinds `user` may post: organisers any news, instructors safety news if allowed."""
    if user.role == Role.ORGANISER:
        return {NewsKind.NEWS, NewsKind.SAFETY}
    event = get_event()
    if user.role == Role.INSTRUCTOR and event is not None and event.instructors_post_safety_news:
        return {NewsKind.SAFETY}
    return set()


def post(author: User, kind: NewsKind, body: str, photo=None, photo_alt: str = "") -> NewsItem:
    """Post an update (photo cleaned and stored like a page photo) and commit.

    Raises NewsRefused if `author` may not post this kind, photos.PhotoError for a bad photo."""
    if kind not in may_post(author):
        raise NewsRefused("Only organisers can post this news.")
    item = NewsItem(kind=kind, body=body, author_id=author.id, photo_alt=photo_alt)
    if photo is not None:
        item.photo_sha256 = images.store(photos.clean_jpeg(photo)).sha256
    db.session.add(item)
    db.session.commit()
    return item


def hide(item: NewsItem, organiser: User, reason: str = "") -> None:
    """Take an item off the feed, with a line in the history; commits."""
    if item.hidden_at is None:
        item.hidden_at, item.hidden_by_id = utcnow(), organiser.id
        audit.record("news.hidden", actor=organiser, detail=f"news {item.id}", reason=reason)
    db.session.commit()


def done_it(participant: User) -> bool:
    """Whether the participant was checked out on the day as having done it."""
    record = db.session.get(SafetyRecord, participant.id)
    return record is not None and record.completed_at is not None


def announce_done_it(participant: User) -> None:
    """Put "Done it!" for the participant in the feed, once (the caller commits)."""
    already = select(NewsItem).where(
        NewsItem.kind == NewsKind.DONE_IT, NewsItem.participant_id == participant.id
    )
    found = db.session.scalar(already)
    if found is not None:
        found.hidden_at = found.hidden_by_id = None  # checked out again after an undo
    else:
        db.session.add(
            NewsItem(
                kind=NewsKind.DONE_IT,
                body=f"{participant.name} has done it!",
                participant_id=participant.id,
            )
        )


def withdraw_done_it(participant: User, organiser: User) -> None:
    """Hide the participant's "Done it!" item (their check-out was a mistake)."""
    items = select(NewsItem).where(
        NewsItem.kind == NewsKind.DONE_IT,
        NewsItem.participant_id == participant.id,
        NewsItem.hidden_at.is_(None),
    )
    for item in db.session.scalars(items):
        item.hidden_at, item.hidden_by_id = utcnow(), organiser.id


def photo_audience(sha256: str, user) -> str | None:
    """Who may see a news photo: "public" while an item on the feed shows it, "private" for
    organisers once hidden, None when no item has it."""
    shown = db.session.execute(
        select(NewsItem.hidden_at).where(NewsItem.photo_sha256 == sha256)
    ).all()
    if any(hidden_at is None for (hidden_at,) in shown):
        return "public"
    if shown and user.is_authenticated and user.is_organiser:
        return "private"
    return None
