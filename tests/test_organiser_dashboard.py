"""The organiser dashboard: each figure against the donations in the database, in every state;
the live totals fragment; the donations table's search, filters and pages; participants."""

import re

import pytest

from app.extensions import db
from app.models import (
    DisputeStatus,
    Donation,
    DonationSource,
    DonationStatus,
    Role,
)

FIGURES = (
    "raised",
    "online",
    "offline",
    "gift-aid-eligible",
    "gift-aid",
    "fees-covered",
    "refunded",
    "disputed",
    "held",
    "supporters",
)


def every_kind_of_donation(make) -> None:
    """One donation in each status, source, refund and dispute state, to the event and a page."""
    page = make.participant()
    paid, offline = DonationStatus.PAID, DonationSource.OFFLINE
    make.donation(2000, gift_aid=True, fee_cover_pence=51)
    make.donation(3000, page_id=page, refunded_pence=500, gift_aid=True)
    make.donation(1500, refunded_pence=1500)  # fully refunded
    make.donation(2500, refunded_pence=2536, fee_cover_pence=36)  # refunded with its fee
    # A chargeback Stripe has withdrawn the money for; a partial one; an inquiry (no money moved).
    make.donation(
        4000,
        page_id=page,
        dispute_status=DisputeStatus.OPEN,
        disputed_pence=4000,
        fee_cover_pence=80,
    )
    make.donation(3500, dispute_status=DisputeStatus.OPEN, disputed_pence=1000)
    make.donation(3300, dispute_status=DisputeStatus.OPEN, gift_aid=True)
    make.donation(4500, dispute_status=DisputeStatus.LOST, disputed_pence=4400, refunded_pence=100)
    make.donation(5000, dispute_status=DisputeStatus.WON, gift_aid=True)
    # Stripe took £1 on a form that said £1,000: held for review, counted nowhere else.
    make.donation(100_000, taken_pence=100, review_reason="Stripe took £1.00", gift_aid=True)
    make.donation(700, page_id=page, status=DonationStatus.PENDING)
    make.donation(800, status=DonationStatus.PROCESSING)
    make.donation(900, status=DonationStatus.FAILED)
    make.donation(1000, status=DonationStatus.EXPIRED)
    make.donation(6000, source=offline, status=paid, gift_aid=True)
    make.donation(1200, page_id=page, source=offline, status=DonationStatus.PENDING)
    make.donation(1300, page_id=page, source=offline, status=DonationStatus.FAILED)
    make.donation(2200, page_id=page, source=offline, status=paid, refunded_pence=200)


def expected_from_rows(app) -> dict[str, int]:
    """Each dashboard figure, worked out from the donations themselves (DESIGN.md's Money)."""
    with app.app_context():
        rows = db.session.query(Donation).all()
    paid = [d for d in rows if d.status == DonationStatus.PAID]

    def net(d):
        return max(0, d.amount_pence - d.refunded_pence - d.disputed_pence)

    held = [d for d in paid if d.review_reason]
    counted = [d for d in paid if net(d) > 0 and not d.review_reason]
    # Gift Aid is claimed on all the donor gave the charity: the gift and any card-fee cover.
    eligible = sum(d.kept_pence for d in counted if d.gift_aid)
    return {
        "raised": sum(net(d) for d in counted),
        "online": sum(net(d) for d in counted if d.source == DonationSource.ONLINE),
        "offline": sum(net(d) for d in counted if d.source == DonationSource.OFFLINE),
        "gift-aid-eligible": eligible,
        "gift-aid": eligible // 4,
        # The fee cover the charity still has once refunds and disputes took what they took.
        "fees-covered": sum(d.kept_pence - net(d) for d in paid if not d.review_reason),
        "refunded": sum(d.refunded_pence for d in paid if not d.review_reason),
        "disputed": sum(d.disputed_pence for d in paid if not d.review_reason),
        "held": sum(d.taken_pence for d in held),
        "supporters": len(counted),
    }


def shown(html: str) -> dict[str, int]:
    """The figures as the dashboard shows them, back in pence (or a count)."""
    figures = {}
    for name in FIGURES:
        text = re.search(rf'id="figure-{name}">([^<]+)<', html)[1]
        figures[name] = int(text) if name == "supporters" else pence(text)
    return figures


