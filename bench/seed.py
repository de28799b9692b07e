"""Fill the benchmark's database through the app's own functions.

Run in its own process with DATABASE_URL set, because `config.py` reads it at import time:
    python -m bench.seed demo 100            # the demo event, topped up to 100 paid donations
    python -m bench.seed participants 1000   # more participants, each with a published page
    python -m bench.seed bulk 100000         # then bulk-loaded to 100,000 donations
    python -m bench.seed teams 100           # then 100 teams, every page in one
"""

import argparse
import random
from datetime import timedelta

from sqlalchemy import case, func, insert, select

from app import create_app, totals
from app.events.demo import DONORS, MESSAGES, seed_demo
from app.events.service import counted_clause, public_pages_clause
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Contribution,
    Donation,
    DonationSource,
    DonationStatus,
    NewsItem,
    NewsKind,
    PageStatus,
    Role,
    SponsorPage,
    Team,
    TeamMember,
    Totals,
    User,
    team_scope,
    utcnow,
)

AMOUNTS = [500, 1000, 1000, 1500, 2000, 2000, 2500, 3000, 5000, 10000]
BATCH = 10_000
# A busy day's feed: the news partial shows up to its FEED_LENGTH newest.
NEWS_ITEMS = 40


def seed(donations: int) -> None:
    """The demo event with its participants and pages, topped up to `donations` donations."""
    seed_demo(random.Random(2027))
    missing = donations - counted_donations()
    if missing < 0:
        raise SystemExit(f"the demo seed alone makes more than {donations} donations")
    rng, now = random.Random(1), utcnow()
    for minute in range(missing):
        donation = Donation(
            sponsor_page_id=None,
            source=DonationSource.ONLINE,
            amount_pence=rng.choice(AMOUNTS),
            donor_name=rng.choice(DONORS),
            donor_email="donor@example.org",
            message=rng.choice(MESSAGES),
            created_at=now - timedelta(minutes=minute + 2),
        )
        with totals.tracking(donation):
            donation.status = DonationStatus.PAID
            donation.paid_at = now - timedelta(minutes=minute)
    for number in range(NEWS_ITEMS):
        db.session.add(
            NewsItem(
                kind=NewsKind.SAFETY if number % 5 == 0 else NewsKind.NEWS,
                body=f"Update {number}: {rng.choice(DONORS)} is over the edge! 🎉",
                created_at=now - timedelta(minutes=NEWS_ITEMS - number),
            )
        )
    db.session.commit()
    check_totals()


def add_participants(total: int) -> None:
    """Add participants, each with a published sponsor page and its totals row, up to `total`."""
    have = db.session.scalar(select(func.count()).select_from(SponsorPage))
    now, first = utcnow(), have + 1
    # Bulk INSERTs, as for donations: a thousand password hashes would take minutes, and these
    # accounts are never logged into (an empty hash matches no password).
    users = [
        {"email": f"participant{n}@example.org", "name": f"Participant {n}", "password_hash": "",
         "role": Role.PARTICIPANT, "created_at": now}
        for n in range(first, total + 1)
    ]  # fmt: skip
    if not users:
        return
    db.session.execute(insert(User), users)
    ids = db.session.scalars(
        select(User.id).where(User.email.in_([u["email"] for u in users])).order_by(User.id)
    ).all()
    pages = [
        {"participant_id": user_id, "slug": f"participant-{n}", "title": f"Participant {n} abseils",
         "story": "Seventy metres for the group.", "target_pence": 25_000,
         "status": PageStatus.PUBLISHED, "approved_at": now, "created_at": now}
        for n, user_id in zip(range(first, total + 1), ids, strict=True)
    ]  # fmt: skip
    db.session.execute(insert(SponsorPage), pages)
    page_ids = db.session.scalars(select(SponsorPage.id)).all()
    known = set(db.session.scalars(select(Totals.scope)))
    rows = [{"scope": f"page:{i}"} for i in page_ids if f"page:{i}" not in known]
    db.session.execute(insert(Totals), rows)
    db.session.commit()


def bulk_load(total: int) -> None:
    """Add paid donations until there are `total`, keeping every scope's totals exact.

    Half go to the event itself; a tenth to the first sponsor page (the one the benchmark
    loads, so its own list of donors is long); the rest are spread over every public page."""
    # Going through the ORM and `totals.tracking` 100,000 times takes minutes, so the rows go in
    # with bulk INSERTs instead. The totals then move by the sum of what those rows contribute,
    # summed by the database from the rows themselves and applied with the app's own atomic
    # `totals.apply` (which also bumps the version, so the partial's ETag changes as it would).
    # The sums below are each row's `Donation.contribution()` because every row `_bulk_row`
    # makes is paid, online, unrefunded and undisputed; `check_totals` then compares every
    # totals row with the donations table.
    rng, now = random.Random(2), utcnow()
    pages = db.session.scalars(
        select(SponsorPage.id).where(public_pages_clause()).order_by(SponsorPage.id)
    ).all()
    before = db.session.scalar(select(func.coalesce(func.max(Donation.id), 0)))
    rows = [_bulk_row(rng, now, _page_for(rng, pages)) for _ in range(total - counted_donations())]
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(Donation), rows[start : start + BATCH])
    by_page = db.session.execute(
        select(
            Donation.sponsor_page_id,
            func.count(),
            func.sum(Donation.amount_pence),
            func.sum(case((Donation.gift_aid, Donation.amount_pence), else_=0)),
            func.sum(Donation.fee_cover_pence),
        )
        .where(Donation.id > before)
        .group_by(Donation.sponsor_page_id)
    ).all()
    for page_id, count, raised, eligible, fees in by_page:
        delta = Contribution(
            raised_pence=raised,
            online_pence=raised,
            gift_aid_eligible_pence=eligible,
            fees_covered_pence=fees,
            supporters=count,
        )
        scopes = [EVENT_SCOPE] if page_id is None else [EVENT_SCOPE, f"page:{page_id}"]
        team = totals.page_team_scope(page_id) if page_id is not None else None
        totals.apply(delta, scopes + ([team] if team else []))
    db.session.commit()
    check_totals()


