"""Paper Gift Aid in the claim: each sponsor who ticked Gift Aid on a sheet is a line of their
own in HMRC's template, with their own name and address and the Sponsored event box blank;
a promise not yet paid is not claimed."""

import html
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import SponsorPage
from app.models.paper import PaperSeries
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


def test_the_sponsored_event_method_puts_one_yes_line_per_participant(make, app):
    page_id = make.participant()
    make.user()
    with app.app_context():
        (ref,) = printing_service.print_sheets(db.session.get(SponsorPage, page_id), 1)
    sandra = AuthActions(app.test_client())
    sandra.login("sandra@example.org")
    rows = (
        FIONA,
        {**FIONA, "first_name": "Bill", "paid": "30", "date_paid": "03/11/26"},
        {**FIONA, "first_name": "Rich", "paid": "600", "date_paid": "02/11/26"},
    )
    response = sandra.post(f"/paper/sheets/{ref}", grid(*rows, handed_in="650", action="save"))
    assert response.status_code == 303
    make.donation(2500, page_id, gift_aid=True)  # online today: not in November's claim
    with app.app_context():
        claim, _ = gift_aid_claims.start(Period(date(2026, 11, 1), date(2026, 11, 30)))
        claim_id = claim.id
        series_id = db.session.scalar(select(PaperSeries.id))
    method = f"/paper/claims/{claim_id}/method"
    assert "Their home address is needed" in sandra.client.get(method).get_data(as_text=True)
    refused = sandra.post(method, {"method": "sponsored"})
    assert refused.status_code == 409
    assert "missing: Aisha Rahman" in html.unescape(refused.get_data(as_text=True))
    address = f"/paper/claims/{claim_id}/participants/{series_id}/address"
    prefix = f"address-{series_id}-"
    bad = sandra.post(address, {prefix + "first_name": "Aisha", prefix + "postcode": "nope"})
    assert bad.status_code == 422
    saved = sandra.post(
        address,
        {
            prefix + "first_name": "Aisha",
            prefix + "last_name": "Rahman",
            prefix + "house": "4 Kelvin Way",
            prefix + "postcode": "g3 7qq",
        },
    )
    assert saved.status_code == 303
    assert sandra.post(method, {"method": "sponsored"}).status_code == 303
    schedule = hmrc_reader.read(
        sandra.client.get(f"/organiser/gift-aid/claims/{claim_id}/claim.ods").get_data()
    )
    assert schedule.problems == []
    lines = [
        (
            ln["first_name"],
            ln["last_name"],
            ln["postcode"],
            ln["sponsored"],
            ln["date"],
            ln["amount"],
        )
        for ln in schedule.lines
    ]
    assert lines == [
        ("Aisha", "Rahman", "G3 7QQ", "Yes", "03/11/26", "50.00"),
        ("Rich", "Campbell", "G12 8QQ", "", "02/11/26", "600.00"),
    ]
    # And back to a line per sponsor.
    assert sandra.post(method, {"method": "individual"}).status_code == 303
    schedule = hmrc_reader.read(
        sandra.client.get(f"/organiser/gift-aid/claims/{claim_id}/claim.ods").get_data()
    )
    assert [ln["sponsored"] for ln in schedule.lines] == ["", "", ""]