def pence(text: str) -> int:
    pounds, _, rest = text.replace("£", "").replace(",", "").partition(".")
    return int(pounds) * 100 + int(rest)


def test_every_figure_matches_the_donations_in_the_database(make, organiser):
    every_kind_of_donation(make)
    expected = expected_from_rows(make.app)
    # worked by hand too: the partial chargeback keeps £25 and the inquiry all its £33
    assert expected["raised"] == 2000 + 2500 + 2500 + 3300 + 5000 + 6000 + 2000
    page = organiser.client.get("/organiser").get_data(as_text=True)
    assert shown(page) == expected
    fragment = organiser.client.get("/organiser/totals").get_data(as_text=True)
    assert shown(fragment) == expected
    assert 'id="figure-target">£5,000.00<' in page
    assert 'id="figure-percent">4%<' in page  # £233 of £5,000


def test_the_figures_follow_a_new_donation_and_the_fragment_answers_304_meanwhile(
    make, organiser, htmx_client
):
    make.donation(1000)
    first = organiser.client.get("/organiser/totals")
    assert first.status_code == 200 and first.headers["ETag"]
    again = organiser.client.get(
        "/organiser/totals", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""
    make.donation(2500, gift_aid=True)
    moved = organiser.client.get(
        "/organiser/totals", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert moved.status_code == 200
    assert shown(moved.get_data(as_text=True)) == expected_from_rows(make.app)
    assert moved.headers["ETag"] != first.headers["ETag"]


def test_changing_the_target_refreshes_the_figures(make, organiser):
    first = organiser.client.get("/organiser/totals")
    from app.events.service import configure_event

    with make.app.app_context():
        configure_event(target_pence=700_000)
    moved = organiser.client.get(
        "/organiser/totals", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert moved.status_code == 200 and "£7,000.00" in moved.get_data(as_text=True)


# The donations table ---------------------------------------------------------------------


def table_ids(html: str) -> list[int]:
    """Donation ids in the table, in order."""
    return [
        int(n) for n in re.findall(r'<th scope="row"><a href="/organiser/donations/(\d+)"', html)
    ]


def test_donations_are_paged_newest_first_without_losing_or_repeating_any(make, organiser):
    ids = [make.donation(100 + n, donor_name=f"Donor {n}") for n in range(60)]
    seen, url = [], "/organiser/donations"
    while url:
        html = organiser.client.get(url).get_data(as_text=True)
        page = table_ids(html)
        assert len(page) <= 25
        seen.extend(page)
        older = re.search(r'href="(/organiser/donations\?older_than=\d+)"', html)
        url = older[1] if older else None
    assert seen == sorted(ids, reverse=True)
    # ...and back again from the last page.
    last = organiser.client.get(f"/organiser/donations?older_than={ids[10]}")
    newer = re.search(r'href="(/organiser/donations\?newer_than=\d+)"', last.get_data(as_text=True))
    back = organiser.client.get(newer[1]).get_data(as_text=True)
    assert table_ids(back) == sorted(ids, reverse=True)[25:50]


def test_search_and_filters_narrow_the_table(make, organiser):
    page = make.participant()
    make.participant("Callum MacLeod", "callum")
    fiona = make.donation(1000, donor_name="Fiona Campbell", message="Go Aisha")
    mhairi = make.donation(2000, page_id=page, donor_email="mhairi@example.net", gift_aid=True)
    cash = make.donation(3000, source=DonationSource.OFFLINE, donor_name="Office collection")
    waiting = make.donation(
        400, page_id=page, source=DonationSource.OFFLINE, status=DonationStatus.PENDING
    )
    failed = make.donation(500, status=DonationStatus.FAILED, donor_name="50%_off")

    def ids(query: str) -> set[int]:
        return set(table_ids(organiser.client.get("/organiser/donations?" + query).get_data(True)))

    assert ids("q=campbell") == {fiona}
    assert ids("q=MHAIRI@example") == {mhairi}
    assert ids("q=go+aisha") == {fiona}
    assert ids(f"q=%23{cash}") == {cash}
    assert ids("q=50%25_") == {failed}  # % and _ are literal, not wildcards
    assert ids("q=%25x") == set()  # a wildcard % would match every "example" address
    assert ids("status=failed") == {failed}
    assert ids("status=pending") == {waiting}
    assert ids(f"participant={page}") == {mhairi, waiting}
    assert ids("participant=event") == {fiona, cash, failed}
    assert ids("gift_aid=yes") == {mhairi}
    assert ids("source=offline") == {cash, waiting}
    assert ids(f"source=offline&participant={page}&status=pending") == {waiting}


def test_the_table_alone_comes_back_for_htmx(make, organiser):
    make.donation(1000, donor_name="Fiona")
    organiser.client.environ_base["HTTP_HX_REQUEST"] = "true"
    response = organiser.client.get(
        "/organiser/donations?q=fiona", headers={"HX-Target": "donations-table"}
    )
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="donations-table">') and "<html" not in html
    assert "Fiona" in html


@pytest.mark.parametrize(
    "query",
    [
        "older_than=abc",
        "newer_than=-5",
        "older_than=99999999999999999999",
        "status=bogus&participant=xyz&gift_aid=maybe&source=pigeon",
        "participant=99999",
        "q=" + "x" * 5000,
        "q=%ff",
    ],
)
def test_odd_queries_show_the_table_not_an_error(make, organiser, query):
    make.donation(1000)
    response = organiser.client.get("/organiser/donations?" + query)
    assert response.status_code == 200


def test_a_control_character_in_the_search_is_refused_plainly(make, organiser):
    response = organiser.client.get("/organiser/donations?q=%00")
    assert response.status_code == 400  # app/security.py refuses NUL everywhere, with a page


@pytest.mark.parametrize(
    "url, status",
    [
        ("/organiser/participants?page=0", 200),
        ("/organiser/participants?page=abc", 200),
        ("/organiser/participants?page=99999", 200),
        ("/organiser/history?before=zz", 200),
        ("/organiser/donations/99999", 404),
        ("/organiser/exports/gift-aid.xls", 404),
    ],
)
def test_odd_addresses_are_handled(make, organiser, url, status):
    assert organiser.client.get(url).status_code == status


def test_a_donations_page_shows_everything_about_it(make, organiser):
    page = make.participant()
    donation_id = make.donation(
        2500,
        page_id=page,
        donor_name="Fiona Campbell",
        gift_aid=True,
        gift_aid_first_name="Fiona",
        gift_aid_last_name="Campbell",
        gift_aid_house="12",
        gift_aid_postcode="G12 8QQ",
        gift_aid_declaration_version="2026-1",
        message="Good luck!",
    )
    html = organiser.client.get(f"/organiser/donations/{donation_id}").get_data(as_text=True)
    for text in ("£25.00", "Fiona Campbell", "Aisha Rahman", "G12 8QQ", "Good luck!", "Refund"):
        assert text in html


# Participants ----------------------------------------------------------------------------


def test_participants_show_their_page_raised_target_and_safety(make, organiser):
    aisha = make.participant(target_pence=30_000)
    make.participant("Callum MacLeod", "callum", published=False)
    make.user("Nadia Newcomer", "nadia@example.org", Role.PARTICIPANT)
    make.donation(4000, page_id=aisha)
    html = organiser.client.get("/organiser/participants").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    assert [re.search(r'<th scope="row">([^<]+)', row)[1] for row in rows] == [
        "Aisha Rahman",
        "Callum MacLeod",
        "Nadia Newcomer",
    ]
    assert "Live" in rows[0] and "£40.00" in rows[0] and "£300.00" in rows[0]
    assert "Draft" in rows[1] and "No page yet" in rows[2]
    assert all(" done</td>" in row for row in rows)  # nobody has started their checklist


def test_the_safety_column_shows_what_the_safety_board_says(make, organiser):
    from app.safety.status import statuses

    make.participant()
    html = organiser.client.get("/organiser/participants").get_data(as_text=True)
    with make.app.app_context():
        from app.extensions import db
        from app.models import User

        [status] = statuses([db.session.query(User).filter_by(email="aisha@example.org").one()])
    assert f"0 of {len(status.yours)} done" in html
