"""Every organiser route, tried by a visitor, a participant, an instructor and an organiser.

The table must name every route of the organiser blueprint: a new route without an entry
fails `test_every_organiser_route_is_in_the_table`."""

from datetime import date

import pytest

from app.extensions import db
from app.models import DonationSource, DonationStatus, GiftAidClaim, Role, SponsorUpdate
from tests.accounts import AuthActions


@pytest.fixture
def things(make, client):
    """An organiser, an instructor, a participant with a page, an update and a donation."""
    organiser_id = make.user()
    make.user("Ian Instructor", "ian@example.org", Role.INSTRUCTOR)
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id, message="Go on!")
    cash_id = make.donation(
        3000, page_id=page_id, status=DonationStatus.PENDING, source=DonationSource.OFFLINE
    )
    with make.app.app_context():
        update = SponsorUpdate(sponsor_page_id=page_id, body="Training went well")
        db.session.add(update)
        db.session.commit()
        claim = GiftAidClaim(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30))
        db.session.add(claim)
        db.session.commit()
        update_id, claim_id = update.id, claim.id
    return {
        "page": page_id,
        "donation": donation_id,
        "cash": cash_id,
        "update": update_id,
        "claim": claim_id,
        "organiser": organiser_id,
    }


def routes(ids) -> dict[str, tuple[str, str]]:
    """endpoint: (method, url)."""
    d, c, p, u = ids["donation"], ids["cash"], ids["page"], ids["update"]
    k = ids["claim"]
    return {
        "organiser.dashboard": ("GET", "/organiser"),
        "organiser.show_totals": ("GET", "/organiser/totals"),
        "organiser.list_donations": ("GET", "/organiser/donations"),
        "organiser.show_donation": ("GET", f"/organiser/donations/{d}"),
        "organiser.list_participants": ("GET", "/organiser/participants"),
        "organiser.show_history": ("GET", "/organiser/history"),
        "organiser.money.record_offline": ("GET", "/organiser/offline/new"),
        "organiser.money.confirm_cash": ("POST", f"/organiser/donations/{c}/confirm"),
        "organiser.money.reject_cash": ("POST", f"/organiser/donations/{c}/reject"),
        "organiser.money.refund_donation": ("POST", f"/organiser/donations/{d}/refund"),
        "organiser.money.decide_held_donation": ("POST", f"/organiser/donations/{d}/review"),
        "organiser.money.correct_donation_gift_aid": ("POST", f"/organiser/donations/{d}/gift-aid"),
        "organiser.gift_aid.needs_attention": ("GET", "/organiser/gift-aid/attention"),
        "organiser.gift_aid.ask": ("POST", f"/organiser/gift-aid/attention/{d}/ask"),
        "organiser.gift_aid.claim_flagged": ("POST", f"/organiser/gift-aid/attention/{d}/claim"),
        "organiser.moderation.show_moderation": ("GET", "/organiser/moderation"),
        "organiser.moderation.moderate_page": ("POST", f"/organiser/pages/{p}/moderate"),
        "organiser.moderation.moderate_message": ("POST", f"/organiser/donations/{d}/message"),
        "organiser.moderation.moderate_update": ("POST", f"/organiser/updates/{u}/moderate"),
        "organiser.exports.show_exports": ("GET", "/organiser/exports"),
        "organiser.exports.download_donations": ("GET", "/organiser/exports/donations.csv"),
        "organiser.claims.list_claims": ("GET", "/organiser/gift-aid/claims"),
        "organiser.claims.start_claim": ("POST", "/organiser/gift-aid/claims"),
        "organiser.claims.show_claim": ("GET", f"/organiser/gift-aid/claims/{k}"),
        "organiser.claims.download_claim": ("GET", f"/organiser/gift-aid/claims/{k}/claim.ods"),
        "organiser.claims.mark_submitted": ("POST", f"/organiser/gift-aid/claims/{k}/submitted"),
        "organiser.claims.discard_claim": ("POST", f"/organiser/gift-aid/claims/{k}/discard"),
        "organiser.settings.edit_settings": ("GET", "/organiser/settings"),
        "organiser.settings.upload_picture": ("POST", "/organiser/settings/pictures/logo"),
        "organiser.settings.delete_picture": ("POST", "/organiser/settings/pictures/logo/delete"),
        "organiser.settings.list_organisers": ("GET", "/organiser/organisers"),
        "organiser.settings.invite_organiser": ("POST", "/organiser/organisers/invite"),
        "organiser.settings.reset_second_factor": (
            "POST",
            f"/organiser/organisers/{ids['organiser']}/second-factor/reset",
        ),
        "organiser.after_event.edit_message": ("GET", "/organiser/after-event"),
        "organiser.after_event.show_status": ("GET", "/organiser/after-event/status"),
        "organiser.after_event.send_test": ("POST", "/organiser/after-event/test"),
        "organiser.after_event.send_message": ("POST", "/organiser/after-event/send"),
        "organiser.privacy.find_person": ("GET", "/organiser/privacy"),
        "organiser.privacy.show_person": ("POST", "/organiser/privacy/person"),
        "organiser.privacy.download": ("POST", "/organiser/privacy/download"),
        "organiser.privacy.correct_person": ("POST", "/organiser/privacy/correct"),
        "organiser.privacy.review_erasure": ("POST", "/organiser/privacy/erase/check"),
        "organiser.privacy.erase_person": ("POST", "/organiser/privacy/erase"),
    }


