"""Paper Gift Aid in the claim: each sponsor who ticked Gift Aid on a sheet is a line of their
own in HMRC's template, with their own name and address and the Sponsored event box blank;
a promise not yet paid is not claimed."""

from datetime import date

from app.extensions import db
from app.models import SponsorPage
from app.organiser import gift_aid_claims
from app.organiser.gift_aid_claims import Period
from app.paper import printing_service
from tests import hmrc_reader
from tests.accounts import AuthActions
from tests.test_paper_entry import FIONA, grid


def test_paper_gift_aid_lines_are_individual_lines_in_hmrcs_template(make, app):
    page_id = make.participant()
    make.user()
    with app.app_context():
        (ref,) = printing_service.print_sheets(db.session.get(SponsorPage, page_id), 1)
    sandra = AuthActions(app.test_client())
    sandra.login("sandra@example.org")
    rows = (
        FIONA,
        {**FIONA, "title": "", "first_name": "Łukasz", "last_name": "Nowak", "paid": "12.5"},
        {**FIONA, "first_name": "Promised", "pledged": "30", "paid": "", "date_paid": ""},
        {"first_name": "Gran", "paid": "5"},  # no Gift Aid: not in the claim
    )
    response = sandra.post(f"/paper/sheets/{ref}", grid(*rows, handed_in="37.50", action="save"))
    assert response.status_code == 303
    with app.app_context():
        claim, preview = gift_aid_claims.start(Period(date(2026, 11, 1), date(2026, 11, 30)))
        claim_id = claim.id
        assert preview.schedule.refused == []
    download = sandra.client.get(f"/organiser/gift-aid/claims/{claim_id}/claim.ods")
    schedule = hmrc_reader.read(download.get_data())
    assert schedule.problems == []
    assert [
        (ln["first_name"], ln["last_name"], ln["postcode"], ln["sponsored"], ln["amount"])
        for ln in schedule.lines
    ] == [
        ("Fiona", "Campbell", "G12 8QQ", "", "20.00"),
        ("Lukasz", "Nowak", "G12 8QQ", "", "12.50"),
    ]
    assert schedule.lines[0]["date"] == "01/11/26"
