"""Pledges on paper: promised and not yet paid, shown to the participant, counted and claimed
only once the rest is handed in and an organiser confirms it, as with reported cash."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Donation, DonationStatus, SponsorPage, Totals
from app.models.paper import PaperLine
from app.paper import printing_service
from tests.accounts import AuthActions
from tests.test_paper_entry import FIONA, grid


@pytest.fixture
def saved(make, app) -> tuple[AuthActions, AuthActions]:
    """Aisha's sheet saved with two promises: Ian £40 (paid £25), Mo £10 with Gift Aid."""
    page_id = make.participant()
    make.user()
    with app.app_context():
        (ref,) = printing_service.print_sheets(db.session.get(SponsorPage, page_id), 1)
    sandra = AuthActions(app.test_client())
    sandra.login("sandra@example.org")
    ian = {"first_name": "Ian", "last_name": "Ross", "pledged": "40", "paid": "25"}
    mo = {**FIONA, "first_name": "Mo", "pledged": "10", "paid": "", "date_paid": ""}
    response = sandra.post(
        f"/paper/sheets/{ref}", grid(FIONA, ian, mo, handed_in="45", action="save")
    )
    assert response.status_code == 303
    aisha = AuthActions(app.test_client())
    aisha.login("aisha@example.org")
    return aisha, sandra


def raised(app) -> tuple[int, int]:
    with app.app_context():
        totals = db.session.get(Totals, "event")
        return totals.raised_pence, totals.gift_aid_eligible_pence


def home(aisha) -> str:
    return re.sub(r"\s+", " ", aisha.client.get("/me").get_data(as_text=True))


def test_a_promise_counts_once_handed_in_and_confirmed(app, saved):
    aisha, sandra = saved
    assert raised(app) == (4500, 2000)  # Fiona's £20 with Gift Aid, Ian's £25
    shown = home(aisha)
    assert "£50.00 promised, £25.00 collected" in shown
    assert "Ian Ross" in shown and "£40.00 promised, £25.00 collected" in shown
    with app.app_context():
        lines = {ln.donor_name: ln.id for ln in db.session.scalars(select(PaperLine))}
    for name in ("Ian Ross", "Ms Mo Campbell"):
        response = aisha.post(f"/paper/pledges/{lines[name]}/paid")
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/me#paper")
        assert raised(app) == (4500, 2000)  # not counted until an organiser confirms
    again = aisha.post(f"/paper/pledges/{lines['Ian Ross']}/paid")
    assert again.status_code == 303
    assert "waiting for an organiser" in home(aisha)
    with app.app_context():
        waiting = db.session.scalars(
            select(Donation).where(Donation.status == DonationStatus.PENDING).order_by(Donation.id)
        ).all()
        assert [(d.amount_pence, d.gift_aid) for d in waiting] == [(1500, False), (1000, True)]
        ids = [d.id for d in waiting]
    dashboard = sandra.client.get("/organiser").get_data(as_text=True)
    assert "The rest of a pledge: Ian Ross on paper sheet" in dashboard
    for donation_id in ids:
        assert sandra.post(f"/organiser/donations/{donation_id}/confirm").status_code == 303
    assert raised(app) == (7000, 3000)  # Mo's Gift Aid is claimable now it is paid
    assert "£50.00 promised, £50.00 collected" in home(aisha)


def test_only_the_participant_hands_in_their_own_pledges(app, saved, make):
    aisha, sandra = saved
    make.participant(name="Callum MacLeod", slug="callum")
    callum = AuthActions(app.test_client())
    callum.login("callum@example.org")
    with app.app_context():
        line_id = db.session.scalar(select(PaperLine.id).where(PaperLine.pledged_pence == 4000))
    assert callum.post(f"/paper/pledges/{line_id}/paid").status_code == 404
    assert sandra.post(f"/paper/pledges/{line_id}/paid").status_code == 404
    assert aisha.post("/paper/pledges/999999/paid").status_code == 404
    assert raised(app) == (4500, 2000)
