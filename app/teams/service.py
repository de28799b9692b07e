"""Teams: finding them, who may run them, their progress, members and leaderboard."""

import re
from dataclasses import dataclass
from typing import IO

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import String, cast, func, literal, select

from app import totals
from app.events.service import Progress, progress_from_row, progress_query
from app.extensions import db
from app.images import service as images
from app.models import SponsorPage, Team, TeamMember, Totals, User, team_scope, utcnow
from app.pages import photos
from app.pages.service import suggest_slug

SLUG_MIN, SLUG_MAX = 3, 40
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
RESERVED_SLUGS = frozenset({"new", "progress", "join", "leave", "teams"})


def team_scope_expression():
    """SQL for a team's totals key, 'team:<id>', for joins."""
    return literal("team:") + cast(Team.id, String)


# Who may see and change what -----------------------------------------------------------


def may_manage(user, team: Team) -> bool:
    """Its captain (the participant whose page leads it), or an organiser."""
    if not user.is_authenticated:
        return False
    return user.is_organiser or (
        team.captain_page is not None and team.captain_page.participant_id == user.id
    )


def viewable_team(slug: str) -> Team:
    """The team at /t/<slug>, or 404: a hidden team exists only for its managers. A team
    merged into another leads there."""
    team = db.session.scalar(select(Team).where(Team.slug == slug.lower()))
    if team is not None and team.merged_into_id is not None:
        abort(_redirect_to(db.session.get(Team, team.merged_into_id)))
    if team is None or not (team.is_public or may_manage(current_user, team)):
        abort(404)
    return team


def public_team_or_404(slug: str | None) -> Team | None:
    """A team anyone may give to (None when no team was named); 404 otherwise."""
    if slug is None:
        return None
    team = db.session.scalar(select(Team).where(Team.slug == str(slug).lower(), Team.is_public))
    if team is None:
        abort(404)
    return team


def _redirect_to(team: Team):
    # The same place (page, bar, sponsor choice...) at the team it was merged into.
    location = url_for(request.endpoint, **{**request.view_args, "slug": team.slug})
    response = redirect(location, 301 if request.method in ("GET", "HEAD") else 308)
    response.headers["Cache-Control"] = "no-cache"
    return response


def slug_problem(slug: str, team_id: int | None = None) -> str | None:
    """Why `slug` can't be this team's address, in words; None if it can."""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return f"Use between {SLUG_MIN} and {SLUG_MAX} characters"
    if not _SLUG.fullmatch(slug):
        return "Use only lowercase letters, numbers and single hyphens, like carers-group"
    if slug in RESERVED_SLUGS:
        return "That address is kept for the website itself. Try another"
    taken = select(Team.id).where(Team.slug == slug)
    if team_id is not None:
        taken = taken.where(Team.id != team_id)
    if db.session.scalar(taken) is not None:
        return "Another team has that address. Try another"
    return None


def free_slug(name: str) -> str:
    """A free team address made from its name."""
    base = suggest_slug(name)
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base[: SLUG_MAX - 4]}-{n}"
        if slug_problem(candidate) is None:
            return candidate
    return f"team-{utcnow():%H%M%S%f}"


# Changing teams --------------------------------------------------------------------------


def create_team(name: str, captain: SponsorPage | None = None, **fields) -> Team:
    """A new team with its totals row; its captain (if a participant made it) joins it at
    once. The caller commits."""
    from app.teams import membership

    team = Team(name=name, slug=fields.pop("slug", None) or free_slug(name), **fields)
    team.captain_page = captain
    db.session.add(team)
    db.session.flush()
    totals.ensure_scope(team.totals_scope)
    if captain is not None:
        membership.join(captain, team, by_organiser=True)
    return team


def update_team(team: Team, **fields) -> None:
    """Save edits (an organiser renames; captains edit too); a new target refetches bars."""
    if fields.get("target_pence", team.target_pence) != team.target_pence:
        totals.touch(team.totals_scope)
    for name, value in fields.items():
        setattr(team, name, value)


def set_hidden(team: Team, hidden: bool) -> None:
    """An organiser hides a team from the public, or shows it again."""
    team.hidden_at = (team.hidden_at or utcnow()) if hidden else None
    totals.touch(team.totals_scope)


def replace_photo(team: Team, upload: IO[bytes], alt: str) -> None:
    """Check, clean and store the team's photo, like a sponsor page's. Raises PhotoError."""
    image = images.store(photos.clean_jpeg(upload))
    old, team.photo = team.photo_sha256, image
    team.photo_alt = alt
    db.session.flush()
    if old and old != image.sha256:
        images.release(old)


# Reading ---------------------------------------------------------------------------------


def team_progress(team_id: int) -> Progress | None:
    """A team's progress toward its own target, in one primary-key read."""
    scope = team_scope(team_id)
    row = db.session.execute(
        progress_query(Team.target_pence)
        .join(Team, Team.id == team_id)
        .where(Totals.scope == scope)
    ).first()
    return progress_from_row(scope, row)


@dataclass(frozen=True)
class Member:
    """One line of a team's member list."""

    name: str
    slug: str
    raised_pence: int
    approved: bool
    page_id: int
    # Shown beside the name only while anyone may see the page (else its initials).
    photo_sha256: str | None = None


