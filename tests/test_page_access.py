"""One participant can never see or change another's draft, settings, photo, updates or
replies: every route of the pages, me, auth and images blueprints, tried by another participant
and by a visitor who is not logged in."""

from io import BytesIO

import pytest

from app.extensions import db
from app.models import Donation, SponsorPage, SponsorUpdate, StoredImage, Totals
from tests.accounts import AuthActions
from tests.test_page_photos import image_bytes

SECRETS = ("SECRET-TITLE", "SECRET-STORY", "SECRET-UPDATE", "SECRET-THANKS")


@pytest.fixture
def victim(make, client):
    """Aisha's draft page with a photo, an update, and a thanked donation."""
    page_id = make.participant("Aisha Rahman", "aisha", published=False)
    donation_id = make.donation(2000, page_id=page_id, donor_name="Fiona")
    auth = AuthActions(client)
    auth.login()
    auth.post(
        "/me/page", {"title": SECRETS[0], "slug": "aisha", "target": "300", "story": SECRETS[1]}
    )
    auth.post(
        "/me/page/photo",
        {"photo-file": (BytesIO(image_bytes()), "me.jpg"), "photo-alt": "Aisha"},
        prefix="photo",
        content_type="multipart/form-data",
    )
    auth.post("/me/updates", {"update-body": SECRETS[2]}, prefix="update")
    auth.post(
        f"/me/donations/{donation_id}/thanks",
        {f"thanks-{donation_id}-reply": SECRETS[3]},
        prefix=f"thanks-{donation_id}",
    )
    auth.logout()
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        update_id = db.session.query(SponsorUpdate).one().id
        return {
            "page_id": page_id,
            "photo": page.photo_sha256,
            "update_id": update_id,
            "donation_id": donation_id,
        }


def _snapshot(app, victim) -> dict:
    """Everything of Aisha's that another person must not change."""
    with app.app_context():
        page = db.session.get(SponsorPage, victim["page_id"])
        columns = SponsorPage.__table__.columns.keys()
        return {
            "page": {name: getattr(page, name) for name in columns if name != "updated_at"},
            "updates": [
                (u.id, u.body, u.hidden_at)
                for u in db.session.query(SponsorUpdate).filter_by(sponsor_page_id=page.id)
            ],
            "donation": db.session.get(Donation, victim["donation_id"]).thank_you,
            "totals": db.session.get(Totals, page.totals_scope).version,
            "photo": db.session.get(StoredImage, page.photo_sha256).content,
        }


