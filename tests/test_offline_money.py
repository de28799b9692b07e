"""Offline money: an organiser's cash counts at once; a participant's reported cash counts only
once an organiser confirms it (or never, if rejected); every step is in the audit history."""

import html as html_lib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    EVENT_SCOPE,
    AuditEntry,
    AuditEntryChanged,
    Donation,
    DonationSource,
    DonationStatus,
    Totals,
)
from tests.accounts import AuthActions


@pytest.fixture
def page_id(make):
    return make.participant()


@pytest.fixture
def organiser(make, app) -> AuthActions:
    make.user()
    auth = AuthActions(app.test_client())
    auth.login("sandra@example.org")
    return auth


@pytest.fixture
def participant(app, page_id) -> AuthActions:
    auth = AuthActions(app.test_client())
    auth.login("aisha@example.org")
    return auth


def raised(app, scope=EVENT_SCOPE) -> int:
    with app.app_context():
        return db.session.get(Totals, scope).raised_pence


def donations(app) -> list[Donation]:
    with app.app_context():
        found = db.session.query(Donation).order_by(Donation.id).all()
        db.session.expunge_all()
        return found


def history(app) -> list[tuple]:
    with app.app_context():
        return [
            (e.action, e.actor.email if e.actor else None, e.before_pence, e.after_pence, e.reason)
            for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
        ]


CASH = {
    "recipient": "event",
    "method": "cash",
    "amount": "45.50",
    "donor_name": "Office collection",
    "note": "Collection tin at the office",
}


def test_cash_an_organiser_records_counts_at_once(organiser, app, page_id):
    response = organiser.post("/organiser/offline/new", CASH)
    assert response.status_code == 303
    assert raised(app) == 4550 and raised(app, f"page:{page_id}") == 0
    [donation] = donations(app)
    assert (donation.source, donation.status) == (DonationSource.OFFLINE, DonationStatus.PAID)
    assert donation.recorded_by_id == donation.confirmed_by_id is not None
    assert history(app) == [
        ("offline.recorded", "sandra@example.org", 0, 4550, "Collection tin at the office")
    ]
    followed = organiser.client.get(response.headers["Location"])
    assert "Recorded £45.50" in followed.get_data(as_text=True)


def test_a_cheque_for_a_participant_with_a_paper_gift_aid_declaration(organiser, app, page_id):
    data = {
        **CASH,
        "recipient": str(page_id),
        "method": "cheque",
        "amount": "20",
        "received_on": "2026-11-02",
        "gift_aid": "y",
        "title": "Dr",
        "first_name": "Morag",
        "last_name": "Fraser-Smith",
        "house": "Flat 2/1, 14",
        "postcode": "g12 8qq",
    }
    assert organiser.post("/organiser/offline/new", data).status_code == 303
    assert raised(app, f"page:{page_id}") == 2000
    with app.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).gift_aid_eligible_pence == 2000
    [donation] = donations(app)
    assert donation.gift_aid and donation.gift_aid_declaration_version == "paper"
    assert donation.gift_aid_postcode == "G12 8QQ"
    assert donation.gift_aid_last_name == "Fraser-Smith"  # stored as written; the export fixes it
    assert donation.paid_at == datetime(2026, 11, 2, 12, tzinfo=UTC)  # midday UK time (GMT)
    assert history(app)[0][4:] == ("Collection tin at the office",)


