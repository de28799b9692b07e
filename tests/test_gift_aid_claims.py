"""Gift Aid claims are records: a claim freezes its donations and their cells, is downloaded
again as the same file, is marked submitted on the day the organiser gives, and a donation is
never in two claims. Tax over-claimed (a refund after a claim) goes in Box 2 of the next claim,
once. Through the real page and command, as an organiser does it."""

import csv
import io
import re
import threading
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError

from app import create_app, totals
from app.extensions import db
from app.models import (
    AuditEntry,
    ClaimRecordChanged,
    ClaimStatus,
    Donation,
    DonationSource,
    DonationStatus,
    GiftAidClaim,
    GiftAidClaimLine,
    OverclaimSettlement,
)
from app.organiser import gift_aid_claims
from app.organiser.gift_aid_claims import ClaimNotPossible, Period, claim_deadline
from app.timefmt import LONDON
from tests import hmrc_reader
from tests.accounts import AuthActions
from tests.conftest import Factory, configure_test_event, fresh_schema
from tests.test_gift_aid_export import DECLARED

CLAIMS = "/organiser/gift-aid/claims"


def uk(day: date, hour: int = 12) -> datetime:
    """That UK day at `hour`, as a UTC time."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


TODAY = datetime.now(LONDON).date()
# A month well in the past, inside HMRC's 4 years.
FIRST = (TODAY.replace(day=1) - timedelta(days=70)).replace(day=1)
LAST = (FIRST + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def paid(make, pence: int, day: date, hour: int = 12, **changes) -> int:
    """A claimable donation paid on that UK day."""
    donation_id = make.donation(pence, **{**DECLARED, **changes})
    with make.app.app_context():
        db.session.get(Donation, donation_id).paid_at = uk(day, hour)
        db.session.commit()
    return donation_id


@pytest.fixture
def organiser(make, client) -> AuthActions:
    make.user()
    auth = AuthActions(client)
    auth.login("sandra@example.org")
    return auth


def period_args(first: date = FIRST, last: date = LAST) -> dict:
    return {"first_day": first.isoformat(), "last_day": last.isoformat()}


def start(organiser, first: date = FIRST, last: date = LAST):
    return organiser.post(CLAIMS, period_args(first, last))


def claim_id_from(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.fullmatch(rf"{CLAIMS}/(\d+)", response.headers["Location"]).group(1))


def submitted(organiser, claim_id: int, on: date = TODAY, reference: str = ""):
    return organiser.post(
        f"{CLAIMS}/{claim_id}/submitted",
        {"submitted-on": on.isoformat(), "submitted-reference": reference},
    )


def ods(client, claim_id: int) -> hmrc_reader.Schedule:
    response = client.get(f"{CLAIMS}/{claim_id}/claim.ods")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="gift-aid-claim-{claim_id}.ods"'
    )
    schedule = hmrc_reader.read(response.get_data())
    assert schedule.problems == []
    return schedule


def amounts(schedule) -> list[str]:
    return [list(line.values())[9] for line in schedule.lines]


def refund_cash(organiser, donation_id: int, pounds: str):
    """Record cash given back, through the donation's page."""
    response = organiser.post(
        f"/organiser/donations/{donation_id}/refund",
        {"refund-amount": pounds, "refund-refund_key": f"key-{donation_id}-{pounds}-x"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)


# Start, file, submitted, and the next claim -------------------------------------------


def test_start_file_submitted_and_the_next_claim_leaves_them_out(make, organiser):
    first = paid(make, 1000, FIRST + timedelta(days=2))
    second = paid(make, 2550, FIRST + timedelta(days=5), gift_aid_last_name="House-Martin")
    paid(make, 999, LAST + timedelta(days=1))  # after the period
    make.donation(700)  # no Gift Aid

    preview = organiser.client.get(CLAIMS, query_string=period_args())
    assert preview.status_code == 200
    assert "<strong>2</strong> donations, £35.50 claimed on: Gift Aid of £8.87" in preview.text

    claim_id = claim_id_from(start(organiser))
    schedule = ods(organiser.client, claim_id)
    assert schedule.box_1 == (FIRST + timedelta(days=2)).strftime("%d/%m/%y")
    assert schedule.box_2 == ""
    assert [list(line.values())[1:6] for line in schedule.lines] == [
        ["Ms", "Fiona", "Campbell", "12", "G12 8QQ"],
        ["Ms", "Fiona", "House Martin", "12", "G12 8QQ"],
    ]
    assert amounts(schedule) == ["10.00", "25.50"]
    with make.app.app_context():
        claim = db.session.get(GiftAidClaim, claim_id)
        assert (claim.status, claim.line_count, claim.amount_pence, claim.gift_aid_pence) == (
            ClaimStatus.STARTED,
            2,
            3550,
            887,
        )
        assert [line.donation_id for line in claim.lines] == [first, second]
        assert [line.gift_aid_pence for line in claim.lines] == [250, 637]
    page = organiser.client.get(f"{CLAIMS}/{claim_id}").text
    assert "Started, not yet submitted" in page

    csv_before = organiser.client.get(f"{CLAIMS}/{claim_id}/claim.csv").get_data()
    # The donor's details corrected later: the claim's file stays what was written.
    response = organiser.post(
        f"/organiser/donations/{second}/gift-aid",
        {
            "giftaid-first_name": "Fiona",
            "giftaid-last_name": "Martin",
            "giftaid-house": "14",
            "giftaid-postcode": "G12 8QQ",
            "giftaid-reason": "Moved house",
        },
    )
    assert response.status_code == 303
    assert organiser.client.get(f"{CLAIMS}/{claim_id}/claim.csv").get_data() == csv_before
    assert ods(organiser.client, claim_id).lines == schedule.lines

    response = submitted(organiser, claim_id, TODAY, "CH-12345")
    assert response.status_code == 303
    listing = organiser.client.get(CLAIMS).text
    assert f"Submitted on {TODAY.strftime('%-d %B %Y')} (HMRC reference CH-12345)" in listing

    # A donation paid later in the same period goes in the next claim, alone.
    late = paid(make, 4000, FIRST + timedelta(days=9))
    preview = organiser.client.get(CLAIMS, query_string=period_args()).text
    assert "<strong>1</strong> donation, £40.00 claimed on" in preview
    second_claim = claim_id_from(start(organiser))
    assert amounts(ods(organiser.client, second_claim)) == ["40.00"]
    with make.app.app_context():
        lines = db.session.scalars(select(GiftAidClaimLine.donation_id)).all()
        assert sorted(lines) == sorted([first, second, late])
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("gift_aid.claim_started") == 2
    assert "gift_aid.claim_submitted" in actions
    history = organiser.client.get("/organiser/history").text
    assert "Marked a Gift Aid claim submitted to HMRC" in history
    assert "HMRC reference CH-12345" in history

    # Nothing left: a third start is refused, saying so, and nothing is made.
    response = start(organiser)
    assert response.status_code == 422
    assert "No donation received in that period can be claimed" in response.text
    with make.app.app_context():
        assert db.session.scalar(select(func.count(GiftAidClaim.id))) == 2


def test_a_submitted_claim_cannot_be_submitted_again_or_discarded(make, organiser):
    paid(make, 1000, FIRST + timedelta(days=1))
    claim_id = claim_id_from(start(organiser))
    assert submitted(organiser, claim_id).status_code == 303
    again = submitted(organiser, claim_id)
    assert again.status_code == 422 and "only a started claim is submitted" in again.text
    discard = organiser.post(f"{CLAIMS}/{claim_id}/discard", {"discard-reason": "oops"})
    assert discard.status_code == 422
    assert "only a claim not yet submitted" in discard.text
    with make.app.app_context():
        claim = db.session.get(GiftAidClaim, claim_id)
        assert claim.status == ClaimStatus.SUBMITTED and len(claim.lines) == 1
        # What was claimed is kept: the app refuses to delete it.
        db.session.delete(claim.lines[0])
        with pytest.raises(ClaimRecordChanged):
            db.session.flush()
        db.session.rollback()
        line = db.session.scalar(select(GiftAidClaimLine))
        line.amount_pence = 1
        with pytest.raises(ClaimRecordChanged):
            db.session.flush()


def test_the_database_keeps_a_submitted_claims_records_whatever_sql_is_sent(make, organiser):
    paid(make, 1000, FIRST + timedelta(days=1))
    started = claim_id_from(start(organiser, FIRST, FIRST + timedelta(days=1)))
    kept_line = paid(make, 2000, FIRST + timedelta(days=3))
    kept = claim_id_from(start(organiser, FIRST + timedelta(days=2), LAST))
    assert submitted(organiser, kept).status_code == 303
    refused = [
        f"DELETE FROM gift_aid_claim_lines WHERE claim_id = {kept}",
        f"UPDATE gift_aid_claim_lines SET amount_pence = 1 WHERE claim_id = {started}",
        f"DELETE FROM gift_aid_claims WHERE id = {kept}",
        f"UPDATE gift_aid_claims SET status = 'started' WHERE id = {kept}",
    ]
    with make.app.app_context():
        for statement in refused:
            with (
                db.engine.connect() as conn,
                conn.begin(),
                pytest.raises(IntegrityError, match="a submitted claim is kept"),
            ):
                conn.execute(text(statement))
        # A started claim's lines may go: that is what discarding does.
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM gift_aid_claim_lines WHERE claim_id = {started}"))
        assert db.session.scalars(select(GiftAidClaimLine.donation_id)).all() == [kept_line]


@pytest.mark.parametrize(
    "on, message",
    [
        (TODAY + timedelta(days=1), "can&#39;t be in the future"),
        (TODAY - timedelta(days=400), "before the claim was started"),
    ],
)
def test_the_day_it_was_submitted_is_a_real_day_after_the_start(make, organiser, on, message):
    paid(make, 1000, FIRST + timedelta(days=1))
    claim_id = claim_id_from(start(organiser))
    response = submitted(organiser, claim_id, on)
    assert response.status_code == 422 and message in response.text
    assert 'aria-invalid="true"' in response.text


def test_discarding_a_claim_releases_its_donations_and_says_so_in_the_history(make, organiser):
    donation_id = paid(make, 1000, FIRST + timedelta(days=1))
    claim_id = claim_id_from(start(organiser))
    response = organiser.post(f"{CLAIMS}/{claim_id}/discard", {"discard-reason": "Wrong month"})
    assert response.status_code == 303 and response.headers["Location"] == CLAIMS
    assert organiser.client.get(f"{CLAIMS}/{claim_id}/claim.ods").status_code == 404
    with make.app.app_context():
        claim = db.session.get(GiftAidClaim, claim_id)
        assert claim.status == ClaimStatus.DISCARDED and claim.lines == []
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "gift_aid.claim_discarded")
        )
        assert entry.reason == "Wrong month" and f"Claim #{claim_id}" in entry.detail
    listing = organiser.client.get(CLAIMS).text
    assert "Discarded" in listing
    history = organiser.client.get("/organiser/history")
    assert history.status_code == 200 and "Discarded a Gift Aid claim" in history.text
    assert "£10.00 → £0.00" in history.text
    again = claim_id_from(start(organiser))
    with make.app.app_context():
        assert [line.donation_id for line in db.session.get(GiftAidClaim, again).lines] == [
            donation_id
        ]


