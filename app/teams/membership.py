"""Joining, leaving and moving team, and merging teams, with the team totals kept exact.

A page's money counts for its team through the page (donations keep only their page), so
when a page changes team its whole totals row moves from one team's row to the other's, in
the same transaction. Every change here locks the page's totals row before it reads or
writes the membership; `totals.tracking` updates that row before it reads the team, so a
donation paid at the same moment lands either before the move (and moves with the page)
or after it (in the new team), never in the team just left."""

from dataclasses import fields

from sqlalchemy import select, update

from app import totals
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Contribution,
    Donation,
    JoinApproval,
    SponsorPage,
    Team,
    TeamMember,
    Totals,
    team_scope,
    utcnow,
)

_COLUMNS = [f.name for f in fields(Contribution)]


class MembershipError(Exception):
    """The change cannot be made; the message says why, for the participant."""


def membership_of(page: SponsorPage) -> TeamMember | None:
    """The page's place in a team, approved or waiting, if any."""
    return db.session.get(TeamMember, page.id)


def needs_approval(team: Team, by_organiser: bool = False) -> bool:
    """Whether a new member waits for the captain or an organiser before counting."""
    return not by_organiser and team.join_approval != JoinApproval.OPEN


def join(page: SponsorPage, team: Team, by_organiser: bool = False) -> TeamMember:
    """Put the page in `team` (leaving any other): counted at once, or waiting for approval
    when the team asks for it. The caller commits."""
    if not team.is_public:
        raise MembershipError("That team is not taking new members.")
    _lock_page_totals(page.id)
    member = membership_of(page)
    if member is not None and member.team_id == team.id:
        return member
    if member is not None:
        _leave_locked(member)
    approved = None if needs_approval(team, by_organiser) else utcnow()
    member = TeamMember(sponsor_page_id=page.id, team_id=team.id, approved_at=approved)
    db.session.add(member)
    db.session.flush()
    if approved is not None:
        _move_page_money(page.id, to_team=team.id)
    return member


def approve(member: TeamMember) -> None:
    """Let a waiting member in: their page's money starts counting for the team."""
    _lock_page_totals(member.sponsor_page_id)
    db.session.refresh(member)
    if member.approved_at is not None:
        return
    member.approved_at = utcnow()
    db.session.flush()
    _move_page_money(member.sponsor_page_id, to_team=member.team_id)


def leave(page: SponsorPage) -> None:
    """Take the page out of its team; its money leaves the team's total with it."""
    _lock_page_totals(page.id)
    member = membership_of(page)
    if member is None:
        raise MembershipError("Your page is not in a team.")
    _leave_locked(member)


def _leave_locked(member: TeamMember) -> None:
    if member.approved_at is not None:
        _move_page_money(member.sponsor_page_id, from_team=member.team_id)
    if member.team.captain_page_id == member.sponsor_page_id:
        member.team.captain_page_id = None  # organisers run it until someone else leads it
    db.session.delete(member)
    db.session.flush()


def merge(team: Team, into: Team) -> None:
    """An organiser folds `team` into `into`: members, gifts to the team and its totals move;
    the old team is kept (hidden, pointing at the new one) so its address leads there. Call it
    in a write transaction (`database.begin_write`); the caller commits."""
    if team.id == into.id:
        raise MembershipError("Choose a different team to merge into.")
    if not into.is_public:
        raise MembershipError("Merge into a team that is shown to the public.")
    # The event's row, then the team's, before anything moves: a team's paper sheet being
    # saved now (app/paper/sheets.py takes them in that order) lands wholly before the merge,
    # its gifts then moved with the rest, or after it, in the team merged into.
    for scope in (EVENT_SCOPE, team.totals_scope):
        db.session.execute(select(Totals.scope).where(Totals.scope == scope).with_for_update())
    # Gifts to the team itself: the donations' own row locks wait for any being paid now.
    db.session.execute(
        update(Donation)
        .where(Donation.team_id == team.id)
        .values(team_id=into.id)
        .execution_options(synchronize_session=False)
    )
    pages = db.session.scalars(
        select(TeamMember.sponsor_page_id)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.sponsor_page_id)
    ).all()
    for page_id in pages:
        _lock_page_totals(page_id)
    # Its members' money is in its row, with what was given to the team: all of it moves.
    money = _locked_contribution(team.totals_scope)
    totals.apply(Contribution() - money, [team.totals_scope])
    totals.apply(money, [into.totals_scope])
    db.session.execute(
        update(TeamMember)
        .where(TeamMember.team_id == team.id)
        .values(team_id=into.id)
        .execution_options(synchronize_session=False)
    )
    team.merged_into_id = into.id
    team.hidden_at = team.hidden_at or utcnow()
    db.session.flush()
    db.session.expire_all()


def _lock_page_totals(page_id: int) -> None:
    # SELECT ... FOR UPDATE on PostgreSQL; on SQLite the write lock comes with the first write.
    # The event's row first, as every donation takes it first: one order, so no deadlock.
    for scope in (EVENT_SCOPE, f"page:{page_id}"):
        db.session.execute(select(Totals.scope).where(Totals.scope == scope).with_for_update())


def _locked_contribution(scope: str) -> Contribution:
    row = db.session.execute(
        select(*(getattr(Totals, name) for name in _COLUMNS))
        .where(Totals.scope == scope)
        .with_for_update()
    ).one()
    return Contribution(*row)


def _move_page_money(page_id: int, from_team: int | None = None, to_team: int | None = None):
    money = _locked_contribution(f"page:{page_id}")
    # Lock team rows in one order, so two pages moving opposite ways cannot deadlock.
    for team_id, sign in sorted((t, s) for t, s in ((from_team, -1), (to_team, 1)) if t):
        delta = money if sign > 0 else Contribution() - money
        totals.apply(delta, [team_scope(team_id)])
