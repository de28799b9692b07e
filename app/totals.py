"""Keeping the totals exact: every change to a donation moves them by the difference it makes."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields

from sqlalchemy import select, update

from app.extensions import db
from app.models import EVENT_SCOPE, Contribution, Donation, TeamMember, Totals, team_scope

_COLUMNS = [f.name for f in fields(Contribution)]


def scopes_of(donation: Donation) -> list[str]:
    """The totals rows a donation counts towards: the event's, and its sponsor page's or its
    team's if any. (A page's team is added by `tracking`, which must read it under a lock.)"""
    if donation.sponsor_page_id is not None:
        return [EVENT_SCOPE, f"page:{donation.sponsor_page_id}"]
    if donation.team_id is not None:
        return [EVENT_SCOPE, team_scope(donation.team_id)]
    return [EVENT_SCOPE]


def page_team_scope(sponsor_page_id: int) -> str | None:
    """The totals key of the team a page's money counts for now, if any.

    Read only after this transaction has updated the page's totals row: a member joining,
    leaving or moving (app/teams/membership.py) locks that row first, so the team read here
    is the one the page's whole total sits in, never one it just left."""
    team_id = db.session.scalar(
        select(TeamMember.team_id).where(
            TeamMember.sponsor_page_id == sponsor_page_id, TeamMember.counts
        )
    )
    return None if team_id is None else team_scope(team_id)


def apply(delta: Contribution, scopes: list[str]) -> None:
    """Add `delta` to each scope's row in one UPDATE each: atomic under concurrent writers,
    because the database adds to the stored value rather than writing one we read earlier."""
    if not _moves_anything(delta):
        return
    changes = {name: getattr(Totals, name) + getattr(delta, name) for name in _COLUMNS}
    for scope in scopes:
        db.session.execute(
            update(Totals)
            .where(Totals.scope == scope)
            .values(**changes, version=Totals.version + 1)
            .execution_options(synchronize_session=False)
        )


@contextmanager
def tracking(donation: Donation) -> Iterator[Donation]:
    """Change a donation inside this block and the totals follow, in the same transaction,
    with any fundraiser nudge (first donation, halfway, target) the change earned.

    The caller must hold the donation's row lock (or have just created it), so that two
    requests never both start from the same 'before'."""
    before = donation.contribution() if donation.id is not None else Contribution()
    yield donation
    if donation.id is None:
        db.session.add(donation)
        db.session.flush()
    move(donation.contribution() - before, donation)


def move(delta: Contribution, donation: Donation) -> None:
    """Move the totals `donation` counts towards by `delta`: the event's, its page's or team's,
    and the team its page counts for now; then any nudge the page's new total earned. Used by
    `tracking`, and directly by a caller that saves many donations of one page at once."""
    apply(delta, scopes_of(donation))
    if donation.sponsor_page_id is None:
        return
    if _moves_anything(delta):
        team = page_team_scope(donation.sponsor_page_id)
        if team is not None:
            apply(delta, [team])
    # Imported here: nudges reads the event and pages, which import this module.
    from app.nudges.service import after_page_total_moved

    after_page_total_moved(donation.sponsor_page_id, delta)


def _moves_anything(delta: Contribution) -> bool:
    return any(getattr(delta, name) for name in _COLUMNS)


def touch(scope: str) -> None:
    """Mark a scope changed (its target or close time moved) so browsers fetch the new bar."""
    db.session.execute(
        update(Totals)
        .where(Totals.scope == scope)
        .values(version=Totals.version + 1)
        .execution_options(synchronize_session=False)
    )


def ensure_scope(scope: str) -> None:
    """Create a scope's totals row if it is not there yet."""
    if db.session.get(Totals, scope) is None:
        db.session.add(Totals(scope=scope))
        db.session.flush()