def test_every_organiser_route_is_in_the_table(app, things):
    registered = {rule.endpoint for rule in app.url_map.iter_rules()}
    organiser = {endpoint for endpoint in registered if endpoint.startswith("organiser.")}
    assert organiser == set(routes(things)), "add the new route to routes() in this file"


def _request(client, method, url):
    auth = AuthActions(client)
    if method == "GET":
        return client.get(url)
    # A real form's token, so the answer is about who asks, not about CSRF.
    return client.post(url, headers={"X-CSRFToken": auth.csrf_token()})


@pytest.mark.parametrize(
    "who, email",
    [
        ("visitor", None),
        ("participant", "aisha@example.org"),
        ("instructor", "ian@example.org"),
        ("organiser", "sandra@example.org"),
    ],
)
def test_only_organisers_reach_organiser_pages(app, things, who, email):
    client = app.test_client()
    if email:
        assert AuthActions(client).login(email).status_code == 303
    for endpoint, (method, url) in routes(things).items():
        response = _request(client, method, url)
        if who == "visitor":
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/auth/login?next="), endpoint
        elif who in ("participant", "instructor"):
            assert response.status_code == 403, endpoint
            assert "for the event's organisers" in response.get_data(as_text=True)
        elif method == "GET":
            assert response.status_code == 200, endpoint
        else:
            # An empty form: the organiser is let in and told what is missing (or sent on).
            assert response.status_code in (200, 303, 422), (endpoint, response.status_code)


def test_a_participant_cannot_change_anything_through_organiser_routes(app, things):
    client = app.test_client()
    AuthActions(client).login()
    before = _snapshot(app)
    token = AuthActions(client).csrf_token()
    d = things["donation"]
    client.post(
        f"/organiser/donations/{d}/refund",
        data={"refund-amount": "20", "refund-refund_key": "abcdefgh12"},
        headers={"X-CSRFToken": token},
    )
    client.post(
        f"/organiser/donations/{d}/message",
        data={"message-action": "hide", "message-reason": "mine"},
        headers={"X-CSRFToken": token},
    )
    assert _snapshot(app) == before


def _snapshot(app):
    from app.models import AuditEntry, Donation, Totals

    with app.app_context():
        return (
            [(d.id, d.refunded_pence, d.message_hidden_at) for d in db.session.query(Donation)],
            [(t.scope, t.raised_pence, t.version) for t in db.session.query(Totals)],
            db.session.query(AuditEntry).count(),
        )