def test_a_donor_who_lives_abroad_has_postcode_x_and_the_address_in_the_house_field(organiser, app):
    data = {
        **CASH,
        "gift_aid": "y",
        "first_name": "Siobhan",
        "last_name": "O'Neill",
        "house": "4 Rue de la Paix, Paris",
        "postcode": "",
        "overseas": "y",
    }
    assert organiser.post("/organiser/offline/new", data).status_code == 303
    [donation] = donations(app)
    assert (donation.gift_aid_postcode, donation.gift_aid_house) == (
        "X",
        "4 Rue de la Paix, Paris",
    )


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"amount": ""}, "amount", "Enter an amount in pounds"),
        ({"amount": "-5"}, "amount", "Enter an amount of more than £0."),
        ({"amount": "0"}, "amount", "Enter an amount of at least £0.01."),
        ({"amount": "12.345"}, "amount", "fractions of a penny"),
        ({"amount": "1e9"}, "amount", "Enter an amount in pounds"),
        ({"amount": "999999999"}, "amount", "no more than £100,000.00"),
        ({"recipient": "9999"}, "recipient", "Not a valid choice"),
        ({"method": "bitcoin"}, "method", "Not a valid choice"),
        ({"received_on": "2999-01-01"}, "received_on", "can't be in the future"),
        ({"received_on": "yesterday"}, "received_on", "Not a valid date"),
        ({"donor_email": "not-an-email"}, "donor_email", "Enter an email address"),
        ({"gift_aid": "y"}, "first_name", "Enter the donor's first name"),
        (
            {"gift_aid": "y", "first_name": "A", "last_name": "B", "house": "1", "postcode": "y"},
            "postcode",
            "Enter a UK postcode",
        ),
        ({"gift_aid": "y", "house": "x" * 41}, "house", "40 characters or fewer"),
        ({"gift_aid": "y", "title": "Sister"}, "title", "2 to 4 letters, like Mr"),
        ({"gift_aid": "y", "first_name": "李"}, "first_name", "in Latin letters"),
        ({"gift_aid": "y", "postcode": "BFPO 105"}, "postcode", "starts BF1"),
    ],
)
def test_a_bad_form_says_what_is_wrong_beside_the_field_and_records_nothing(
    organiser, app, changes, field, message
):
    response = organiser.post("/organiser/offline/new", {**CASH, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'class="error-message" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in html_lib.unescape(error[1])
    assert f'aria-describedby="{field}-error' in html or f'{field}-error"' in html
    assert donations(app) == [] and raised(app) == 0


# A participant's reported cash -------------------------------------------------------------


def report(participant, amount="30", note="In an envelope at reception"):
    return participant.post("/me/cash", {"cash-amount": amount, "cash-note": note}, prefix="cash")


def test_reported_cash_does_not_count_until_an_organiser_confirms_it(
    participant, organiser, app, page_id, smtp
):
    assert report(participant).status_code == 303
    [donation] = donations(app)
    assert donation.status == DonationStatus.PENDING and raised(app) == 0
    home = participant.client.get("/me").get_data(as_text=True)
    assert "£30.00,\n      waiting for an organiser to confirm it" in home
    dashboard = organiser.client.get("/organiser").get_data(as_text=True)
    assert "In an envelope at reception" in dashboard and "Confirm £30.00" in dashboard

    response = organiser.post(f"/organiser/donations/{donation.id}/confirm", {"next": "dashboard"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#cash-waiting")
    response.close()  # the outbox is sent once the response is closed, as after a real one
    assert raised(app) == 3000 and raised(app, f"page:{page_id}") == 3000
    [donation] = donations(app)
    assert donation.status == DonationStatus.PAID and donation.confirmed_by_id is not None
    assert [h[:4] for h in history(app)] == [
        ("offline.reported", "aisha@example.org", 0, 0),
        ("offline.confirmed", "sandra@example.org", 0, 3000),
    ]
    # Told it counted, and (her first money in) the first-donation nudge.
    told, nudge = sorted(smtp.to("aisha@example.org"), key=lambda m: "counted" not in m["Subject"])
    assert "counted" in told["Subject"]
    assert nudge["Subject"] == "Your first donation is in!"
    assert "confirmed and counted" in participant.client.get("/me").get_data(as_text=True)


def test_confirming_twice_counts_once(participant, organiser, app):
    report(participant)
    [donation] = donations(app)
    for _ in range(3):
        organiser.post(f"/organiser/donations/{donation.id}/confirm")
    assert raised(app) == 3000
    assert [h[0] for h in history(app)].count("offline.confirmed") == 1


def test_rejected_cash_never_counts_and_the_participant_is_told_why(
    participant, organiser, app, smtp
):
    report(participant)
    [donation] = donations(app)
    missing = organiser.post(f"/organiser/donations/{donation.id}/reject", {}, prefix="")
    assert missing.status_code == 422
    assert "Say why, so the participant can put it right" in missing.get_data(as_text=True)
    response = organiser.post(
        f"/organiser/donations/{donation.id}/reject",
        {f"reject-{donation.id}-reason": "The envelope had £20, not £30"},
    )
    assert response.status_code == 303
    response.close()
    organiser.post(f"/organiser/donations/{donation.id}/confirm")  # too late: rejected
    assert raised(app) == 0
    assert donations(app)[0].status == DonationStatus.FAILED
    assert history(app)[-1][0] == "offline.rejected"
    assert history(app)[-1][4] == "The envelope had £20, not £30"
    [told] = smtp.to("aisha@example.org")
    assert "The envelope had £20, not £30" in told.get_body(("plain",)).get_content()


def test_confirming_through_htmx_swaps_the_waiting_list(participant, organiser, app):
    report(participant, "12")
    report(participant, "8")
    first, second = donations(app)
    response = organiser.post(
        f"/organiser/donations/{first.id}/confirm", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="cash-waiting"')
    assert response.headers["HX-Trigger"] == "totals-changed"
    assert f'id="cash-{second.id}"' in html and f'id="cash-{first.id}"' not in html
    rejected = organiser.post(
        f"/organiser/donations/{second.id}/reject", {}, headers={"HX-Request": "true"}
    )
    assert rejected.status_code == 422
    assert f'id="reject-{second.id}-reason-error"' in rejected.get_data(as_text=True)


@pytest.mark.parametrize("amount", ["", "0", "-3", "abc", "100000"])
def test_a_participant_reporting_a_bad_amount_is_told_and_nothing_is_saved(
    participant, app, amount
):
    response = report(participant, amount)
    assert response.status_code == 422
    assert 'id="cash-amount-error"' in response.get_data(as_text=True)
    assert donations(app) == []


def test_only_offline_donations_can_be_confirmed(organiser, make, app):
    card = make.donation(1000, status=DonationStatus.PENDING)
    assert organiser.post(f"/organiser/donations/{card}/confirm").status_code == 404
    assert organiser.post(f"/organiser/donations/{card + 99}/confirm").status_code == 404
    assert raised(app) == 0


def test_cash_given_back_is_recorded_and_comes_off_the_total(organiser, app, smtp):
    organiser.post("/organiser/offline/new", {**CASH, "donor_email": "office@example.org"})
    [donation] = donations(app)
    form = organiser.client.get(f"/organiser/donations/{donation.id}").get_data(as_text=True)
    key = re.search(r'name="refund-refund_key" type="hidden" value="([^"]+)"', form)[1]
    too_much = organiser.post(
        f"/organiser/donations/{donation.id}/refund",
        {"refund-amount": "50", "refund-refund_key": key},
    )
    assert too_much.status_code == 422
    assert "no more than £45.50" in too_much.get_data(as_text=True)
    response = organiser.post(
        f"/organiser/donations/{donation.id}/refund",
        {"refund-amount": "5.50", "refund-refund_key": key, "refund-reason": "Counted twice"},
    )
    assert response.status_code == 303
    response.close()
    assert raised(app) == 4000
    with app.app_context():
        assert db.session.get(Totals, EVENT_SCOPE).refunded_pence == 550
    assert history(app)[-1] == ("refund.recorded", "sandra@example.org", 0, 550, "Counted twice")
    [notice] = smtp.to("office@example.org")
    body = notice.get_body(("plain",)).get_content()
    assert "£5.50" in body and "was given back to you" in body


def test_the_audit_history_cannot_be_changed(organiser, app):
    organiser.post("/organiser/offline/new", CASH)
    with app.app_context():
        entry = db.session.query(AuditEntry).one()
        entry.reason = "rewritten"
        with pytest.raises(AuditEntryChanged):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.query(AuditEntry).one())
        with pytest.raises(AuditEntryChanged):
            db.session.commit()
        db.session.rollback()
    history_page = organiser.client.get("/organiser/history").get_data(as_text=True)
    assert "Recorded offline money" in history_page and "Collection tin" in history_page


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE audit_entries SET after_pence = 1, reason = 'Typo' WHERE id = :id", "UPDATE"),
        ("DELETE FROM audit_entries WHERE id = :id", "DELETE"),
    ],
)
def test_the_database_refuses_to_rewrite_the_audit_history(organiser, app, statement, operation):
    # Raw SQL never reaches the ORM guard above; the database refuses it on its own.
    organiser.post("/organiser/offline/new", CASH)
    before = history(app)
    with app.app_context():
        entry_id = db.session.query(AuditEntry.id).scalar()
        with pytest.raises(IntegrityError, match=f"audit_entries is append-only: {operation}"):
            db.session.execute(text(statement), {"id": entry_id})
        db.session.rollback()
    assert history(app) == before
    history_page = organiser.client.get("/organiser/history").get_data(as_text=True)
    assert "Recorded offline money" in history_page and "Collection tin" in history_page


def test_nul_characters_are_refused_plainly_and_nothing_is_recorded(organiser, app):
    # app/security.py refuses control characters in any form (PostgreSQL would refuse NUL).
    data = {**CASH, "donor_name": "Bake\x00 sale", "note": "\x00tin"}
    assert organiser.post("/organiser/offline/new", data).status_code == 400
    assert donations(app) == []