def test_a_claim_started_then_refunded_asks_for_it_to_be_started_again(make, organiser):
    donation_id = paid(make, 2000, FIRST + timedelta(days=1), source=DonationSource.OFFLINE)
    claim_id = claim_id_from(start(organiser))
    refund_cash(organiser, donation_id, "5")
    page = organiser.client.get(f"{CLAIMS}/{claim_id}").text
    assert "1 donation has changed since this claim was started" in page
    assert "Discard this claim and start it again" in page


# A donation is never in two claims ------------------------------------------------------


def test_the_database_refuses_a_donation_in_two_claims(make, organiser):
    donation_id = paid(make, 1000, FIRST + timedelta(days=1))
    claim_id_from(start(organiser))
    with make.app.app_context():
        other = GiftAidClaim(period_from=FIRST, period_to=LAST)
        db.session.add(other)
        db.session.flush()
        db.session.add(
            GiftAidClaimLine(
                claim_id=other.id,
                donation_id=donation_id,
                position=1,
                first_name="Fiona",
                last_name="Campbell",
                house="12",
                postcode="G12 8QQ",
                donated_on=FIRST,
                amount_pence=1000,
                gift_aid_pence=250,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()


def _start_twice_at_once(app) -> list:
    """Two claims for the same period started at the same moment, in two sessions."""
    barrier = threading.Barrier(2)
    outcomes: list = []

    def go():
        with app.app_context():
            barrier.wait()
            try:
                claim, _ = gift_aid_claims.start(Period(FIRST, LAST))
                outcomes.append(claim.id)
            except ClaimNotPossible as refusal:
                outcomes.append(str(refusal))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _check_one_claim_took_them(app, donations: int, outcomes: list) -> None:
    assert len(outcomes) == 2
    started = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, str)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    with app.app_context():
        lines = db.session.scalars(select(GiftAidClaimLine)).all()
        assert len(lines) == donations
        assert {line.claim_id for line in lines} == set(started)
        assert db.session.scalar(select(func.count(GiftAidClaim.id))) == 1


def test_two_claims_started_at_once_take_each_donation_once(make):
    for n in range(20):
        paid(make, 1000 + n, FIRST + timedelta(days=n % 25))
    _check_one_claim_took_them(make.app, 20, _start_twice_at_once(make.app))


@pytest.mark.postgres
def test_two_claims_started_at_once_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        make = Factory(app)
        for n in range(20):
            paid(make, 1000 + n, FIRST + timedelta(days=n % 25))
        _check_one_claim_took_them(app, 20, _start_twice_at_once(app))
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


# Over-claims: Box 2 -------------------------------------------------------------------


def test_a_refund_after_submission_is_repaid_in_box_2_of_the_next_claim_once(make, organiser):
    kept = paid(make, 4000, FIRST + timedelta(days=1), source=DonationSource.OFFLINE)
    gone = paid(make, 1000, FIRST + timedelta(days=2), source=DonationSource.OFFLINE)
    first_claim = claim_id_from(start(organiser))
    assert submitted(organiser, first_claim).status_code == 303

    refund_cash(organiser, kept, "10")  # £10 of £40: £2.50 of tax over-claimed
    refund_cash(organiser, gone, "10")  # all of it: £2.50
    listing = organiser.client.get(CLAIMS).text
    assert "The tax claimed on what went back, <strong>£5.00</strong> in all" in listing

    paid(make, 2000, LAST)
    second_claim = claim_id_from(start(organiser))
    schedule = ods(organiser.client, second_claim)
    assert schedule.box_2 == "5.00" and amounts(schedule) == ["20.00"]
    page = organiser.client.get(f"{CLAIMS}/{second_claim}").text
    assert f"Claim #{first_claim}</a>" in page and "£2.50" in page
    assert "Nothing over-claimed is waiting to be repaid." in organiser.client.get(CLAIMS).text

    # A further part refund of one already repaid: only the new part, in the claim after.
    refund_cash(organiser, kept, "4")  # claimed £40, now £26: £3.50 in all, £2.50 repaid
    paid(make, 3000, LAST, hour=9)
    third = claim_id_from(start(organiser))
    assert ods(organiser.client, third).box_2 == "1.00"
    paid(make, 3000, LAST, hour=8)
    fourth = claim_id_from(start(organiser))
    assert ods(organiser.client, fourth).box_2 == ""  # nothing new over-claimed
    with make.app.app_context():
        settled = db.session.execute(
            select(OverclaimSettlement.claim_id, OverclaimSettlement.tax_pence).order_by(
                OverclaimSettlement.id
            )
        ).all()
        assert settled == [(second_claim, 250), (second_claim, 250), (third, 100)]
        assert db.session.get(GiftAidClaim, fourth).overclaimed_pence == 0


def test_box_2_waits_while_the_claim_with_the_donation_is_not_submitted(make, organiser):
    donation_id = paid(make, 4000, FIRST + timedelta(days=1), source=DonationSource.OFFLINE)
    first_claim = claim_id_from(start(organiser))
    refund_cash(organiser, donation_id, "40")
    paid(make, 1000, LAST)
    second = claim_id_from(start(organiser))
    assert ods(organiser.client, second).box_2 == ""  # the first was never sent to HMRC
    # Submitted after all (the organiser sent the file as it was): now it is over-claimed.
    assert submitted(organiser, first_claim).status_code == 303
    listing = organiser.client.get(CLAIMS).text
    assert "<strong>£10.00</strong> in all" in listing


def test_a_discarded_claim_gives_back_the_over_claims_it_would_have_repaid(make, organiser):
    donation_id = paid(make, 4000, FIRST + timedelta(days=1), source=DonationSource.OFFLINE)
    first_claim = claim_id_from(start(organiser))
    assert submitted(organiser, first_claim).status_code == 303
    refund_cash(organiser, donation_id, "40")
    paid(make, 1000, LAST)
    second = claim_id_from(start(organiser))
    assert ods(organiser.client, second).box_2 == "10.00"
    organiser.post(f"{CLAIMS}/{second}/discard", {})
    third = claim_id_from(start(organiser))
    assert ods(organiser.client, third).box_2 == "10.00"


# HMRC's 4 years -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "received, year_end, deadline",
    [
        (date(2022, 3, 31), (3, 31), date(2026, 3, 31)),
        (date(2022, 4, 1), (3, 31), date(2027, 3, 31)),
        (date(2022, 12, 31), (12, 31), date(2026, 12, 31)),
        (date(2023, 1, 1), (12, 31), date(2027, 12, 31)),
        (date(2023, 3, 1), (2, 29), date(2028, 2, 29)),  # a year that ends on a leap day
    ],
)
def test_hmrcs_deadline_is_4_years_after_the_accounting_period(received, year_end, deadline):
    assert claim_deadline(received, year_end) == deadline


