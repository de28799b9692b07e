"""When a nudge is due and who gets it; queued through the outbox in the caller's transaction.

Milestones are found where totals move (`totals.tracking` calls `after_page_total_moved` in the
donation's own transaction): the page's totals row was just updated, so its lock orders
concurrent donations to one page, and each sees the total the one before it left. The quiet week
is found by `flask nudges send`, run from a timer.

Nudges are not service messages: each goes through `app.mailing.queue_non_service` as kind
"nudges", so it carries the one-click unsubscribe link and headers, and none goes to an address
that unsubscribed from nudges (or from everything), whatever its /me/emails ticks say."""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from flask import current_app, has_request_context
from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app import mailing
from app.database import begin_write
from app.donations.gift_aid import gift_aid_on
from app.events.service import (
    counted_clause,
    get_event,
    page_scope_expression,
    public_pages_clause,
)
from app.extensions import db
from app.mailing import consent
from app.models import (
    Contribution,
    Donation,
    Event,
    NudgeKind,
    NudgeOptOut,
    NudgeSent,
    SponsorPage,
    Totals,
    User,
    utcnow,
)
from app.money import format_pence
from app.timefmt import format_datetime
from app.urls import absolute_url

QUIET_FOR = timedelta(days=7)
# Their kind in app.mailing.consent.KINDS: what an unsubscribe link in a nudge stops.
MAIL_KIND = "nudges"
# In the order they happen: when one donation passes several, only the last is sent.
MILESTONES = (NudgeKind.FIRST_DONATION, NudgeKind.HALFWAY, NudgeKind.TARGET_REACHED)
# What each is called on /me/emails and in the organisers' settings, and its event switch.
LABELS = {
    NudgeKind.FIRST_DONATION: "When your first donation comes in",
    NudgeKind.HALFWAY: "When you are halfway to your target",
    NudgeKind.TARGET_REACHED: "When you reach your target",
    NudgeKind.QUIET_WEEK: "After a week with no new donation before the event, with a message "
    "ready to share",
}
SWITCHES = {
    NudgeKind.FIRST_DONATION: "nudge_first_donation",
    NudgeKind.HALFWAY: "nudge_halfway",
    NudgeKind.TARGET_REACHED: "nudge_target_reached",
    NudgeKind.QUIET_WEEK: "nudge_quiet_week",
}
SUBJECTS = {
    NudgeKind.FIRST_DONATION: "Your first donation is in!",
    NudgeKind.HALFWAY: "You're halfway to your target",
    NudgeKind.TARGET_REACHED: "You've reached your target!",
    NudgeKind.QUIET_WEEK: "A quiet week: a message ready to share",
}


def switched_on(event: Event, kind: NudgeKind) -> bool:
    """Whether the organisers let this kind go to anyone."""
    return bool(getattr(event, SWITCHES[kind]))


def unsubscribed(participant: User) -> bool:
    """Whether the participant's address said no to nudges (or to everything) by a link."""
    return not mailing.may_email(participant.email, MAIL_KIND)


def turned_off(participant_id: int) -> set[NudgeKind]:
    """The kinds a participant asked not to get."""
    query = select(NudgeOptOut.kind).where(NudgeOptOut.participant_id == participant_id)
    return set(db.session.scalars(query))


def set_choices(participant: User, wanted: set[NudgeKind]) -> None:
    """Keep exactly the kinds in `wanted` on for this participant; the caller commits.

    Ticking any after unsubscribing by a link is a yes to nudges again, recorded as one."""
    if wanted and unsubscribed(participant):
        consent.record(
            participant.email,
            MAIL_KIND,
            True,
            wording_version=consent.ME_EMAILS_VERSION,
            source="/me/emails",
        )
    off = turned_off(participant.id)
    for kind in NudgeKind:
        if kind in wanted and kind in off:
            db.session.delete(db.session.get(NudgeOptOut, (participant.id, kind)))
        elif kind not in wanted and kind not in off:
            db.session.add(NudgeOptOut(participant_id=participant.id, kind=kind))


@dataclass(frozen=True)
class _Standing:
    """A page's total as it fills the bar (raised, plus Gift Aid where the event says so)."""

    counted_pence: int
    target_pence: int


def crossed(before: _Standing, after: _Standing) -> list[NudgeKind]:
    """The milestones passed going from `before` to `after`, in order."""
    target = after.target_pence
    passed = []
    if before.counted_pence <= 0 < after.counted_pence:
        passed.append(NudgeKind.FIRST_DONATION)
    if before.counted_pence * 2 < target <= after.counted_pence * 2:
        passed.append(NudgeKind.HALFWAY)
    if before.counted_pence < target <= after.counted_pence:
        passed.append(NudgeKind.TARGET_REACHED)
    return passed


def after_page_total_moved(page_id: int, delta: Contribution) -> None:
    """Queue the milestone nudge a change to one of the page's donations earned, if any.

    Called after the page's totals row was updated in this transaction (so it is locked and
    current); a fall in the total earns nothing, and a milestone passed again after a refund
    is not sent again."""
    if delta.raised_pence <= 0 and delta.gift_aid_eligible_pence <= 0:
        return
    event = get_event()
    if event is None or event.is_closed():
        return
    row = db.session.execute(
        select(
            Totals.raised_pence,
            Totals.gift_aid_eligible_pence,
            SponsorPage.target_pence,
            SponsorPage.participant_id,
        )
        .join(SponsorPage, Totals.scope == page_scope_expression())
        .where(SponsorPage.id == page_id)
    ).first()
    if row is None:
        return
    raised, eligible, target, participant_id = row
    with_gift_aid = event.gift_aid_fills_target
    after = _Standing(raised + (gift_aid_on(eligible) if with_gift_aid else 0), target)
    raised_before = raised - delta.raised_pence
    eligible_before = eligible - delta.gift_aid_eligible_pence
    before = _Standing(
        raised_before + (gift_aid_on(eligible_before) if with_gift_aid else 0), target
    )
    passed = [kind for kind in crossed(before, after) if _claim(participant_id, kind)]
    off = turned_off(participant_id)
    wanted = [k for k in passed if switched_on(event, k) and k not in off]
    if wanted:
        _queue(db.session.get(SponsorPage, page_id), wanted[-1], event)


