"""One meaning of Gift Aid: the public bar, the dashboard and the claim count the same
donations to the penny; a declaration that cannot be claimed counts nowhere and is listed for
the organisers, who can email the donor a link to complete it; the sponsorship wording a donor
confirmed is kept, and a participant's own gift to their own page is flagged."""

import re
import time

from app.events.service import configure_event
from app.extensions import db
from app.models import EVENT_SCOPE, AuditEntry, Donation, OutboxMessage, Totals
from app.organiser import gift_aid_export
from tests.accounts import AuthActions
from tests.test_checkout import pay, session_id_of, submit
from tests.test_donations import GIFT_AID


def public_gift_aid(client) -> str:
    """The Gift Aid figure beside the public bar, as shown ("" when none)."""
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'class="gift-aid">\+ (£[\d,.]+) Gift Aid', page)
    return found[1] if found else ""


def dashboard_figure(client, name: str) -> str:
    page = client.get("/organiser").get_data(as_text=True)
    return re.search(rf'id="figure-{name}">(.*?)</dd>', page, re.S)[1].strip()


def claimed_pence() -> int:
    return gift_aid_export.build_schedule().total_pence


def totals(app) -> Totals:
    with app.app_context():
        row = db.session.get(Totals, EVENT_SCOPE)
        db.session.expunge(row)
        return row


def test_bar_dashboard_and_claim_agree_and_unclaimable_gift_aid_counts_nowhere(
    make, organiser, client
):
    make.donation(2000, gift_aid=True)  # claimable: £5.00
    make.donation(1000, gift_aid=True, fee_cover_pence=35)  # claimed on £10.35: £2.58
    make.donation(4000, gift_aid=True, gift_aid_postcode="")  # no postcode: not claimable
    make.donation(3000, gift_aid=True, gift_aid_first_name="李")  # HMRC would read nothing
    make.donation(5000)  # no Gift Aid asked for

    with make.app.app_context():
        assert claimed_pence() == 2000 + 1035
    row = totals(make.app)
    assert row.gift_aid_eligible_pence == 3035 and row.gift_aid_pence == 758
    assert (row.gift_aid_attention, row.gift_aid_attention_pence) == (2, 7000)
    assert public_gift_aid(client) == "£7.58"
    assert dashboard_figure(organiser.client, "gift-aid") == "£7.58"
    assert "2 donations, £17.50" in dashboard_figure(organiser.client, "gift-aid-attention")


def test_the_attention_list_says_what_is_missing_and_correcting_it_counts_at_once(make, organiser):
    donation_id = make.donation(4000, gift_aid=True, gift_aid_postcode="")
    page = organiser.client.get("/organiser/gift-aid/attention").get_data(as_text=True)
    assert f'id="donation-{donation_id}"' in page
    assert "is not a UK postcode" in page
    assert "Correct the details yourself" in page
    assert "Email the donor" in page

    response = organiser.post(
        f"/organiser/donations/{donation_id}/gift-aid",
        prefix="giftaid",
        data={
            "giftaid-first_name": "Fiona",
            "giftaid-last_name": "Campbell",
            "giftaid-house": "12",
            "giftaid-postcode": "g12 8qq",
            "giftaid-reason": "She emailed her postcode",
        },
    )
    assert response.status_code == 303
    assert totals(make.app).gift_aid_eligible_pence == 4000
    assert totals(make.app).gift_aid_attention == 0
    page = organiser.client.get("/organiser/gift-aid/attention").get_data(as_text=True)
    assert 'id="attention-none"' in page


def _ask_link(app, donation_id) -> str:
    with app.app_context():
        [message] = db.session.query(OutboxMessage).all()
        assert message.to_address == "fiona@example.org"
        return re.search(r"https?://\S+/gift-aid/\S+", message.body_text)[0]


def test_the_donor_completes_their_own_details_from_the_emailed_link(make, organiser, client):
    # A declaration with no sponsorship answer: only the donor can give it.
    donation_id = make.donation(
        2000, gift_aid=True, gift_aid_confirmed_sponsorship=False, gift_aid_sponsorship_version=""
    )
    page = organiser.client.get("/organiser/gift-aid/attention").get_data(as_text=True)
    assert "did not confirm" in page
    assert "Correct the details yourself" not in page  # an organiser can't answer for them
    assert "Could you complete your Gift Aid details" in page  # the ready email, shown first

    response = organiser.post(f"/organiser/gift-aid/attention/{donation_id}/ask")
    assert response.status_code == 303
    link = _ask_link(make.app, donation_id)
    path = "/" + link.split("/", 3)[3]
    organiser.logout()

    form = client.get(path)
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert "did not confirm" in text and "I want to Gift Aid my donation of £20.00" in text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)[1]
    # Without ticking the declaration nothing changes.
    refused = client.post(path, data={"csrf_token": csrf, "first_name": "Fiona"})
    assert refused.status_code == 422
    assert "Tick the box to make the Gift Aid declaration" in refused.get_data(as_text=True)
    assert totals(make.app).gift_aid_eligible_pence == 0

    done = client.post(
        path,
        data={
            "csrf_token": csrf,
            "title": "Ms",
            "first_name": "Fiona",
            "last_name": "Campbell",
            "house": "12",
            "postcode": "G12 8QQ",
            "declare": "y",
            "confirm": "y",
        },
    )
    assert done.status_code == 200
    assert "will claim Gift Aid" in done.get_data(as_text=True)
    assert totals(make.app).gift_aid_eligible_pence == 2000
    with make.app.app_context():
        donation = db.session.get(Donation, donation_id)
        assert donation.gift_aid_sponsorship_version == "own-money-2026-1"
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
        assert actions[-2:] == ["gift_aid.asked", "gift_aid.completed_by_donor"]
    # The link has done its work: it shows nothing of the donor any more.
    again = client.get(path).get_data(as_text=True)
    assert "Nothing more is needed" in again and "Campbell" not in again


