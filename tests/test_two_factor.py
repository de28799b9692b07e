"""A second factor for organisers: enrol with a QR code, log in with the app's code or a
single-use recovery code, the event setting that makes it a must, and a reset by another
organiser (a lost phone), recorded in the history."""

import re

import pyotp
import pytest

from app.auth import service, sessions, two_factor
from app.events.service import configure_event
from app.extensions import db
from app.models import AuditEntry, LoginSession, RecoveryCode, SecondFactor, User
from tests.accounts import PASSWORD, AuthActions, Clock

SANDRA = "sandra@example.org"


@pytest.fixture
def clock(monkeypatch):
    """Time that moves only when the test says (the app's codes and the test's agree)."""
    return Clock(monkeypatch, sessions, two_factor, service)


@pytest.fixture
def sandra(make):
    """An organiser, logged in nowhere yet."""
    return make.user(email=SANDRA)


def _code(secret: str, clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now.timestamp(), counter_offset=steps)


def enrol(client, auth, clock) -> tuple[str, list[str]]:
    """Set up the second factor as an organiser would; returns the secret and the codes."""
    page = client.get("/auth/two-factor").get_data(as_text=True)
    secret = re.search(r'<code id="secret-key">([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    done = auth.post("/auth/two-factor", {"code": _code(secret, clock)})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    clock.forward(seconds=30)  # the next code the app shows
    return secret, codes


def test_enrolment_shows_an_inline_qr_code_and_the_key_and_an_accessible_field(
    client, auth, sandra, clock
):
    auth.login(email=SANDRA)
    page = client.get("/auth/two-factor").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert "<title>QR code to add this account" in svg and "<path" in svg
    assert "style=" not in svg and "<script" not in svg
    assert re.search(r'<code id="secret-key">[A-Z2-7]{4}( [A-Z2-7]{4})+</code>', page)
    field = re.search(r'<input[^>]* id="code"[^>]*>', page).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert '<label for="code">Enter the code the app now shows</label>' in page
    assert 'aria-describedby="code-hint code-error"' in field
    # A reload shows the same key: the phone may be halfway through scanning it.
    again = client.get("/auth/two-factor").get_data(as_text=True)
    assert re.search(r'id="secret-key">([^<]+)<', again).group(1) in page


def test_a_wrong_code_does_not_turn_it_on(client, auth, sandra, clock, make):
    auth.login(email=SANDRA)
    client.get("/auth/two-factor")
    wrong = auth.post("/auth/two-factor", {"code": "000000"})
    assert wrong.status_code == 422
    assert "There is a problem" in wrong.text and 'href="#code"' in wrong.text
    assert "That code isn&#39;t right" in wrong.text
    with make.app.app_context():
        assert db.session.get(SecondFactor, sandra).confirmed_at is None
        assert db.session.query(RecoveryCode).count() == 0


def test_enrolment_gives_ten_single_use_codes_kept_only_as_hashes(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    _secret, codes = enrol(client, auth, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", code) for code in codes)
    with client.application.app_context():
        stored = [row.code_hash for row in db.session.query(RecoveryCode)]
        assert len(stored) == 10
        assert not {c.replace("-", "") for c in codes} & set(stored)
        entry = db.session.query(AuditEntry).filter_by(action="account.second_factor_on").one()
        assert entry.actor_id == entry.subject_user_id == sandra
    account = client.get("/auth/account").get_data(as_text=True)
    assert "You have 10 unused recovery codes" in account
    assert codes[0] not in account  # shown once, never again
    assert client.get("/auth/two-factor").headers["Location"] == "/auth/account"


def test_log_in_asks_for_the_code_and_is_not_logged_in_until_it_is_given(
    app, client, auth, sandra, clock
):
    auth.login(email=SANDRA)
    secret, _codes = enrol(client, auth, clock)
    auth.logout()

    first = auth.login(email=SANDRA)
    assert first.headers["Location"] == "/auth/login/code"
    assert client.get("/organiser").status_code == 302  # the password alone is not enough
    with app.app_context():
        assert db.session.query(LoginSession).count() == 0
    page = client.get("/auth/login/code").get_data(as_text=True)
    field = re.search(r'<input[^>]* id="code"[^>]*>', page).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert '<label for="recovery_code">Recovery code</label>' in page

    wrong = auth.post("/auth/login/code", {"code": "123 456"})
    assert wrong.status_code == 422 and "There is a problem" in wrong.text
    assert client.get("/organiser").status_code == 302
    right = auth.post("/auth/login/code", {"code": _code(secret, clock)})
    assert right.headers["Location"] == "/organiser"
    assert client.get("/organiser").status_code == 200


def test_the_code_step_returns_to_the_page_asked_for_on_this_site_only(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    secret, _ = enrol(client, auth, clock)
    auth.logout()
    auth.post("/auth/login?next=/organiser/donations", {"email": SANDRA, "password": PASSWORD})
    done = auth.post("/auth/login/code", {"code": _code(secret, clock)})
    assert done.headers["Location"] == "/organiser/donations"
    auth.logout()
    clock.forward(seconds=30)
    auth.post("/auth/login?next=//evil.example", {"email": SANDRA, "password": PASSWORD})
    done = auth.post("/auth/login/code", {"code": _code(secret, clock)})
    assert done.headers["Location"] == "/organiser"


def test_a_code_works_once(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    secret, _ = enrol(client, auth, clock)
    auth.logout()
    code = _code(secret, clock)
    auth.login(email=SANDRA)
    assert auth.post("/auth/login/code", {"code": code}).status_code == 303
    auth.logout()
    auth.login(email=SANDRA)  # someone who watched it typed, within the same 30 seconds
    assert auth.post("/auth/login/code", {"code": code}).status_code == 422
    earlier = _code(secret, clock, steps=-1)
    assert auth.post("/auth/login/code", {"code": earlier}).status_code == 422


def test_a_phone_a_little_fast_or_slow_still_works(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    secret, _ = enrol(client, auth, clock)
    auth.logout()
    auth.login(email=SANDRA)
    assert auth.post("/auth/login/code", {"code": _code(secret, clock, 1)}).status_code == 303
    auth.logout()
    clock.forward(minutes=2)
    auth.login(email=SANDRA)
    assert auth.post("/auth/login/code", {"code": _code(secret, clock, 3)}).status_code == 422


def test_a_recovery_code_works_once(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    _secret, codes = enrol(client, auth, clock)
    auth.logout()
    auth.login(email=SANDRA)
    used = auth.post("/auth/login/code", {"recovery_code": codes[3].upper()})
    assert used.headers["Location"] == "/organiser"
    assert "You used a recovery code: it won&#39;t work again. You have 9 left." in (
        client.get("/organiser").text
    )
    auth.logout()
    auth.login(email=SANDRA)
    again = auth.post("/auth/login/code", {"recovery_code": codes[3]})
    assert again.status_code == 422
    assert "That code isn&#39;t right, or has been used" in again.text
    assert 'href="#recovery_code"' in again.text
    assert client.get("/organiser").status_code == 302
    assert auth.post("/auth/login/code", {"recovery_code": codes[4]}).status_code == 303


def test_new_recovery_codes_replace_the_old_ones(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    _secret, old = enrol(client, auth, clock)
    renewed = auth.post("/auth/account/recovery-codes")
    assert (
        renewed.status_code == 200 and "Your earlier recovery codes no longer work" in renewed.text
    )
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", renewed.text)
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    auth.login(email=SANDRA)
    assert auth.post("/auth/login/code", {"recovery_code": old[0]}).status_code == 422
    assert auth.post("/auth/login/code", {"recovery_code": new[0]}).status_code == 303


def test_the_code_must_come_within_five_minutes_of_the_password(client, auth, sandra, clock):
    auth.login(email=SANDRA)
    secret, _ = enrol(client, auth, clock)
    auth.logout()
    auth.login(email=SANDRA)
    clock.forward(minutes=6)
    late = auth.post("/auth/login/code", {"code": _code(secret, clock)})
    assert late.headers["Location"] == "/auth/login"
    assert "within 5 minutes of the password" in client.get("/auth/login").text


def test_a_password_reset_still_asks_for_the_code(client, auth, sandra, clock, smtp):
    auth.login(email=SANDRA)
    secret, _ = enrol(client, auth, clock)
    auth.logout()
    auth.post("/auth/reset", {"email": SANDRA}).close()
    [message] = smtp.to(SANDRA)
    link = re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0)
    link = re.sub(r"^https?://[^/]+", "", link)
    done = auth.post(link, {"password": "a brand new password"})
    assert done.headers["Location"] == "/auth/login/code"
    assert client.get("/organiser").status_code == 302
    assert auth.post("/auth/login/code", {"code": _code(secret, clock)}).status_code == 303


# The setting that makes it a must -----------------------------------------------------------


def test_when_required_an_organiser_without_one_enrols_before_anything_else(
    client, htmx_client, auth, sandra, clock, make
):
    with make.app.app_context():
        configure_event(organisers_need_second_factor=True)
    auth.login(email=SANDRA)
    for path in ("/organiser", "/organiser/donations", "/safety/board", "/auth/account", "/"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/auth/two-factor"
    assert client.get("/privacy").status_code == 200
    page = client.get("/auth/two-factor").get_data(as_text=True)
    assert "every organiser logs in with a code from their phone" in page
    enrol(client, auth, clock)
    assert client.get("/organiser").status_code == 200


def test_the_setting_is_on_the_settings_page_and_in_the_history(client, auth, sandra, make):
    from app.events.service import get_event
    from app.organiser.settings import save_settings

    auth.login(email=SANDRA)
    page = client.get("/organiser/settings").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="organisers_need_second_factor"[^>]*type="checkbox"', page)
    assert "Organisers must use a second factor to log in" in page
    with make.app.test_request_context():
        changed = save_settings(get_event(), {"organisers_need_second_factor": True})
        assert changed == ["organisers_need_second_factor"]
        entry = db.session.query(AuditEntry).filter_by(action="event.settings").one()
        assert entry.detail == "organisers_need_second_factor"
        assert get_event().organisers_need_second_factor is True


# A lost phone -------------------------------------------------------------------------------


def test_another_organiser_resets_a_lost_second_factor_recorded_in_the_history(
    app, client, auth, sandra, clock, make
):
    auth.login(email=SANDRA)
    enrol(client, auth, clock)
    morag = make.user(name="Morag Organiser", email="morag@example.org")
    other = app.test_client()
    other_auth = AuthActions(other)
    other_auth.login(email="morag@example.org")
    page = other.get("/organiser/organisers").get_data(as_text=True)
    assert 'Reset it<span class="visually-hidden"> for Sandra Organiser</span>' in page

    response = other_auth.post(f"/organiser/organisers/{sandra}/second-factor/reset")
    assert response.headers["Location"] == "/organiser/organisers"
    assert "second factor is reset" in other.get("/organiser/organisers").text
    with app.app_context():
        assert db.session.get(SecondFactor, sandra) is None
        assert db.session.query(RecoveryCode).filter_by(user_id=sandra).count() == 0
        entry = db.session.query(AuditEntry).filter_by(action="organiser.second_factor_reset").one()
        assert (entry.actor_id, entry.subject_user_id) == (morag, sandra)
    assert client.get("/organiser").status_code == 302  # logged out everywhere
    history = other.get("/organiser/history").get_data(as_text=True)
    assert "Reset an organiser&#39;s second factor (a lost phone)" in history
    # Sandra logs in with her password alone now, and can set up her new phone.
    assert auth.login(email=SANDRA).headers["Location"] == "/organiser"


def test_nobody_resets_their_own_and_participants_cannot(app, client, auth, sandra, clock, make):
    auth.login(email=SANDRA)
    enrol(client, auth, clock)
    own = auth.post(f"/organiser/organisers/{sandra}/second-factor/reset")
    assert own.status_code == 303
    assert "You can&#39;t reset your own" in client.get("/organiser/organisers").text
    with app.app_context():
        assert db.session.get(SecondFactor, sandra) is not None
    make.participant()
    participant = AuthActions(app.test_client())
    participant.login()
    refused = participant.post(f"/organiser/organisers/{sandra}/second-factor/reset")
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(User, sandra).second_factor is not None


@pytest.mark.parametrize("typed", ["١٢٣٤٥٦", "12345", "1234567", "abcdef", "٣" * 12, "é" * 12])
def test_odd_codes_are_just_wrong(client, auth, sandra, clock, typed):
    auth.login(email=SANDRA)
    enrol(client, auth, clock)
    auth.logout()
    auth.login(email=SANDRA)
    assert auth.post("/auth/login/code", {"code": typed}).status_code == 422
    assert auth.post("/auth/login/code", {"recovery_code": typed}).status_code == 422
