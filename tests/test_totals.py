"""Totals follow every change to a donation, exactly, however many writers there are."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app, totals
from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    DisputeStatus,
    Donation,
    DonationSource,
    DonationStatus,
    Totals,
    utcnow,
)
from tests.conftest import configure_test_event, fresh_schema


def read(app, scope=EVENT_SCOPE) -> Totals:
    with app.app_context():
        row = db.session.get(Totals, scope)
        db.session.expunge(row)
        return row


def change(app, donation_id, **fields):
    with app.app_context():
        donation = db.session.get(Donation, donation_id)
        with totals.tracking(donation):
            for name, value in fields.items():
                setattr(donation, name, value)
        db.session.commit()


def test_a_donation_counts_once_paid_and_follows_refunds_and_disputes(make):
    app = make.app
    donation = make.donation(5000, status=DonationStatus.PENDING, gift_aid=True)
    assert read(app).raised_pence == 0

    change(app, donation, status=DonationStatus.PAID, paid_at=utcnow())
    row = read(app)
    assert (row.raised_pence, row.online_pence, row.supporters) == (5000, 5000, 1)
    assert row.gift_aid_pence == 1250

    change(app, donation, refunded_pence=2000)
    row = read(app)
    assert (row.raised_pence, row.refunded_pence, row.gift_aid_eligible_pence) == (3000, 2000, 3000)

    change(app, donation, dispute_status=DisputeStatus.OPEN)  # an inquiry: no money moves
    assert read(app).raised_pence == 3000

    change(app, donation, disputed_pence=3000)  # Stripe withdrew the disputed funds
    row = read(app)
    assert (row.raised_pence, row.disputed_pence, row.supporters) == (0, 3000, 0)

    change(app, donation, dispute_status=DisputeStatus.WON, disputed_pence=0)
    row = read(app)
    assert (row.raised_pence, row.disputed_pence, row.supporters) == (3000, 0, 1)

    change(app, donation, refunded_pence=5000)
    row = read(app)
    assert (row.raised_pence, row.refunded_pence, row.supporters) == (0, 5000, 0)


def test_offline_money_is_split_out_and_covered_fees_are_counted(make):
    app = make.app
    make.donation(2000, source=DonationSource.OFFLINE)
    make.donation(1000, fee_cover_pence=36)
    row = read(app)
    assert (row.raised_pence, row.online_pence, row.offline_pence) == (3000, 1000, 2000)
    assert row.fees_covered_pence == 36


def test_a_refund_of_the_gift_and_part_of_the_fee_still_counts_the_fee_kept(make):
    """Refunds come off the gift first: refunding £10.10 of £10.00 + 35p fee cover leaves 25p
    with the charity, and the totals must say so (what Stripe kept, to the penny)."""
    app = make.app
    donation = make.donation(1000, fee_cover_pence=35)
    change(app, donation, refunded_pence=1010)
    row = read(app)
    assert (row.raised_pence, row.fees_covered_pence, row.refunded_pence) == (0, 25, 1010)
    assert row.supporters == 0  # nothing of the gift is left
    change(app, donation, refunded_pence=1035)
    row = read(app)
    assert (row.raised_pence, row.fees_covered_pence) == (0, 0)


def test_page_donations_move_the_page_and_the_event(make):
    app = make.app
    page = make.participant()
    make.donation(700, page_id=page)
    assert read(app, f"page:{page}").raised_pence == 700
    assert read(app).raised_pence == 700


def test_changes_that_count_for_nothing_leave_the_version_alone(make):
    app = make.app
    version = read(app).version
    make.donation(1000, status=DonationStatus.EXPIRED)
    assert read(app).version == version


def test_donation_states_only_move_forward():
    donation = Donation(status=DonationStatus.PAID)
    assert not donation.can_move_to(DonationStatus.PENDING)
    assert not donation.can_move_to(DonationStatus.EXPIRED)
    assert Donation(status=DonationStatus.PENDING).can_move_to(DonationStatus.PAID)
    assert Donation(status=DonationStatus.PROCESSING).can_move_to(DonationStatus.FAILED)


def _pay_many_at_once(app, page_id, count=50):
    def pay(i):
        with app.app_context():
            donation = Donation(
                sponsor_page_id=page_id,
                source=DonationSource.ONLINE,
                amount_pence=100 + i,
                donor_name=f"Donor {i}",
            )
            with totals.tracking(donation):
                donation.status = DonationStatus.PAID
                donation.paid_at = utcnow()
            db.session.commit()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(pay, range(count)))
    return sum(100 + i for i in range(count))


def test_totals_stay_exact_under_concurrent_writes(make):
    page = make.participant()
    expected = _pay_many_at_once(make.app, page)
    assert read(make.app).raised_pence == expected
    assert read(make.app, f"page:{page}").raised_pence == expected
    assert read(make.app).supporters == 50


@pytest.mark.postgres
def test_totals_stay_exact_under_concurrent_writes_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        expected = _pay_many_at_once(app, None)
        assert read(app).raised_pence == expected
        assert read(app).supporters == 50
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