def test_donations_past_hmrcs_deadline_are_left_out_with_the_reason(make, organiser):
    old_day = date(TODAY.year - 6, 6, 1)
    old = paid(make, 1000, old_day)
    new = paid(make, 2000, FIRST + timedelta(days=1))
    html = organiser.client.get(CLAIMS, query_string=period_args(old_day, LAST)).text
    assert "1 too old to claim" in html
    assert f">#{old}</a>" in html and "HMRC&#39;s deadline for claiming it" in html
    claim_id = claim_id_from(start(organiser, old_day, LAST))
    with make.app.app_context():
        assert [line.donation_id for line in db.session.get(GiftAidClaim, claim_id).lines] == [new]


def test_the_accounting_year_end_moves_the_deadline(make, organiser):
    # Received 4 years and 40 days ago: too old if the accounting year ended that very day,
    # still claimable if it ended two months later.
    received = (TODAY - timedelta(days=4 * 365 + 41)).replace(day=10)
    donation_id = paid(make, 1000, received)
    make.app.config["GIFT_AID_ACCOUNTING_YEAR_END"] = f"{received:%m-%d}"
    html = organiser.client.get(CLAIMS, query_string=period_args(received, LAST)).text
    assert f">#{donation_id}</a>" in html and "1 too old to claim" in html
    later = (received.replace(day=1) + timedelta(days=62)).replace(day=10)
    make.app.config["GIFT_AID_ACCOUNTING_YEAR_END"] = f"{later:%m-%d}"
    html = organiser.client.get(CLAIMS, query_string=period_args(received, LAST)).text
    assert "too old to claim" not in html and "<strong>1</strong> donation," in html


