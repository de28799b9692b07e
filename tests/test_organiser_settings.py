"""Event settings from the dashboard, and inviting another organiser by email."""

import re
from html import unescape

import pytest

from app.extensions import db
from app.models import EVENT_SCOPE, AuditEntry, Event, Role, Totals, User
from tests.accounts import AuthActions


def current_form(organiser) -> dict[str, str]:
    """The settings form as the page fills it in (checkboxes only when ticked)."""
    html = organiser.client.get("/organiser/settings").get_data(as_text=True)
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name[1] == "csrf_token":
            continue
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name[1]] = "y"
        else:
            data[name[1]] = unescape(value[1]) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = unescape(body).strip().replace("\n", "\r\n")  # as browsers send it
    return data


def test_every_setting_is_saved_and_the_bars_refresh(make, organiser):
    with make.app.app_context():
        version = db.session.get(Totals, EVENT_SCOPE).version
    data = {
        **current_form(organiser),
        "name": "Over the Edge 2027",
        "starts_at": "2027-07-17T10:30",
        "closes_at": "2027-07-31 23:59",
        "target": "6,500",
        "min_donation": "2",
        "max_donation": "5000",
        "fee_basis_points": "140",
        "fee_fixed_pence": "25",
        "charity_pays_event_costs": "y",
        "gift_aid_fills_target": "y",
        "pages_need_approval": "y",
    }
    data.pop("donations_open", None)  # closing donations
    response = organiser.post("/organiser/settings", data)
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    with make.app.app_context():
        event = db.session.get(Event, 1)
        assert event.name == "Over the Edge 2027"
        assert event.starts_at.isoformat() == "2027-07-17T09:30:00+00:00"  # BST
        assert event.closes_at.isoformat() == "2027-07-31T22:59:00+00:00"
        assert (event.target_pence, event.min_donation_pence, event.max_donation_pence) == (
            650_000,
            200,
            500_000,
        )
        assert (event.fee_basis_points, event.fee_fixed_pence) == (140, 25)
        assert event.charity_pays_event_costs and event.gift_aid_fills_target
        assert event.pages_need_approval and not event.donations_open
        assert db.session.get(Totals, EVENT_SCOPE).version > version
        entry = db.session.query(AuditEntry).one()
        assert entry.action == "event.settings" and "target_pence" in entry.detail
    assert "£6,500.00" in organiser.client.get("/organiser/totals").get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": ""}, "name", "Enter the event&#39;s name"),
        ({"starts_at": "next Tuesday"}, "starts_at", "Enter a date and time like"),
        ({"target": "0"}, "target", "Enter at least £1.00"),
        ({"target": "99999999"}, "target", "Enter no more than £10,000,000.00"),
        ({"target": "9" * 20}, "target", "far too large"),
        ({"min_donation": "0.50"}, "min_donation", "Enter at least £1.00"),
        ({"max_donation": "1.50", "min_donation": "2"}, "max_donation", "less than the smallest"),
        ({"fee_basis_points": "abc"}, "fee_basis_points", "Enter a whole number from 0 to 1,000"),
        ({"fee_fixed_pence": "500"}, "fee_fixed_pence", "Enter a whole number from 0 to 100"),
        ({"contact_email": "nope"}, "contact_email", "Enter an email address"),
    ],
)
def test_a_bad_setting_is_explained_beside_its_field_and_nothing_is_saved(
    make, organiser, changes, field, message
):
    response = organiser.post("/organiser/settings", {**current_form(organiser), **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">.*?{re.escape(message)}', html, re.S)
    with make.app.app_context():
        assert db.session.query(AuditEntry).count() == 0


def test_saving_without_changes_changes_nothing(make, organiser):
    response = organiser.post("/organiser/settings", current_form(organiser))
    assert response.status_code == 303
    assert "Nothing changed" in organiser.client.get("/organiser/settings").get_data(True)


# Inviting organisers -----------------------------------------------------------------


def invite(organiser, name="Olu Organiser", email="olu@example.org"):
    return organiser.post("/organiser/organisers/invite", {"name": name, "email": email})


def test_an_invited_organiser_sets_a_password_once_and_sees_the_dashboard(
    make, organiser, app, smtp
):
    response = invite(organiser)
    assert response.status_code == 303
    response.close()
    [message] = smtp.to("olu@example.org")
    link = re.search(r"http\S+/auth/invite/\S+", message.get_body(("plain",)).get_content())[0]
    path = link.split("127.0.0.1:5000", 1)[-1]
    listing = organiser.client.get("/organiser/organisers").get_data(as_text=True)
    assert "Olu Organiser" in listing and "Invited, not yet accepted" in listing

    olu = AuthActions(app.test_client())
    assert olu.login("olu@example.org", "").status_code == 422  # no password yet
    page = olu.client.get(path)
    assert page.status_code == 200 and "Welcome, Olu Organiser" in page.get_data(True)
    short = olu.post(path, {"password": "short"})
    assert short.status_code == 422
    accepted = olu.post(path, {"password": "a long new password"})
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/organiser"
    assert olu.client.get("/organiser").status_code == 200
    assert olu.client.get(path).status_code == 404  # used up
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
        assert actions == ["organiser.invited", "organiser.joined"]
        assert db.session.query(User).filter_by(email="olu@example.org").one().is_organiser


def test_an_address_with_an_account_cannot_be_invited(make, organiser, smtp):
    make.participant()
    response = invite(organiser, "Aisha", "AISHA@example.org")
    assert response.status_code == 422
    assert "already has an account" in response.get_data(as_text=True)
    with make.app.app_context():
        assert db.session.query(User).filter_by(email="aisha@example.org").one().role == (
            Role.PARTICIPANT
        )


def test_a_forged_or_old_invitation_does_nothing(make, app, organiser, smtp):
    response = invite(organiser)
    response.close()
    link = re.search(
        r"/auth/invite/\S+", smtp.to("olu@example.org")[0].get_body(("plain",)).get_content()
    )[0]
    visitor = app.test_client()
    assert visitor.get(link + "x").status_code == 404
    app.config["SECRET_KEY"] = "another key"
    assert visitor.get(link).status_code == 404


@pytest.mark.parametrize("email", ["", "not-an-email"])
def test_an_invitation_needs_an_address(organiser, email):
    assert invite(organiser, email=email).status_code == 422
