"""Sessions that end: logging out ends the session on the server (a copied cookie is then a
visitor's), "log out everywhere", organisers' and instructors' sessions end after inactivity
and after a maximum, and health answers, exports and changes to organisers ask for the
password again once it is more than 15 minutes old."""

import pytest

from app.auth import sessions
from app.extensions import db
from app.models import LoginSession, Role
from tests.accounts import PASSWORD, AuthActions, Clock
from tests.world import build_world


@pytest.fixture
def clock(monkeypatch):
    """Time that moves only when the test says."""
    return Clock(monkeypatch, sessions)


def _organiser(make, email="sandra@example.org", role=Role.ORGANISER):
    make.user(email=email, role=role)
    return email


def _session_rows(app) -> int:
    with app.app_context():
        return db.session.query(LoginSession).count()


# Logging out ------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_a_visitors_after_it(app, client, auth, make):
    make.participant()
    auth.login()
    stolen = client.get_cookie("session").value
    assert client.get("/me").status_code == 200
    assert _session_rows(app) == 1

    auth.logout()
    assert _session_rows(app) == 0

    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/me")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    page = thief.get("/").get_data(as_text=True)
    assert "Log in" in page and "Hello, Aisha" not in page


def test_the_cookie_holds_a_random_token_not_the_user_id(app, client, auth, make):
    make.participant()
    auth.login()
    with client.session_transaction() as session:
        token = session["_user_id"]
    with app.app_context():
        row = db.session.query(LoginSession).one()
        assert len(token) >= 40 and token != str(row.user_id)
        assert row.token_hash != token  # only its hash is stored


def test_log_out_everywhere_ends_every_browser_of_that_account_only(app, client, auth, make):
    make.participant()
    make.participant("Callum MacLeod", "callum")
    laptop, phone, other = client, app.test_client(), app.test_client()
    auth.login()
    AuthActions(phone).login()
    AuthActions(other).login(email="callum@example.org")
    page = laptop.get("/auth/account").get_data(as_text=True)
    assert "You are logged in on 2 browsers" in page and "(this browser)" in page

    response = auth.post("/auth/account/logout-everywhere")
    assert response.headers["Location"] == "/auth/login"
    assert "You have logged out everywhere (2 browsers)" in laptop.get("/auth/login").text
    assert laptop.get("/me").status_code == 302
    ended = phone.get("/me", follow_redirects=True).get_data(as_text=True)
    assert "You have been logged out. Please log in again." in ended
    assert other.get("/me").status_code == 200  # someone else's account is untouched


def test_log_out_everywhere_needs_its_token(client, auth, make):
    make.participant()
    auth.login()
    assert client.post("/auth/account/logout-everywhere").status_code == 400
    assert client.get("/me").status_code == 200


# Inactivity and the maximum, with a clock the test moves ------------------------------------


def test_an_organisers_session_ends_after_two_hours_unused(client, auth, make, clock):
    auth.login(email=_organiser(make))
    clock.forward(minutes=119)
    assert client.get("/organiser").status_code == 200  # used: the two hours start again
    clock.forward(minutes=119)
    assert client.get("/organiser").status_code == 200
    clock.forward(minutes=121)
    response = client.get("/organiser")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were logged out after 120 minutes without using the site" in page


def test_an_expired_session_is_deleted_and_stays_ended(app, client, auth, make, clock):
    auth.login(email=_organiser(make))
    stolen = client.get_cookie("session").value
    clock.forward(hours=3)
    assert client.get("/organiser").status_code == 302
    assert _session_rows(app) == 0
    clock.now -= __import__("datetime").timedelta(hours=3)  # even with the clock put back
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/organiser").status_code == 302


def test_an_instructors_session_ends_after_twelve_hours_however_busy(client, auth, make, clock):
    auth.login(email=_organiser(make, "ian@example.org", Role.INSTRUCTOR))
    for _ in range(11):
        clock.forward(hours=1)
        assert client.get("/safety/board").status_code == 200
    clock.forward(minutes=59)
    assert client.get("/safety/board").status_code == 200
    clock.forward(minutes=2)
    response = client.get("/safety/board", follow_redirects=True)
    assert "sessions last at most 12 hours" in response.get_data(as_text=True)
    assert "Safety board</a>" not in response.get_data(as_text=True)