def _claim(participant_id: int, kind: NudgeKind) -> bool:
    """Record that this participant has had this kind; False if they already had (or another
    transaction is recording it now: the unique key makes it wait, then refuse)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else None
    insert = insert or sqlite.insert
    statement = (
        insert(NudgeSent.__table__)
        .values(participant_id=participant_id, kind=kind, sent_at=utcnow())
        .on_conflict_do_nothing(index_elements=["participant_id", "kind"])
        .returning(NudgeSent.id)
    )
    # A row comes back only if this insert made it (rowcount is -1 with RETURNING on psycopg).
    return db.session.execute(statement).scalar() is not None


def quiet_pages(now: datetime) -> list[SponsorPage]:
    """Public pages below their target whose last donation (or their going live) was a week or
    more before `now`, whose participant has not had the quiet-week nudge nor turned it off."""
    last_gift = (
        select(func.max(Donation.paid_at))
        .where(Donation.sponsor_page_id == SponsorPage.id, counted_clause())
        .scalar_subquery()
    )
    sent = exists().where(
        NudgeSent.participant_id == SponsorPage.participant_id,
        NudgeSent.kind == NudgeKind.QUIET_WEEK,
    )
    opted_out = exists().where(
        NudgeOptOut.participant_id == SponsorPage.participant_id,
        NudgeOptOut.kind == NudgeKind.QUIET_WEEK,
    )
    rows = db.session.execute(
        select(SponsorPage, last_gift, Totals.raised_pence)
        .join(Totals, Totals.scope == page_scope_expression())
        .where(public_pages_clause(), ~sent, ~opted_out, SponsorPage.approved_at <= now - QUIET_FOR)
        .where(Totals.raised_pence < SponsorPage.target_pence)
        .order_by(SponsorPage.id)
    ).all()
    return [page for page, last, _ in rows if last is None or last <= now - QUIET_FOR]


def send_quiet_week(now: datetime | None = None) -> int:
    """Queue the quiet-week nudge to every page that has had a week with nothing, before the
    event starts; commits, and returns how many were queued. Safe to run twice at once."""
    now = now or utcnow()
    event = get_event()
    if event is None or not event.nudge_quiet_week or now >= event.starts_at:
        return 0
    if event.is_closed(now):
        return 0
    queued = 0
    begin_write()  # read the quiet pages and record their nudges in one write transaction
    for page in quiet_pages(now):
        if unsubscribed(page.participant):
            continue  # not claimed: a yes again later lets the week be nudged
        if _claim(page.participant_id, NudgeKind.QUIET_WEEK):
            queued += _queue(page, NudgeKind.QUIET_WEEK, event)
    db.session.commit()
    return queued


def share_message(page: SponsorPage, event: Event, url: str, raised_pence: int) -> str:
    """A message the participant can paste anywhere, asking friends to sponsor them."""
    so_far = f" I've raised {format_pence(raised_pence)} so far." if raised_pence else ""
    return (
        f"I'm taking part in {event.name} on {format_datetime(event.starts_at, '%-d %B')} "
        f"for {event.charity_name}.{so_far} Could you sponsor me? {url}"
    )


def share_links(url: str, message: str, subject: str) -> dict[str, str]:
    """Plain links that open each app with the message ready (no scripts, nothing loaded)."""
    return {
        "WhatsApp": "https://wa.me/?" + urlencode({"text": message}, quote_via=quote),
        "Facebook": "https://www.facebook.com/sharer/sharer.php?"
        + urlencode({"u": url}, quote_via=quote),
        "X": "https://x.com/intent/post?" + urlencode({"text": message}, quote_via=quote),
        "Email": "mailto:?" + urlencode({"subject": subject, "body": message}, quote_via=quote),
        "Text message": "sms:?" + urlencode({"body": message}, quote_via=quote),
    }


def _queue(page: SponsorPage, kind: NudgeKind, event: Event) -> bool:
    """Queue one nudge to the page's participant (False: their address said no)."""
    raised = db.session.scalar(select(Totals.raised_pence).where(Totals.scope == page.totals_scope))
    with _site_urls():
        url = absolute_url("pages.show_page", slug=page.slug)
        message = share_message(page, event, url, raised or 0)
        queued = mailing.queue_non_service(
            page.participant.email,
            SUBJECTS[kind],
            f"nudge_{kind.value}",
            MAIL_KIND,
            page=page,
            event=event,
            name=page.participant.name,
            raised=format_pence(raised or 0),
            target=format_pence(page.target_pence),
            page_url=url,
            message=message,
            links=share_links(url, message, f"Sponsor me: {event.name}"),
            settings_url=absolute_url("nudges.edit_choices"),
        )
    return queued is not None


def _site_urls():
    # Outside a request (the timer, a test) url_for needs a request; build on SITE_URL.
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["SITE_URL"])