def test_a_changed_or_foreign_link_opens_nothing(make, client):
    make.donation(2000, gift_aid=True, gift_aid_postcode="")
    response = client.get("/gift-aid/not-a-real-link")
    assert response.status_code == 404
    assert "This link doesn&#39;t work" in response.get_data(as_text=True)


def test_an_old_link_has_expired(make, organiser, client, monkeypatch):
    donation_id = make.donation(2000, gift_aid=True, gift_aid_postcode="")
    organiser.post(f"/organiser/gift-aid/attention/{donation_id}/ask")
    path = "/" + _ask_link(make.app, donation_id).split("/", 3)[3]
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 61 * 86400)
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def _wait_for_the_outbox(app, timeout: float = 10) -> None:
    """Until the live server has sent what it queued: on SQLite its write lock would otherwise
    meet this test's next write."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            if not db.session.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None)).count():
                return
        time.sleep(0.05)
    raise AssertionError("the outbox was not sent")


def _own_page_donation(donor, stripe_sandbox, event, email):
    response, _ = submit(donor, "/donate/aisha", **GIFT_AID, donor_email=email)
    assert response.status_code == 303, response.text
    pay(stripe_sandbox, session_id_of(response))
    _wait_for_the_outbox(event)  # the live server sends the receipts after its answer
    with event.app_context():
        donation = db.session.query(Donation).order_by(Donation.id.desc()).first()
        db.session.expunge(donation)
        return donation


def test_a_participants_own_gift_to_their_page_is_flagged_while_the_charity_pays_costs(
    donor, stripe_sandbox, event, make
):
    make.participant()  # aisha@example.org
    with event.app_context():
        configure_event(charity_pays_event_costs=True)
    own = _own_page_donation(donor, stripe_sandbox, event, "Aisha@Example.org")
    assert own.gift_aid_sponsorship_version == "not-connected-2026-1"
    assert "participant" in own.gift_aid_flag
    friend = _own_page_donation(donor, stripe_sandbox, event, "friend@example.org")
    assert friend.gift_aid_flag == ""
    row = totals(event)
    assert row.gift_aid_eligible_pence == 2000 and row.gift_aid_attention == 1
    with event.app_context():
        assert [r.donation_id for r in gift_aid_export.build_schedule().rows] == [friend.id]

    # Changing the setting later does not reinterpret what either donor answered.
    with event.app_context():
        configure_event(charity_pays_event_costs=False)
        kept = db.session.get(Donation, own.id)
        assert kept.gift_aid_sponsorship_version == "not-connected-2026-1" and kept.gift_aid_flag
    assert totals(event).gift_aid_eligible_pence == 2000


def test_without_event_costs_paid_by_the_charity_an_own_gift_is_not_flagged(
    donor, stripe_sandbox, event, make
):
    make.participant()
    own = _own_page_donation(donor, stripe_sandbox, event, "aisha@example.org")
    assert own.gift_aid_sponsorship_version == "own-money-2026-1"
    assert own.gift_aid_flag == ""
    assert totals(event).gift_aid_eligible_pence == 2000


def test_an_organiser_may_let_a_flagged_gift_be_claimed_saying_how_they_know(make, organiser):
    donation_id = make.donation(
        2000,
        gift_aid=True,
        gift_aid_sponsorship_version="not-connected-2026-1",
        gift_aid_flag="Given to their own sponsor page by the participant",
    )
    url = f"/organiser/gift-aid/attention/{donation_id}/claim"
    prefix = f"flag-{donation_id}"
    refused = organiser.post(url, prefix=prefix, data={f"{prefix}-reason": ""})
    assert refused.status_code == 422
    assert "Say how you know" in refused.get_data(as_text=True)
    assert totals(make.app).gift_aid_eligible_pence == 0

    reason = "Her mother used Aisha's laptop; she confirmed by phone"
    done = organiser.post(url, prefix=prefix, data={f"{prefix}-reason": reason})
    assert done.status_code == 303
    assert totals(make.app).gift_aid_eligible_pence == 2000
    with make.app.app_context():
        entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        assert (entry.action, entry.reason) == ("gift_aid.flag_cleared", reason)


def test_only_organisers_see_the_attention_list(make, client):
    make.participant()
    assert client.get("/organiser/gift-aid/attention").status_code == 302
    AuthActions(client).login("aisha@example.org")
    assert client.get("/organiser/gift-aid/attention").status_code == 403