# More than 1,000 lines ----------------------------------------------------------------


@pytest.fixture
def many(make):
    """1,001 claimable donations in the period, written straight in."""
    with make.app.app_context():
        db.session.add_all(
            Donation(
                source=DonationSource.ONLINE,
                status=DonationStatus.PAID,
                amount_pence=100 + n,
                paid_at=uk(FIRST + timedelta(days=1 + n % 27)),
                **DECLARED,
            )
            for n in range(1001)
        )
        db.session.commit()


def test_a_claim_of_more_than_1000_lines_is_several_files_hmrc_accepts(many, make, organiser):
    paid(make, 5000, FIRST, source=DonationSource.OFFLINE)
    first_claim = claim_id_from(start(organiser, FIRST, FIRST))  # just that one
    assert submitted(organiser, first_claim).status_code == 303
    with make.app.app_context():
        offline = db.session.scalar(
            select(Donation.id).where(Donation.source == DonationSource.OFFLINE)
        )
    refund_cash(organiser, offline, "50")

    claim_id = claim_id_from(start(organiser, FIRST + timedelta(days=1), LAST))
    response = organiser.client.get(f"{CLAIMS}/{claim_id}/claim.ods")
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="gift-aid-claim-{claim_id}-ods.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = sorted(archive.namelist())
    assert names == [f"gift-aid-claim-{claim_id}-1.ods", f"gift-aid-claim-{claim_id}-2.ods"]
    schedules = [hmrc_reader.read(archive.read(name)) for name in names]
    assert [s.problems for s in schedules] == [[], []]
    total = sum(len(s.lines) for s in schedules)
    with make.app.app_context():
        assert total == db.session.get(GiftAidClaim, claim_id).line_count
    assert [len(s.lines) for s in schedules] == [1000, total - 1000]
    assert [s.box_2 for s in schedules] == ["12.50", ""]  # repaid once, on the first file
    page = organiser.client.get(f"{CLAIMS}/{claim_id}").text
    assert "it is 2 files in a zip" in page
    csv_zip = zipfile.ZipFile(
        io.BytesIO(organiser.client.get(f"{CLAIMS}/{claim_id}/claim.csv").data)
    )
    rows = [
        list(csv.reader(io.StringIO(csv_zip.read(name).decode("utf-8-sig"))))
        for name in sorted(csv_zip.namelist())
    ]
    assert [len(r) - 1 for r in rows] == [1000, total - 1000]


