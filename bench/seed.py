"""Fill the benchmark's database through the app's own functions.

Run in its own process with DATABASE_URL set, because `config.py` reads it at import time:
    python -m bench.seed demo 100        # the demo event, topped up to 100 paid donations
    python -m bench.seed bulk 100000     # then bulk-loaded to 100,000
"""

import argparse
import random
from datetime import timedelta

from sqlalchemy import case, func, insert, select

from app import create_app, totals
from app.events.demo import DONORS, MESSAGES, seed_demo
from app.events.service import counted_clause, event_progress
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    Contribution,
    Donation,
    DonationSource,
    DonationStatus,
    utcnow,
)

AMOUNTS = [500, 1000, 1000, 1500, 2000, 2000, 2500, 3000, 5000, 10000]
BATCH = 10_000


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
    db.session.commit()
    check_totals()


def bulk_load(total: int) -> None:
    """Add paid donations to the event until there are `total`, keeping the totals exact."""
    # Going through the ORM and `totals.tracking` 100,000 times takes minutes, so the rows go in
    # with bulk INSERTs instead. The totals then move by the sum of what those rows contribute,
    # summed by the database from the rows themselves and applied with the app's own atomic
    # `totals.apply` (which also bumps the version, so the partial's ETag changes as it would).
    # The sums below are each row's `Donation.contribution()` because every row `_bulk_row`
    # makes is paid, online, unrefunded, undisputed and for the event itself;
    # `check_totals` then compares the totals row with the donations table.
    rng, now = random.Random(2), utcnow()
    before = db.session.scalar(select(func.coalesce(func.max(Donation.id), 0)))
    rows = [_bulk_row(rng, now) for _ in range(total - counted_donations())]
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(Donation), rows[start : start + BATCH])
    count, raised, eligible, fees = db.session.execute(
        select(
            func.count(),
            func.sum(Donation.amount_pence),
            func.sum(case((Donation.gift_aid, Donation.amount_pence), else_=0)),
            func.sum(Donation.fee_cover_pence),
        ).where(Donation.id > before)
    ).one()
    delta = Contribution(
        raised_pence=raised,
        online_pence=raised,
        gift_aid_eligible_pence=eligible,
        fees_covered_pence=fees,
        supporters=count,
    )
    totals.apply(delta, [EVENT_SCOPE])
    db.session.commit()
    check_totals()


def _bulk_row(rng: random.Random, now) -> dict:
    paid_at = now - timedelta(seconds=rng.randint(60, 60 * 60 * 24 * 60))
    gift_aid = rng.random() < 0.5
    return {
        "sponsor_page_id": None,
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


def counted_donations() -> int:
    """How many donations count toward the totals."""
    return db.session.scalar(select(func.count()).select_from(Donation).where(counted_clause()))


def check_totals() -> None:
    """Stop if the event's totals row disagrees with its donations (the seed took a shortcut)."""
    raised, supporters = db.session.execute(
        select(
            func.coalesce(func.sum(Donation.amount_pence - Donation.refunded_pence), 0),
            func.count(),
        ).where(counted_clause())
    ).one()
    progress = event_progress()
    if (progress.raised_pence, progress.supporters) != (raised, supporters):
        raise SystemExit(
            f"totals row says {progress.raised_pence}p from {progress.supporters} supporters, "
            f"donations say {raised}p from {supporters}"
        )


def main() -> None:
    """Command line: `demo N` or `bulk N`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["demo", "bulk"])
    parser.add_argument("donations", type=int)
    args = parser.parse_args()
    with create_app().app_context():
        (seed if args.action == "demo" else bulk_load)(args.donations)


if __name__ == "__main__":
    main()
