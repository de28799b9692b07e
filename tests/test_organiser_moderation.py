"""Moderation from the dashboard: hide or restore a page, a donor's message or an update,
with the reason in the history; the public pages follow."""

import pytest

from app.extensions import db
from app.models import AuditEntry, Donation, DonationStatus, SponsorPage, SponsorUpdate


@pytest.fixture
def page_id(make):
    return make.participant()


def last_entry(app):
    with app.app_context():
        entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        return (entry.action, entry.actor.email if entry.actor else None, entry.reason)


def test_a_message_is_hidden_with_a_reason_and_restored(make, organiser, client, page_id):
    donation_id = make.donation(1000, page_id=page_id, message="Buy cheap watches at spam.example")
    assert "cheap watches" in client.get("/p/aisha").get_data(as_text=True)
    refused = organiser.post(
        f"/organiser/donations/{donation_id}/message", {f"message-{donation_id}-action": "hide"}
    )
    assert refused.status_code == 422
    assert f'id="message-{donation_id}-reason-error"' in refused.get_data(as_text=True)

    hidden = organiser.post(
        f"/organiser/donations/{donation_id}/message",
        {f"message-{donation_id}-action": "hide", f"message-{donation_id}-reason": "Spam"},
    )
    assert hidden.status_code == 303
    assert "cheap watches" not in client.get("/p/aisha").get_data(as_text=True)
    assert last_entry(make.app) == ("message.hidden", "sandra@example.org", "Spam")
    with make.app.app_context():
        assert db.session.get(Donation, donation_id).message_hidden_at is not None

    organiser.post(
        f"/organiser/donations/{donation_id}/message",
        {f"message-{donation_id}-action": "restore", "next": "moderation"},
    )
    assert "cheap watches" in client.get("/p/aisha").get_data(as_text=True)
    assert last_entry(make.app)[0] == "message.restored"


def test_an_update_is_hidden_with_a_reason_and_restored(make, organiser, client, page_id):
    with make.app.app_context():
        update = SponsorUpdate(sponsor_page_id=page_id, body="Rude words here")
        db.session.add(update)
        db.session.commit()
        update_id = update.id
    moderation = organiser.client.get("/organiser/moderation").get_data(as_text=True)
    assert "Rude words here" in moderation and f'id="update-{update_id}-reason"' in moderation
    missing = organiser.post(
        f"/organiser/updates/{update_id}/moderate", {f"update-{update_id}-action": "hide"}
    )
    assert missing.status_code == 422
    assert f'id="update-{update_id}-reason-error"' in missing.get_data(as_text=True)
    organiser.post(
        f"/organiser/updates/{update_id}/moderate",
        {f"update-{update_id}-action": "hide", f"update-{update_id}-reason": "Language"},
    )
    assert "Rude words here" not in client.get("/p/aisha").get_data(as_text=True)
    assert last_entry(make.app) == ("update.hidden", "sandra@example.org", "Language")
    organiser.post(
        f"/organiser/updates/{update_id}/moderate", {f"update-{update_id}-action": "restore"}
    )
    assert "Rude words here" in client.get("/p/aisha").get_data(as_text=True)
    with make.app.app_context():
        assert db.session.get(SponsorUpdate, update_id).hidden_at is None


def test_a_page_hidden_from_the_page_itself_is_in_the_history_and_restored_here(
    make, organiser, page_id
):
    client = make.app.test_client()  # a visitor
    organiser.post(
        "/p/aisha/moderation",
        {"moderate-action": "hide", "moderate-reason": "Photo not allowed"},
        prefix="moderate",
    )
    assert client.get("/p/aisha").status_code == 404
    assert last_entry(make.app) == ("page.hide", "sandra@example.org", "Photo not allowed")
    listing = organiser.client.get("/organiser/moderation").get_data(as_text=True)
    assert "Photo not allowed" in listing
    organiser.post(f"/organiser/pages/{page_id}/moderate", {f"page-{page_id}-action": "unhide"})
    assert client.get("/p/aisha").status_code == 200
    assert last_entry(make.app)[0] == "page.unhide"
    participants = organiser.client.get("/organiser/participants").get_data(as_text=True)
    assert "Live" in participants


def test_a_page_waiting_for_approval_is_approved_here(make, organiser):
    client = make.app.test_client()  # a visitor
    page_id = make.participant(published=False)
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        page.status = "published"
        db.session.commit()
    assert client.get("/p/aisha").status_code == 404
    bad = organiser.post(f"/organiser/pages/{page_id}/moderate", {f"page-{page_id}-action": "x"})
    assert bad.status_code == 422
    organiser.post(f"/organiser/pages/{page_id}/moderate", {f"page-{page_id}-action": "approve"})
    assert client.get("/p/aisha").status_code == 200


@pytest.mark.parametrize(
    "url", ["/organiser/pages/999/moderate", "/organiser/updates/999/moderate"]
)
def test_moderating_nothing_is_a_404(organiser, url):
    assert organiser.post(url, {}).status_code == 404


def test_only_messages_the_public_sees_or_will_see_are_listed(make, organiser, page_id):
    """Declined, abandoned and expired donations were never public: nothing to moderate."""
    shown = {
        "Paid and counted": DonationStatus.PAID,
        "Bank debit settling": DonationStatus.PROCESSING,
    }
    never_public = {
        "Card declined": DonationStatus.FAILED,
        "Checkout abandoned": DonationStatus.PENDING,
        "Checkout expired": DonationStatus.EXPIRED,
    }
    for message, status in {**shown, **never_public}.items():
        make.donation(1000, page_id=page_id, status=status, message=message)
    held = make.donation(1000, page_id=page_id, message="Held for review")
    with make.app.app_context():
        db.session.get(Donation, held).review_reason = "dispute"
        db.session.commit()

    listing = organiser.client.get("/organiser/moderation").get_data(as_text=True)
    for message in shown:
        assert message in listing
    for message in [*never_public, "Held for review"]:
        assert message not in listing