# The command --------------------------------------------------------------------------


def test_the_command_starts_lists_files_submits_and_discards(make, runner, tmp_path):
    donation_id = paid(make, 1000, FIRST + timedelta(days=1), source=DonationSource.OFFLINE)
    bad = paid(make, 900, FIRST + timedelta(days=2), gift_aid_first_name="")
    dates = ["--from", FIRST.isoformat(), "--to", LAST.isoformat()]

    result = runner.invoke(args=["giftaid", "claim", "start", *dates])
    assert result.exit_code == 0, result.output
    assert "Started claim #1" in result.output and "1 donations, £10.00 claimed on" in result.output
    assert f"donation {bad} (Campbell): First name is missing" in result.output

    result = runner.invoke(args=["giftaid", "claim", "file", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert hmrc_reader.read((tmp_path / "gift-aid-claim-1.ods").read_bytes()).problems == []
    result = runner.invoke(
        args=["giftaid", "claim", "file", "1", "--format", "csv", "--out", str(tmp_path)]
    )
    lines = (tmp_path / "gift-aid-claim-1.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].endswith(",10.00")

    result = runner.invoke(args=["giftaid", "claim", "discard", "1"])
    assert result.exit_code == 0 and "its 1 donations are released" in result.output
    result = runner.invoke(args=["giftaid", "claim", "start", *dates])
    assert "Started claim #2" in result.output
    result = runner.invoke(
        args=["giftaid", "claim", "submitted", "2", "--on", TODAY.isoformat(), "--reference", "X1"]
    )
    assert result.exit_code == 0, result.output

    with make.app.app_context():
        donation = db.session.get(Donation, donation_id)
        with totals.tracking(donation):
            donation.refunded_pence = 1000
        db.session.commit()
    result = runner.invoke(args=["giftaid", "claim", "list"])
    assert result.exit_code == 0
    assert f"#2 submitted {TODAY.isoformat()} (HMRC reference X1)" in result.output
    assert "#1 discarded" in result.output
    assert f"Over-claimed: donation {donation_id} in claim #2" in result.output
    assert "Box 2 of the next claim: £2.50" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["start", "--from", "2026-02-30", "--to", "2026-03-01"], "is not a date"),
        (["start", "--from", "2026-03-02", "--to", "2026-03-01"], "on or before its last day"),
        (["start", "--from", "2026-03-01", "--to", "2999-01-01"], "can't be in the future"),
        (["file", "99"], "There is no claim #99"),
        (["file", "1", "--format", "xlsx"], "xlsx"),
        (["submitted", "99", "--on", "2026-03-01"], "There is no claim #99"),
        (["discard", "99"], "There is no claim #99"),
    ],
)
def test_the_command_says_what_is_wrong(runner, event, args, message):
    result = runner.invoke(args=["giftaid", "claim", *args])
    assert result.exit_code != 0 and message in result.output