def members(team: Team, include_waiting: bool = False) -> list[Member]:
    """The team's public member pages with what each raised, most first (and, for its
    managers, those waiting to be let in)."""
    query = (
        select(
            User.name,
            SponsorPage.slug,
            Totals.raised_pence,
            TeamMember.approved_at,
            SponsorPage.id,
            SponsorPage.photo_sha256,
            SponsorPage.is_public,
        )
        .join(SponsorPage, SponsorPage.id == TeamMember.sponsor_page_id)
        .join(User, User.id == SponsorPage.participant_id)
        .join(Totals, Totals.scope == literal("page:") + cast(SponsorPage.id, String))
        .where(TeamMember.team_id == team.id)
        .order_by(Totals.raised_pence.desc(), User.name)
    )
    if not include_waiting:
        query = query.where(TeamMember.counts, SponsorPage.is_public)
    return [
        Member(name, slug, raised, approved is not None, page_id, photo if public else None)
        for name, slug, raised, approved, page_id, photo, public in db.session.execute(query)
    ]


@dataclass(frozen=True)
class TeamEntry:
    """One team's line on the event page's team leaderboard."""

    name: str
    slug: str
    raised_pence: int
    target_pence: int
    members: int
    photo_sha256: str | None = None


def leaderboard(limit: int = 10) -> list[TeamEntry]:
    """Public teams, most raised first: one indexed join per team, never a sum of donations."""
    counted = (
        select(func.count())
        .select_from(TeamMember)
        .join(SponsorPage, SponsorPage.id == TeamMember.sponsor_page_id)
        .where(TeamMember.team_id == Team.id, TeamMember.counts, SponsorPage.is_public)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Team.name, Team.slug, Totals.raised_pence, Team.target_pence, counted, Team.photo_sha256
        )
        .join(Totals, Totals.scope == team_scope_expression())
        .where(Team.is_public)
        .order_by(Totals.raised_pence.desc(), Team.name)
        .limit(limit)
    ).all()
    return [TeamEntry(*row) for row in rows]


def public_teams(include_hidden: bool = False) -> list[Team]:
    """Teams a participant may join, by name (with hidden ones, for organisers)."""
    query = select(Team).where(Team.merged_into_id.is_(None)).order_by(Team.name)
    if not include_hidden:
        query = query.where(Team.is_public)
    return list(db.session.scalars(query))


def find_team(slug: str) -> Team | None:
    """The team at this address, public or not (for organisers choosing a merge)."""
    return db.session.scalar(select(Team).where(Team.slug == slug.strip().lower()))


def surviving_team(team: Team) -> Team:
    """The team that now holds `team`'s members and money: itself, or the team it was merged
    into (following merges of merges), where anything still given to it belongs."""
    seen = {team.id}
    while team.merged_into_id is not None:
        into = db.session.get(Team, team.merged_into_id)
        if into is None or into.id in seen:
            break
        seen.add(into.id)
        team = into
    return team


def merged_into(team: Team) -> list[int]:
    """The ids of `team` and of every team merged into it (directly or through another)."""
    merged = dict(
        db.session.execute(
            select(Team.id, Team.merged_into_id).where(Team.merged_into_id.is_not(None))
        ).all()
    )
    ids, grew = {team.id}, True
    while grew:
        more = {old for old, into in merged.items() if into in ids} - ids
        ids |= more
        grew = bool(more)
    return sorted(ids)


def captained_by(page: SponsorPage | None) -> Team | None:
    """The team (not merged away) this page's participant captains, if any."""
    if page is None:
        return None
    return db.session.scalar(
        select(Team)
        .where(Team.captain_page_id == page.id, Team.merged_into_id.is_(None))
        .order_by(Team.id)
        .limit(1)
    )


def team_of_page(page_id: int) -> Team | None:
    """The team a page counts for (approved membership), if any."""
    return db.session.scalar(
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.sponsor_page_id == page_id, TeamMember.counts)
    )


def public_team_progress_query(slug):
    """A public team's progress row, found by its address (a value or a bindparam), with
    the team's id last: the fast path's query and the same rule as every other reader."""
    return (
        progress_query(Team.target_pence)
        .add_columns(Team.id)
        .join(Team, Totals.scope == team_scope_expression())
        .where(Team.slug == slug, Team.is_public)
    )


def team_photo_audience(sha256: str) -> str | None:
    """Who may see a team photo: "public" if a public team shows it, "private" if only
    teams the current user runs do, else None."""
    audience = None
    for team in db.session.scalars(select(Team).where(Team.photo_sha256 == sha256)):
        if team.is_public:
            return "public"
        if may_manage(current_user, team):
            audience = "private"
    return audience


def team_names_by_page() -> dict[int, str]:
    """Each page's team (the one its money counts for), for organisers' lists and exports:
    one query, however many rows they have."""
    rows = db.session.execute(
        select(TeamMember.sponsor_page_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.counts)
    )
    return dict(rows.all())


def team_names_by_participant() -> dict[int, str]:
    """Each participant's team, by their user id (for the day's roster)."""
    rows = db.session.execute(
        select(SponsorPage.participant_id, Team.name)
        .join(TeamMember, TeamMember.sponsor_page_id == SponsorPage.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.counts)
    )
    return dict(rows.all())
