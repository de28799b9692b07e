"""Accounts: sign-up confirmed by email, log-in and out, password reset, the first organiser."""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.auth import service
from app.extensions import db
from app.models import PendingSignup, Role, User
from tests.accounts import PASSWORD

NEW_PASSWORD = "a brand new password"


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def _link(message) -> str:
    """The path of the one link in an email (SITE_URL stripped, for the test client)."""
    url = re.search(r"https?://\S+", _body(message)).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


def _without_tokens(html: str) -> str:
    """A page with its per-session CSRF token taken out, to compare two answers."""
    html = re.sub(r'value="[^"]*" *>', 'value="">', html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


def _signup(auth, name="Morag Fraser", email="morag@example.org", password=PASSWORD, **kwargs):
    response = auth.post(
        "/auth/signup", {"name": name, "email": email, "password": password}, **kwargs
    )
    response.close()  # the mail goes once the response is finished
    return response


# Sign-up ------------------------------------------------------------------------------


def test_signup_form_labels_every_field(client, event):
    page = client.get("/auth/signup").get_data(as_text=True)
    for label in ("Your name", "Email address", "Password"):
        assert f">{label}</label>" in page
    assert 'autocomplete="new-password"' in page
    assert 'hx-post="/auth/signup"' in page and 'action="/auth/signup"' in page


def test_signup_links_the_privacy_notice_once_it_exists(app, client, event):
    if "events.show_privacy" not in app.view_functions:
        app.add_url_rule("/privacy", "events.show_privacy", lambda: "privacy")
    assert '<a href="/privacy">' in client.get("/auth/signup").get_data(as_text=True)


def test_signup_emails_a_link_and_makes_no_account_until_it_is_followed(client, auth, event, smtp):
    response = _signup(auth, email="  Morag@Example.org ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email"
    page = client.get("/auth/check-email").get_data(as_text=True)
    assert "Check your email" in page and "morag@example.org" in page

    [message] = smtp.to("morag@example.org")
    assert message["Subject"] == "Confirm your email address"
    assert "Hello Morag Fraser" in _body(message)
    with event.app_context():
        assert db.session.query(User).count() == 0
        pending = db.session.query(PendingSignup).one()
        assert pending.email == "morag@example.org"
        assert pending.password_hash.startswith("scrypt:")  # never the password itself
        assert PASSWORD not in pending.password_hash

    link = _link(message)
    confirm_page = client.get(link)  # mail scanners follow links: a GET changes nothing
    assert b"Confirm my account" in confirm_page.data
    with event.app_context():
        assert db.session.query(User).count() == 0

    confirmed = auth.post(link)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/me"
    home = client.get("/me").get_data(as_text=True)
    assert "Welcome, Morag Fraser! Your account is ready." in home
    with event.app_context():
        user = db.session.query(User).one()
        assert (user.email, user.name, user.role) == (
            "morag@example.org",
            "Morag Fraser",
            Role.PARTICIPANT,
        )
        assert db.session.query(PendingSignup).count() == 0

    # The link works once.
    auth.logout()
    again = client.get(link)
    assert again.status_code == 404
    assert b"This link no longer works" in again.data


def test_signup_with_an_existing_address_looks_the_same_and_tells_the_owner(
    client, auth, make, smtp
):
    make.participant("Aisha Rahman", "aisha")
    new = _signup(auth, email="newcomer@example.org")
    new_page = client.get(new.headers["Location"]).get_data(as_text=True)
    existing = _signup(auth, email="aisha@example.org")
    existing_page = client.get(existing.headers["Location"]).get_data(as_text=True)

    assert (new.status_code, new.headers["Location"]) == (
        existing.status_code,
        existing.headers["Location"],
    )
    assert _without_tokens(new_page).replace("newcomer", "X") == _without_tokens(
        existing_page
    ).replace("aisha", "X")

    [message] = smtp.to("aisha@example.org")
    assert message["Subject"] == "You already have an account"
    assert "/auth/login" in _body(message) and "/auth/reset" in _body(message)
    with make.app.app_context():
        assert db.session.query(PendingSignup).filter_by(email="aisha@example.org").count() == 0
        assert db.session.query(User).filter_by(email="aisha@example.org").one().name == (
            "Aisha Rahman"
        )


def test_only_the_first_of_two_signup_links_makes_the_account(client, auth, event, smtp):
    _signup(auth, name="First", email="twice@example.org")
    _signup(auth, name="Second", email="twice@example.org")
    first, second = (_link(m) for m in smtp.to("twice@example.org"))
    assert auth.post(second).headers["Location"] == "/me"
    auth.logout()
    response = auth.post(first)
    assert response.status_code == 404
    assert "If you have already confirmed your account" in response.get_data(as_text=True)
    with event.app_context():
        assert [u.name for u in db.session.query(User)] == ["Second"]


def test_a_forged_or_mangled_signup_link_is_refused(client, event):
    for token in ("nonsense", "MQ.abc.def", "x" * 300):
        response = client.get(f"/auth/confirm/{token}")
        assert response.status_code == 404
        assert b"This link no longer works" in response.data


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name"),
        ({"name": "x" * 101}, "name", "Your name must be 100 characters or fewer"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        ({"password": ""}, "password", "Choose a password"),
        ({"password": "short"}, "password", "at least 10 characters long"),
        ({"password": "x" * 201}, "password", "at most 200 characters long"),
    ],
)
def test_signup_errors_are_shown_beside_their_field(client, auth, event, fields, field, message):
    data = {"name": "Morag", "email": "morag@example.org", "password": PASSWORD, **fields}
    response = auth.post("/auth/signup", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'class="error-message" id="{field}-error">' in page
    assert message in page
    tag = re.search(rf'<input[^>]* id="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and f"{field}-error" in tag
    assert "There is a problem" in page and f'href="#{field}"' in page
    with event.app_context():
        assert db.session.query(PendingSignup).count() == 0


def test_signup_with_htmx_swaps_the_form_or_redirects(client, auth, event, smtp):
    htmx = {"HX-Request": "true"}
    data = {"name": "", "email": "x", "password": "y"}
    bad = auth.post("/auth/signup", data, headers=htmx)
    assert bad.status_code == 422
    fragment = bad.get_data(as_text=True)
    assert fragment.startswith('<form id="signup-form"') and "<html" not in fragment
    assert "Enter your name" in fragment and "Enter an email address" in fragment
    page = auth.post("/auth/signup", data).get_data(as_text=True)
    assert _without_csrf(fragment.strip()) in _without_csrf(page)

    good = _signup(auth, headers=htmx)
    assert good.status_code == 204
    assert good.headers["HX-Redirect"] == "/auth/check-email"
    assert len(smtp.to("morag@example.org")) == 1


def _without_csrf(html: str) -> str:
    # A CSRF token carries the second it was made: two answers a second apart differ there.
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token"', html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)


def test_someone_logged_in_is_sent_home_from_signup_and_login(client, auth, make):
    make.participant()
    auth.login()
    assert client.get("/auth/signup").headers["Location"] == "/me"
    assert client.get("/auth/login").headers["Location"] == "/me"


def test_check_email_page_without_a_request_goes_to_login(client, event):
    assert client.get("/auth/check-email").headers["Location"] == "/auth/login"


# Log-in and log-out -------------------------------------------------------------------


def test_login_goes_home_and_starts_a_fresh_session(client, auth, make):
    make.participant()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = auth.login(email=" AISHA@example.org ")
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    with client.session_transaction() as session:
        assert "planted" not in session
    page = client.get("/me").get_data(as_text=True)
    assert "Hello, Aisha Rahman" in page and "Log out" in page
    # CSRF still works in the new session: a form posts fine.
    assert auth.logout().status_code == 303


def test_wrong_password_and_unknown_address_get_the_same_answer(client, auth, make):
    make.participant()
    wrong = auth.login(password="not the password")
    unknown = auth.login(email="nobody@example.org", password="not the password")
    assert wrong.status_code == unknown.status_code == 422
    wrong_page = _without_tokens(wrong.get_data(as_text=True))
    unknown_page = _without_tokens(unknown.get_data(as_text=True))
    assert wrong_page.replace("aisha@example.org", "X") == unknown_page.replace(
        "nobody@example.org", "X"
    )
    assert "don&#39;t match an account" in wrong_page
    assert "Hello" not in client.get("/me", follow_redirects=True).get_data(as_text=True)


def test_login_form_needs_both_fields(auth, event):
    page = auth.post("/auth/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address" in page and "Enter your password" in page


def test_pages_behind_login_send_you_to_log_in_and_back(client, auth, make):
    make.participant()
    response = client.get("/me/page")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fme%2Fpage"
    assert "Please log in to see that page." in client.get(response.headers["Location"]).text
    logged_in = auth.post(
        "/auth/login?next=%2Fme%2Fpage", {"email": "aisha@example.org", "password": PASSWORD}
    )
    assert logged_in.headers["Location"] == "/me/page"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_the_site(auth, make, target):
    make.participant()
    response = auth.post(
        f"/auth/login?next={target}", {"email": "aisha@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/me"


def test_logout_is_a_post_with_a_token(client, auth, make):
    make.participant()
    auth.login()
    assert client.get("/auth/logout").status_code == 405
    forged = client.post("/auth/logout")  # another site can't log you out
    assert forged.status_code == 400
    assert b"Please try that again" in forged.data
    assert client.get("/me").status_code == 200
    response = auth.logout()
    assert response.headers["Location"] == "/"
    assert client.get("/me").status_code == 302


# Password reset -----------------------------------------------------------------------


def test_reset_emails_a_link_that_works_once(client, auth, make, smtp):
    make.participant()
    response = auth.post("/auth/reset", {"email": "aisha@example.org"})
    response.close()
    assert response.headers["Location"] == "/auth/check-email"
    assert "If <strong>aisha@example.org</strong> has an account" in client.get(
        "/auth/check-email"
    ).get_data(as_text=True)
    [message] = smtp.to("aisha@example.org")
    assert message["Subject"] == "Reset your password"
    assert "60 minutes" in _body(message)
    link = _link(message)

    assert b"Choose a new password" in client.get(link).data
    short = auth.post(link, {"password": "short"})
    assert short.status_code == 422
    assert "at least 10 characters long" in short.get_data(as_text=True)

    done = auth.post(link, {"password": NEW_PASSWORD})
    assert done.headers["Location"] == "/me"
    assert "Your password has been changed" in client.get("/me").get_data(as_text=True)

    auth.logout()
    assert client.get(link).status_code == 404  # used: the password hash it names is gone
    assert auth.login(password=PASSWORD).status_code == 422
    assert auth.login(password=NEW_PASSWORD).status_code == 303


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, auth, make, smtp):
    make.participant()
    known = auth.post("/auth/reset", {"email": "aisha@example.org"})
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    unknown = auth.post("/auth/reset", {"email": "nobody@example.org"})
    unknown_page = client.get(unknown.headers["Location"]).get_data(as_text=True)
    known.close()
    unknown.close()
    assert known.headers["Location"] == unknown.headers["Location"]
    assert _without_tokens(known_page).replace("aisha", "X") == _without_tokens(
        unknown_page
    ).replace("nobody", "X")
    assert smtp.to("nobody@example.org") == []


def test_reset_form_checks_the_address(auth, event):
    response = auth.post("/auth/reset", {"email": "not an address"})
    assert response.status_code == 422
    assert "Enter an email address in the correct format" in response.get_data(as_text=True)


def test_a_reset_link_expires_after_an_hour(client, make):
    class AnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3601

    make.participant()
    with make.app.test_request_context():
        user = service.user_by_email("aisha@example.org")
        claim = {"user": user.id, "fp": user.password_fingerprint}
        secret = make.app.config["SECRET_KEY"]
        stale = URLSafeTimedSerializer(secret, "plunge-reset", signer=AnHourAgo).dumps(claim)
        fresh = service._serializer("reset").dumps(claim)
    assert client.get(f"/auth/reset/{stale}").status_code == 404
    assert client.get(f"/auth/reset/{fresh}").status_code == 200


def test_changing_the_password_logs_out_other_sessions(app, client, auth, make):
    make.participant()
    auth.login()
    assert client.get("/me").status_code == 200
    with app.app_context():
        service.set_password(service.user_by_email("aisha@example.org"), NEW_PASSWORD)
    assert client.get("/me").status_code == 302


def test_a_session_naming_no_real_user_is_logged_out(client, make):
    make.participant()
    for user_id in ("999:abc", "nonsense", "1:wrong-fingerprint"):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
        assert client.get("/me").status_code == 302


# Friendly refusals --------------------------------------------------------------------


def test_a_form_without_its_token_gets_a_friendly_page(client, event):
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert b"Please try that again" in response.data and b"Nothing was saved" in response.data


def test_too_many_attempts_get_a_friendly_page(database_url, tmp_path, make):
    from app import create_app
    from app.extensions import limiter
    from tests.accounts import AuthActions

    limited = create_app(
        env="test",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": True,
        },
    )
    try:
        auth = AuthActions(limited.test_client())
        statuses = [auth.login(password="wrong guess").status_code for _ in range(11)]
        assert statuses[:10] == [422] * 10
        assert statuses[10] == 429
        assert b"Too many tries" in auth.login(password="wrong").data
    finally:
        limiter.reset()
        limiter.enabled = False  # the limiter is one object shared by every app
        with limited.app_context():
            db.engine.dispose()  # close this app's connections, not leave them to the GC


# The first organiser ------------------------------------------------------------------


def test_organiser_create_prompts_for_name_and_password(runner, app):
    result = runner.invoke(
        args=["organiser", "create", "Sandra@Example.org"],
        input=f"Sandra Organiser\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Organiser Sandra Organiser <sandra@example.org> can now log in." in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        user = service.authenticate("sandra@example.org", PASSWORD)
        assert user is not None and user.role == Role.ORGANISER


def test_organiser_create_refuses_bad_input(runner, make):
    make.participant()
    taken = runner.invoke(
        args=["organiser", "create", "aisha@example.org"],
        input=f"Aisha\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert taken.exit_code != 0 and "already has an account" in taken.output
    bad_email = runner.invoke(
        args=["organiser", "create", "not-an-email"], input=f"X\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert bad_email.exit_code != 0 and "Invalid value for EMAIL" in bad_email.output
    short = runner.invoke(
        args=["organiser", "create", "new@example.org"], input="New\nshort\nshort\n"
    )
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    with make.app.app_context():
        assert db.session.query(User).count() == 1


def test_an_organiser_can_log_in(client, auth, make):
    make.user(email="sandra@example.org")
    assert auth.login(email="sandra@example.org").headers["Location"] == "/organiser"
    assert "Organiser dashboard" in client.get("/organiser").get_data(as_text=True)


def _nav(page: str) -> str:
    return page.split('aria-label="Your account"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.parametrize(
    ("role", "lands_on", "links"),
    [
        (Role.ORGANISER, "/organiser", ["Organiser dashboard", "Safety board"]),
        (Role.INSTRUCTOR, "/safety/board", ["Safety board"]),
    ],
)
def test_staff_land_on_their_own_pages_and_see_only_their_navigation(
    client, auth, make, role, lands_on, links
):
    """Organisers and instructors are staff accounts: no sponsor page, no checklist of their own."""
    make.user(email="staff@example.org", role=role)
    assert auth.login(email="staff@example.org").headers["Location"] == lands_on
    assert client.get("/auth/login").headers["Location"] == lands_on  # already logged in
    nav = _nav(client.get(lands_on).get_data(as_text=True))
    for link in links:
        assert f">{link}</a>" in nav
    assert "My page" not in nav and "My safety checklist" not in nav


def test_participants_see_their_own_navigation(client, auth, make):
    make.participant()
    assert auth.login().headers["Location"] == "/me"
    nav = _nav(client.get("/me").get_data(as_text=True))
    assert ">My page</a>" in nav and ">My safety checklist</a>" in nav
    assert "Organiser dashboard" not in nav and "Safety board" not in nav