# The page: bad input, and who may use it -----------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"first_day": "yesterday", "last_day": "2026-01-01"},
        {"first_day": "2026-03-02", "last_day": "2026-03-01"},
        {"first_day": "", "last_day": ""},
        {"first_day": "9999-99-99"},
        {"first_day": "\u00b2\u2070\u00b2\u2076-01-01", "last_day": "2026-01-01"},
    ],
)
def test_a_period_that_is_not_one_is_explained_not_an_error(organiser, query):
    response = organiser.client.get(CLAIMS, query_string=query)
    assert response.status_code == 422
    assert "There is a problem" in response.text
    response = organiser.post(CLAIMS, query)
    assert response.status_code == 422 and "There is a problem" in response.text


@pytest.mark.parametrize("first, last", [(FIRST, TODAY + timedelta(days=3)), (date.min, date.max)])
def test_a_period_ending_in_the_future_is_not_started(make, organiser, first, last):
    paid(make, 1000, FIRST + timedelta(days=1))
    preview = organiser.client.get(CLAIMS, query_string=period_args(first, last))
    assert preview.status_code == 200
    assert "the last day can&#39;t be in the future" in preview.text
    assert "<strong>0</strong> donations" in preview.text and 'id="start-claim"' not in preview.text
    response = start(organiser, first, last)
    assert response.status_code == 422 and "can&#39;t be in the future" in response.text
    with make.app.app_context():
        assert db.session.scalar(select(func.count(GiftAidClaim.id))) == 0