def _page_for(rng: random.Random, pages: list[int]) -> int | None:
    draw = rng.random()
    if draw < 0.5 or not pages:
        return None
    return pages[0] if draw < 0.6 else rng.choice(pages)


def _bulk_row(rng: random.Random, now, page_id: int | None) -> dict:
    paid_at = now - timedelta(seconds=rng.randint(60, 60 * 60 * 24 * 60))
    gift_aid = rng.random() < 0.5
    return {
        "sponsor_page_id": page_id,
        "source": DonationSource.ONLINE,
        "status": DonationStatus.PAID,
        "amount_pence": rng.choice(AMOUNTS),
        "fee_cover_pence": 0,
        "refunded_pence": 0,
        "donor_name": rng.choice(DONORS),
        "donor_email": "donor@example.org",
        "message": rng.choice(MESSAGES),
        "anonymous": rng.random() < 0.1,
        "hide_amount": rng.random() < 0.1,
        "gift_aid": gift_aid,
        "gift_aid_declaration_version": "2026-1" if gift_aid else "",
        "gift_aid_declared_at": paid_at if gift_aid else None,
        "created_at": paid_at - timedelta(minutes=2),
        "paid_at": paid_at,
    }


def add_teams(total: int) -> None:
    """Add teams up to `total`, put every page not in a team into one (round the teams), and
    move each page's totals into its team's, as joining does."""
    have = db.session.scalar(select(func.count()).select_from(Team))
    now = utcnow()
    db.session.execute(
        insert(Team),
        [{"slug": f"team-{n}", "name": f"Team {n}", "story": "Together over the edge.",
          "created_at": now, "updated_at": now} for n in range(have + 1, total + 1)],
    )  # fmt: skip
    team_ids = db.session.scalars(select(Team.id).order_by(Team.id)).all()
    known = set(db.session.scalars(select(Totals.scope)))
    db.session.execute(
        insert(Totals), [{"scope": team_scope(t)} for t in team_ids if team_scope(t) not in known]
    )
    in_a_team = select(TeamMember.sponsor_page_id)
    free = db.session.scalars(
        select(SponsorPage.id).where(SponsorPage.id.not_in(in_a_team)).order_by(SponsorPage.id)
    ).all()
    members = [
        {"sponsor_page_id": page_id, "team_id": team_ids[i % len(team_ids)], "joined_at": now,
         "approved_at": now} for i, page_id in enumerate(free)
    ]  # fmt: skip
    if members:
        db.session.execute(insert(TeamMember), members)
    for member in members:
        page = db.session.get(Totals, f"page:{member['sponsor_page_id']}")
        money = Contribution(*(getattr(page, f) for f in Contribution.__dataclass_fields__))
        totals.apply(money, [team_scope(member["team_id"])])
    db.session.commit()
    check_totals()


def counted_donations() -> int:
    """How many donations count toward the totals."""
    return db.session.scalar(select(func.count()).select_from(Donation).where(counted_clause()))


def check_totals() -> None:
    """Stop if any totals row disagrees with its donations (the seed took a shortcut)."""
    net = func.coalesce(func.sum(Donation.amount_pence - Donation.refunded_pence), 0)
    counted = select(net, func.count()).where(counted_clause())
    expected = {EVENT_SCOPE: tuple(db.session.execute(counted).one())}
    by_page = counted.add_columns(Donation.sponsor_page_id).group_by(Donation.sponsor_page_id)
    for raised, supporters, page_id in db.session.execute(by_page):
        if page_id is not None:
            expected[f"page:{page_id}"] = (raised, supporters)
    by_team = counted.add_columns(Donation.team_id).group_by(Donation.team_id)
    teams = {
        f"team:{team_id}": (raised, supporters)
        for raised, supporters, team_id in db.session.execute(by_team)
        if team_id is not None
    }
    members = select(TeamMember.sponsor_page_id, TeamMember.team_id).where(TeamMember.counts)
    for page_id, team_id in db.session.execute(members):
        page = expected.get(f"page:{page_id}", (0, 0))
        team = teams.get(f"team:{team_id}", (0, 0))
        teams[f"team:{team_id}"] = (team[0] + page[0], team[1] + page[1])
    expected.update(teams)
    for scope, raised, supporters in db.session.execute(
        select(Totals.scope, Totals.raised_pence, Totals.supporters)
    ):
        if (raised, supporters) != expected.get(scope, (0, 0)):
            raise SystemExit(
                f"totals row {scope} says {raised}p from {supporters} supporters, "
                f"donations say {expected.get(scope, (0, 0))}"
            )


def main() -> None:
    """Command line: `demo N`, `participants N`, `bulk N` or `teams N`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["demo", "participants", "bulk", "teams"])
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    actions = {
        "demo": seed,
        "participants": add_participants,
        "bulk": bulk_load,
        "teams": add_teams,
    }
    with create_app(env="development").app_context():
        actions[args.action](args.count)


if __name__ == "__main__":
    main()