def test_polling_the_totals_is_not_using_the_site(client, auth, make, clock):
    """An open dashboard polls every few seconds; a laptop left open still logs out."""
    auth.login(email=_organiser(make))
    for _ in range(19):
        clock.forward(minutes=6)
        assert client.get("/organiser/totals").status_code in (200, 404)
    clock.forward(minutes=10)  # 124 minutes since anyone used it
    assert client.get("/organiser").status_code == 302


def test_participants_are_not_logged_out_for_a_quiet_afternoon(client, auth, make, clock):
    make.participant()
    auth.login()
    clock.forward(hours=13)
    assert client.get("/me").status_code == 200


def test_the_limits_are_settings(app, client, auth, make, clock):
    app.config.update(STAFF_SESSION_IDLE_MINUTES=5, STAFF_SESSION_MAX_HOURS=1)
    auth.login(email=_organiser(make))
    clock.forward(minutes=6)
    assert client.get("/organiser").status_code == 302
    assert "after 5 minutes" in client.get("/auth/login").text


# The password again, for health answers, exports and organisers ----------------------------


def test_an_export_asks_for_the_password_after_fifteen_minutes(client, auth, make, clock):
    auth.login(email=_organiser(make))
    assert client.get("/organiser/exports/donations.csv").status_code == 200
    clock.forward(minutes=16)
    response = client.get("/organiser/exports/donations.csv")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/auth/confirm-password?next=/organiser/exports/donations.csv"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirm your password" in page and 'autocomplete="current-password"' in page

    wrong = auth.post(response.headers["Location"], {"password": "not my password"})
    assert wrong.status_code == 422
    assert "That isn&#39;t your password" in wrong.text and "There is a problem" in wrong.text
    right = auth.post(response.headers["Location"], {"password": PASSWORD})
    assert right.headers["Location"] == "/organiser/exports/donations.csv"
    assert client.get("/organiser/exports/donations.csv").status_code == 200


def test_health_answers_ask_for_the_password_too(app, make, clock):
    world = build_world(make)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login(email="sandra@example.org")
    person = f"/safety/people/{world.user_id}"
    assert client.get(person).status_code == 200
    for path in (person, "/safety/roster", "/safety/roster.csv", "/organiser/organisers"):
        clock.forward(minutes=16)
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/auth/confirm-password?next=")
        auth.post(response.headers["Location"], {"password": PASSWORD})
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_the_password_page_only_returns_to_this_site(client, auth, make, target):
    auth.login(email=_organiser(make))
    response = auth.post(f"/auth/confirm-password?next={target}", {"password": PASSWORD})
    assert response.headers["Location"] == "/organiser"


def test_a_session_used_from_another_address_asks_again_at_once(client, auth, make):
    """Flask-Login's session protection: the same cookie from elsewhere is not fresh."""
    auth.login(email=_organiser(make))
    assert client.get("/organiser/exports/donations.csv").status_code == 200
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get("/organiser").status_code == 200  # still logged in...
    response = client.get("/organiser/exports/donations.csv")  # ...but not for this
    assert response.headers["Location"].startswith("/auth/confirm-password")
    auth.post(response.headers["Location"], {"password": PASSWORD})
    assert client.get("/organiser/exports/donations.csv").status_code == 200


def test_inviting_with_an_old_password_asks_first_and_sends_nothing(
    client, auth, make, smtp, clock
):
    auth.login(email=_organiser(make))
    clock.forward(minutes=20)
    response = auth.post("/organiser/organisers/invite", {"name": "Jo", "email": "jo@example.org"})
    response.close()
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/confirm-password?next=/organiser/organisers"
    assert "Nothing was changed yet" in client.get(response.headers["Location"]).text
    assert smtp.to("jo@example.org") == []