def test_the_page_works_without_javascript_and_labels_everything(make, organiser):
    paid(make, 1000, FIRST + timedelta(days=1))
    html = organiser.client.get(CLAIMS, query_string=period_args()).text
    assert '<form method="get" action="/organiser/gift-aid/claims#start"' in html
    assert '<label for="first_day">First day</label>' in html
    # The start form, sent exactly as the page wrote it (its own token, its hidden period).
    form = re.search(r'<form method="post" action="([^"]+)" id="start-claim".*?</form>', html, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[0]))
    assert set(fields) == {"csrf_token", "first_day", "last_day"}
    response = organiser.client.post(form[1], data=fields)
    claim_id = claim_id_from(response)
    html = organiser.client.get(CLAIMS).text
    assert "<caption>Every Gift Aid claim, newest first</caption>" in html
    assert '<th scope="col">Box 2 (repaid)</th>' in html
    page = organiser.client.get(f"{CLAIMS}/{claim_id}").text
    assert '<label for="submitted-on">Submitted to HMRC on</label>' in page
    assert 'name="submitted-csrf_token"' in page and 'name="discard-csrf_token"' in page


@pytest.mark.parametrize("email", ["aisha@example.org", None])
def test_only_organisers_see_or_start_claims(make, client, email):
    make.participant()
    paid(make, 1000, FIRST + timedelta(days=1))
    auth = AuthActions(client)
    if email:
        auth.login(email)
    for response in (
        client.get(CLAIMS),
        auth.post(CLAIMS, period_args()),
        client.get(f"{CLAIMS}/1"),
        client.get(f"{CLAIMS}/1/claim.ods"),
    ):
        if email:
            assert response.status_code == 403
        else:
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/auth/login")
    with make.app.app_context():
        assert db.session.scalar(select(func.count(GiftAidClaim.id))) == 0