def _attempts(victim) -> dict[str, list[tuple]]:
    """For each endpoint: (method, url, form data, form prefix, names Aisha's things)."""
    slug, photo = "aisha", victim["photo"]
    update_id, donation_id = victim["update_id"], victim["donation_id"]
    takeover = {"title": "Taken over", "slug": "aisha", "target": "1", "story": "mine now"}
    upload = {"photo-file": (BytesIO(image_bytes()), "x.jpg"), "photo-alt": "x"}
    return {
        "pages.show_page": [("GET", f"/p/{slug}", None, "", True)],
        "pages.show_progress": [("GET", f"/p/{slug}/progress", None, "", True)],
        "images.show_image": [("GET", f"/images/{photo}.jpg", None, "", True)],
        "pages.qr_svg": [("GET", f"/p/{slug}/qr.svg", None, "", True)],
        "pages.qr_png": [("GET", f"/p/{slug}/qr.png", None, "", True)],
        "pages.show_share_image": [("GET", f"/p/{slug}/share.png", None, "", True)],
        "pages.moderate_page": [
            (
                "POST",
                f"/p/{slug}/moderation",
                {"moderate-action": action, "moderate-reason": "gone"},
                "moderate",
                True,
            )
            for action in ("hide", "approve", "unhide")
        ],
        "pages.hide_update": [("POST", f"/p/{slug}/updates/{update_id}/hide", {}, "", True)],
        "me.home": [("GET", "/me", None, "", False)],
        "me.edit_page": [
            ("GET", "/me/page", None, "", False),
            ("POST", "/me/page", takeover, "", False),
        ],
        "me.check_slug": [("GET", f"/me/page/slug?slug={slug}", None, "", False)],
        "me.upload_photo": [("POST", "/me/page/photo", upload, "photo", False)],
        "me.delete_photo": [("POST", "/me/page/photo/delete", {}, "", False)],
        "me.publish_page": [("POST", "/me/page/publish", {}, "", False)],
        "me.unpublish_page": [("POST", "/me/page/unpublish", {}, "", False)],
        "me.post_update": [("POST", "/me/updates", {"update-body": "hi"}, "update", False)],
        "me.delete_update": [("POST", f"/me/updates/{update_id}/delete", {}, "", True)],
        "me.thank_donor": [
            (
                "POST",
                f"/me/donations/{donation_id}/thanks",
                {f"thanks-{donation_id}-reply": "hijacked"},
                f"thanks-{donation_id}",
                True,
            )
        ],
        "me.report_cash": [("POST", "/me/cash", {"cash-amount": "10"}, "cash", False)],
        # Only ever one's own account; a wrong password here deletes nobody.
        "me.delete_account": [
            ("POST", "/me/delete", {"password": "not-hers", "confirm": "y"}, "", False)
        ],
        "auth.accept_invite": [("GET", "/auth/invite/forged", None, "", False)],
        "auth.signup": [("GET", "/auth/signup", None, "", False)],
        "auth.check_email": [("GET", "/auth/check-email", None, "", False)],
        "auth.confirm_signup": [("GET", "/auth/confirm/forged", None, "", False)],
        "auth.login": [("GET", "/auth/login", None, "", False)],
        "auth.logout": [("POST", "/auth/logout", {}, "", False)],
        "auth.request_reset": [("GET", "/auth/reset", None, "", False)],
        "auth.reset_password": [("GET", "/auth/reset/forged", None, "", False)],
        "auth.enter_code": [("POST", "/auth/login/code", {"code": "123456"}, "", False)],
        "auth.confirm_password": [("GET", "/auth/confirm-password?next=/me/page", None, "", False)],
        "auth.account.show_account": [("GET", "/auth/account", None, "", False)],
        "auth.account.log_out_everywhere": [
            ("POST", "/auth/account/logout-everywhere", {}, "", False)
        ],
        "auth.account.renew_recovery_codes": [
            ("POST", "/auth/account/recovery-codes", {}, "", False)
        ],
        "auth.two_factor.enrol": [("POST", "/auth/two-factor", {"code": "123456"}, "", False)],
    }


def _blueprint_endpoints(app) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("pages.", "me.", "auth.", "images."))
    }


@pytest.mark.parametrize("who", ["another participant", "a visitor"])
def test_nobody_else_sees_or_changes_a_participants_page(app, client, make, victim, who):
    if who == "another participant":
        make.participant("Callum MacLeod", "callum")
    before = _snapshot(app, victim)
    attempts = _attempts(victim)
    assert set(attempts) == _blueprint_endpoints(app), "a route is missing from this test"

    for endpoint, tries in attempts.items():
        for method, url, data, prefix, names_victims in tries:
            auth = AuthActions(app.test_client())
            if who == "another participant":
                auth.login(email="callum@example.org")
            if method == "GET":
                response = auth.client.get(url)
            else:
                response = auth.post(url, data, prefix=prefix, content_type="multipart/form-data")
            label = f"{who}: {method} {url} ({endpoint})"
            assert response.status_code < 500, label
            if names_victims:
                expected = (403, 404) if who == "another participant" else (302, 404)
                assert response.status_code in expected, label
            body = response.get_data()
            assert before["photo"] not in body, label
            for secret in SECRETS:
                assert secret.encode() not in body, label
            response.close()

    assert _snapshot(app, victim) == before


def test_the_owner_and_organisers_do_see_the_draft(app, make, victim):
    make.user()
    for email in ("aisha@example.org", "sandra@example.org"):
        auth = AuthActions(app.test_client())
        auth.login(email=email)
        html = auth.client.get("/p/aisha").get_data(as_text=True)
        assert SECRETS[0] in html and SECRETS[1] in html and SECRETS[2] in html
        assert "Draft." in html
        photo = auth.client.get(f"/images/{victim['photo']}.jpg")
        assert photo.status_code == 200
        photo.close()