# Kept for 6 years ----------------------------------------------------------------------


def test_the_safety_purge_keeps_claims_and_declarations(make, organiser, runner):
    donation_id = paid(make, 1000, FIRST + timedelta(days=1))
    claim_id = claim_id_from(start(organiser))
    assert submitted(organiser, claim_id).status_code == 303
    result = runner.invoke(args=["safety", "purge", "--force"])
    assert result.exit_code == 0, result.output
    with make.app.app_context():
        donation = db.session.get(Donation, donation_id)
        assert donation.gift_aid_declared_at is not None and donation.gift_aid_house == "12"
        assert len(db.session.get(GiftAidClaim, claim_id).lines) == 1
    page = organiser.client.get(f"{CLAIMS}/{claim_id}").text
    kept = TODAY.replace(year=TODAY.year + 6) if (TODAY.month, TODAY.day) != (2, 29) else None
    if kept:
        assert f"{kept.strftime('%-d %B %Y')}, with the declarations of its donations" in page
    # The database refuses to delete a donation that is in a claim.
    with make.app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(delete(Donation).where(Donation.id == donation_id))
        db.session.rollback()
    privacy = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", organiser.client.get("/privacy").text))
    assert "a record of what was claimed and when, for 6 years after the claim" in privacy


def test_the_page_suggests_the_period_after_the_last_claim(make, organiser):
    paid(make, 1000, FIRST + timedelta(days=1))
    html = organiser.client.get(CLAIMS).text  # from the first unclaimed donation to yesterday
    assert f'value="{(FIRST + timedelta(days=1)).isoformat()}"' in html
    assert f'value="{(TODAY - timedelta(days=1)).isoformat()}"' in html
    claim_id_from(start(organiser))
    html = organiser.client.get(CLAIMS).text
    assert f'value="{(LAST + timedelta(days=1)).isoformat()}"' in html


def test_the_command_says_why_nothing_could_be_claimed(make, runner):
    bad = paid(make, 900, FIRST + timedelta(days=2), gift_aid_postcode="NOWHERE")
    result = runner.invoke(
        args=["giftaid", "claim", "start", "--from", FIRST.isoformat(), "--to", LAST.isoformat()]
    )
    assert result.exit_code == 1
    assert f"Left out (HMRC would refuse it) donation {bad}" in result.output
    assert "Postcode 'NOWHERE' is not a UK postcode" in result.output
    assert "No donation received in that period can be claimed" in result.output
