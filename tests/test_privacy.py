"""People's data rights (app/privacy): an organiser finds everything held about one address,
downloads it for a subject access request (everything of theirs, nothing of anyone else's),
corrects it and erases it; a participant deletes their own account. Erasure leaves every
total and every Gift Aid claim as it was, to the penny, and two erasures at once do it once."""

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import create_app
from app.extensions import db
from app.mailing import consent, may_email
from app.models import (
    EVENT_ID,
    AfterEventDelivery,
    AfterEventMessage,
    AuditEntry,
    Donation,
    GiftAidClaimLine,
    LoginSession,
    OutboxMessage,
    Role,
    SponsorPage,
    Totals,
    User,
    utcnow,
)
from app.organiser import gift_aid_claims
from app.privacy import erasure
from app.privacy.records import person_ref
from tests.accounts import PASSWORD, AuthActions
from tests.conftest import Factory, configure_test_event, fresh_schema
from tests.test_gift_aid_claims import FIRST, LAST, paid

FIONA = "fiona@example.org"
# Not Fiona: the same name at other addresses, and addresses that merely contain hers.
OTHERS = ("fiona.c@example.org", "xfiona@example.org", "fiona@example.org.uk")


def _outbox(app, to: str, subject: str, body: str) -> None:
    with app.app_context():
        db.session.add(OutboxMessage(to_address=to, subject=subject, body_text=body))
        db.session.commit()


@pytest.fixture
def people(make):
    """Fiona's donations (one under her address in capitals, one with Gift Aid) and emails,
    and the same name's donations at other addresses."""
    page_id = make.participant()
    mine = [
        make.donation(1000, page_id, donor_email=FIONA, message="Go Aisha, from Fiona!"),
        make.donation(2500, page_id, donor_email="  Fiona@Example.ORG", message="Again!"),
        make.donation(4000, page_id, donor_email=FIONA, gift_aid=True),
    ]
    theirs = [
        make.donation(700 + n, page_id, donor_email=address, message=f"Other Fiona {n}")
        for n, address in enumerate(OTHERS)
    ]
    _outbox(make.app, FIONA, "Thank you, Fiona", "Your receipt for £10.00")
    _outbox(make.app, OTHERS[0], "Thank you, other Fiona", "A receipt for someone else")
    return {"page_id": page_id, "mine": mine, "theirs": theirs}


def _snapshot(app) -> dict:
    """Every total and every claimed line, as numbers."""
    with app.app_context():
        totals = {
            row.scope: {c.name: getattr(row, c.name) for c in Totals.__table__.columns}
            for row in db.session.scalars(select(Totals))
        }
        for row in totals.values():
            row.pop("version", None)
            row.pop("updated_at", None)
        lines = [
            {c.name: getattr(line, c.name) for c in GiftAidClaimLine.__table__.columns}
            for line in db.session.scalars(select(GiftAidClaimLine).order_by(GiftAidClaimLine.id))
        ]
        contributions = [
            d.contribution() for d in db.session.scalars(select(Donation).order_by(Donation.id))
        ]
        return {"totals": totals, "lines": lines, "contributions": contributions}


def _find(organiser, address: str):
    return organiser.post("/organiser/privacy/person", {"email": address})


def _erase(organiser, address: str, **extra):
    data = {"email": address, "reason": "Her request of 1 May", "confirm": "y", **extra}
    return organiser.post("/organiser/privacy/erase", data)


# Finding and downloading ---------------------------------------------------------------------


def test_the_person_page_lists_every_record_of_the_address_whatever_its_case(people, organiser):
    page = _find(organiser, "FIONA@example.org").text
    assert "Donations (3)" in page
    assert "Go Aisha, from Fiona!" in page and "Again!" in page
    assert "Other Fiona" not in page
    assert "Thank you, Fiona" in page and "other Fiona" not in page


@pytest.mark.parametrize("kind", ["json", "html"])
def test_the_subject_access_download_has_everything_of_hers_and_nothing_of_anyone_elses(
    people, organiser, kind
):
    response = organiser.post("/organiser/privacy/download", {"email": FIONA, "format": kind})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.text
    for other in OTHERS:
        assert other not in text
    assert "Other Fiona" not in text and "someone else" not in text
    assert "Go Aisha, from Fiona!" in text and "Again!" in text
    assert "Your receipt for £10.00" in text
    assert "G12 8QQ" in text  # her Gift Aid declaration
    if kind == "json":
        document = json.loads(text)
        assert [d["reference"] for d in document["donations"]] == people["mine"]
        assert len(document["emails_sent"]) == 1
        assert document["consents"][0]["what"] == "Gift Aid declaration"
    else:
        assert response.mimetype == "text/html"
        assert "<h2>Donations</h2>" in text


def test_a_participants_download_has_their_account_and_safety_answers_not_their_donors(
    make, organiser
):
    page_id = make.participant()
    make.donation(1000, page_id, donor_name="Gordon", donor_email="gordon@example.org")
    response = organiser.post(
        "/organiser/privacy/download", {"email": "aisha@example.org", "format": "json"}
    )
    document = response.json
    assert document["account"]["name"] == "Aisha Rahman"
    assert document["account"]["sponsor_page"]["address"] == "/p/aisha"
    assert "gordon" not in response.text.lower()


def test_every_look_up_and_download_is_in_the_history_without_the_address(people, organiser):
    _find(organiser, FIONA)
    organiser.post("/organiser/privacy/download", {"email": FIONA, "format": "json"})
    with organiser.client.application.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("privacy.%"))
        ).all()
        ref = person_ref(FIONA)
    assert [e.action for e in entries] == ["privacy.viewed", "privacy.downloaded"]
    assert all(ref in e.detail and "fiona" not in e.detail.lower() for e in entries)


def test_a_stale_password_is_asked_for_again_before_anything_is_shown(people, organiser):
    with organiser.client.application.app_context():
        db.session.execute(
            update(LoginSession).values(password_confirmed_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    response = _find(organiser, FIONA)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/confirm-password")
    assert "Go Aisha" not in response.text


@pytest.mark.parametrize("address", ["", "not an address", "a@" + "b" * 300 + ".org"])
def test_a_bad_address_is_explained_beside_the_field(organiser, address):
    response = _find(organiser, address)
    assert response.status_code == 422
    assert 'class="error-message" id="email-error">Enter' in response.text or (
        "at most 254" in response.text
    )


# Correcting ----------------------------------------------------------------------------------


def test_an_organiser_corrects_a_donors_name_and_address(people, organiser):
    donation_id = people["mine"][0]
    response = organiser.post(
        "/organiser/privacy/correct",
        {"email": FIONA, "donation_id": donation_id, "name": "Fiona C", "new_email": "f@new.org"},
    )
    assert response.status_code == 200
    assert "What we hold about f@new.org" in response.text
    with organiser.client.application.app_context():
        donation = db.session.get(Donation, donation_id)
        assert (donation.donor_name, donation.donor_email) == ("Fiona C", "f@new.org")
        assert db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "privacy.corrected", AuditEntry.donation_id == donation_id
            )
        )


def test_a_correction_to_someone_elses_donation_is_refused(people, organiser):
    response = organiser.post(
        "/organiser/privacy/correct",
        {"email": FIONA, "donation_id": people["theirs"][0], "name": "X", "new_email": "x@x.org"},
    )
    assert response.status_code == 422
    assert "not one of this person" in response.text


# Erasing -------------------------------------------------------------------------------------


def test_the_erase_screen_says_what_is_kept_and_why(people, organiser):
    page = organiser.post("/organiser/privacy/erase/check", {"email": FIONA}).text
    assert "HMRC requires the charity to keep Gift Aid declarations" in page
    assert "6 years" in page
    assert "1 donation of this person's carries a Gift Aid declaration" in page


def test_erasure_keeps_every_total_and_claim_to_the_penny(make, organiser):
    page_id = make.participant()
    claimed = paid(make, 4321, FIRST + timedelta(days=3), donor_email=FIONA, page_id=page_id)
    paid(make, 1234, FIRST + timedelta(days=4), donor_email=OTHERS[0])
    plain = make.donation(999, page_id, donor_email=FIONA, message="Good luck")
    with make.app.app_context():
        claim, _ = gift_aid_claims.start(gift_aid_claims.Period(FIRST, LAST))
        gift_aid_claims.mark_submitted(claim.id, gift_aid_claims.today())
    before = _snapshot(make.app)
    assert before["lines"] and before["totals"]

    response = _erase(organiser, FIONA)
    assert response.status_code == 200, response.text
    assert "Erased" in response.text
    assert _snapshot(make.app) == before
    with make.app.app_context():
        gone = db.session.get(Donation, plain)
        assert (gone.donor_name, gone.donor_email, gone.message) == ("", "", "")
        kept = db.session.get(Donation, claimed)
        assert (kept.donor_email, kept.gift_aid_last_name, kept.gift_aid_postcode) == (
            "",
            "Campbell",
            "G12 8QQ",
        )
        assert db.session.scalar(
            select(Donation.donor_email).where(Donation.donor_email == OTHERS[0])
        )
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.erased"))
        assert "2 donations anonymised (1 Gift Aid declarations kept)" in entry.detail
        assert "fiona" not in entry.detail.lower()
    assert "Donations (0)" in _find(organiser, FIONA).text


def test_erasing_a_participant_unpublishes_their_page_and_keeps_the_money(make, organiser, client):
    page_id = make.participant()
    make.donation(5000, page_id, donor_email="gordon@example.org")
    before = _snapshot(make.app)
    assert client.get("/p/aisha").status_code == 200
    response = _erase(organiser, "aisha@example.org")
    assert "The account was erased, and its sponsor page unpublished" in response.text
    assert _snapshot(make.app) == before
    assert client.get("/p/aisha").status_code == 404
    with make.app.app_context():
        assert db.session.scalar(select(User).where(User.email == "aisha@example.org")) is None
        page = db.session.get(SponsorPage, page_id)
        assert page.participant.name == erasure.ERASED_NAME
        assert db.session.scalar(
            select(Donation.donor_email).where(Donation.sponsor_page_id == page_id)
        ) == ("gordon@example.org")
    assert AuthActions(make.app.test_client()).login().status_code != 303


def test_an_organisers_account_is_not_erased_with_these_tools(make, organiser):
    make.user(name="Olive", email="olive@example.org")
    response = _erase(organiser, "olive@example.org")
    assert response.status_code == 409
    assert "organiser&#39;s or instructor&#39;s account" in response.text


def test_erasing_again_says_nothing_is_left(people, organiser):
    _erase(organiser, FIONA)
    response = _erase(organiser, FIONA)
    assert response.status_code == 200
    assert "Nothing left to erase" in response.text


def test_the_erase_form_needs_a_reason_and_a_tick(people, organiser):
    response = organiser.post("/organiser/privacy/erase", {"email": FIONA})
    assert response.status_code == 422
    assert "Tick to confirm" in response.text and "Say why" in response.text
    with organiser.client.application.app_context():
        assert db.session.scalar(select(Donation.donor_email).where(Donation.id == 1)) == FIONA


def _erase_twice_at_once(app) -> list:
    with app.app_context():
        organiser_id = db.session.scalar(select(User.id).where(User.role == Role.ORGANISER))
    barrier = threading.Barrier(2)
    outcomes: list = []

    def go():
        with app.app_context():
            actor = db.session.get(User, organiser_id)
            barrier.wait()
            try:
                outcomes.append(erasure.erase(FIONA, actor, "at once").anything)
            except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _check_erased_once(app, outcomes: list, before: dict) -> None:
    assert sorted(outcomes, key=str) == [False, True], outcomes
    assert _snapshot(app) == before
    with app.app_context():
        details = db.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "privacy.erased")
        ).all()
        assert sorted("nothing left" in d for d in details) == [False, True]
        assert not db.session.scalar(select(Donation.id).where(Donation.donor_email == FIONA))


def test_two_organisers_erasing_the_same_person_at_once_do_it_once(people, make):
    make.user()
    before = _snapshot(make.app)
    _check_erased_once(make.app, _erase_twice_at_once(make.app), before)


@pytest.mark.postgres
def test_two_erasures_at_once_on_postgres(postgres_url):
    app = create_app(env="test", overrides={"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        fresh_schema()
        configure_test_event()
    try:
        make = Factory(app)
        make.user()
        page_id = make.participant()
        for n in range(10):
            make.donation(1000 + n, page_id, donor_email=FIONA, gift_aid=n % 2 == 0)
        before = _snapshot(app)
        _check_erased_once(app, _erase_twice_at_once(app), before)
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


# Consent records and the message after the event ---------------------------------------------


def _said(app, email: str, kind: str, given: bool, version: str = consent.TICK_VERSION) -> None:
    with app.app_context():
        consent.record(email, kind, given, wording_version=version, source="donation form")
        db.session.commit()


def _after_event_to(app, *addresses: str) -> None:
    """The message after the event, sent to each address (a copy in the outbox, a delivery)."""
    with app.app_context():
        draft = AfterEventMessage(
            event_id=EVENT_ID, subject="How the abseil went", body="We did it", sent_at=utcnow()
        )
        db.session.add(draft)
        db.session.flush()
        for address in addresses:
            copy = OutboxMessage(
                to_address=address, subject=draft.subject, body_text="We did it", sent_at=utcnow()
            )
            db.session.add(copy)
            db.session.flush()
            db.session.add(
                AfterEventDelivery(message_id=draft.id, email=address, outbox_message_id=copy.id)
            )
        db.session.commit()


def _consent_history(app, email: str) -> list[tuple[str, bool, str]]:
    with app.app_context():
        return [(r.kind, r.given, r.source) for r in consent.history(email)]


@pytest.fixture
def heard(people, make):
    """Fiona said yes to the news, then no to thank-you replies, and had the message after
    the event; another Fiona said yes and had it too."""
    _said(make.app, "Fiona@Example.org", "event_news", True)
    _said(make.app, FIONA, "thank_you", False, consent.UNSUBSCRIBE_VERSION)
    _said(make.app, OTHERS[0], "event_news", True)
    _after_event_to(make.app, FIONA, OTHERS[0])
    return people


def test_her_download_has_each_yes_and_no_and_the_message_after_the_event(heard, organiser):
    response = organiser.post("/organiser/privacy/download", {"email": FIONA, "format": "json"})
    document = response.json
    said = document["emails_you_said_yes_or_no_to"]
    assert [(c["said"], c["wording_version"]) for c in said] == [
        ("yes", consent.TICK_VERSION),
        ("no", consent.UNSUBSCRIBE_VERSION),
    ]
    assert said[0]["wording"].startswith("Tell me how the event goes")
    assert said[1]["wording"] == "Unsubscribe from thank-you replies from the people you sponsored."
    assert all(c["when"] for c in said)
    [delivery] = document["message_after_the_event"]
    assert (delivery["to"], delivery["subject"]) == (FIONA, "How the abseil went")
    assert delivery["sent"]
    for other in OTHERS:
        assert other not in response.text
    page = _find(organiser, FIONA).text
    assert "Emails this address said yes or no to (2)" in page
    assert "The message after the event went to this address." in page
    html = organiser.post("/organiser/privacy/download", {"email": FIONA, "format": "html"}).text
    assert "<h2>Emails you said yes or no to</h2>" in html and consent.TICK_VERSION in html


def test_erasure_leaves_one_no_and_removes_her_deliveries_only(heard, organiser):
    app = organiser.client.application
    review = organiser.post("/organiser/privacy/erase/check", {"email": FIONA}).text
    assert "The 2 records of what this address said yes or no to" in review
    assert "message after the event went to this address" in review
    response = _erase(organiser, FIONA)
    assert response.status_code == 200
    assert "2 records of what this address said yes or no to" in response.text
    assert _consent_history(app, FIONA) == [("all", False, "erasure")]
    assert _consent_history(app, OTHERS[0]) == [("event_news", True, "donation form")]
    with app.app_context():
        assert not may_email(FIONA, "event_news") and not may_email(FIONA, "thank_you")
        assert db.session.scalars(select(AfterEventDelivery.email)).all() == [OTHERS[0]]
        assert db.session.scalars(
            select(OutboxMessage.to_address).where(OutboxMessage.subject == "How the abseil went")
        ).all() == [OTHERS[0]]
        detail = db.session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "privacy.erased")
        )
    assert "(1 after-event deliveries)" in detail and "2 consent records" in detail
    assert "fiona" not in detail.lower()
    assert "Nothing left to erase" in _erase(organiser, FIONA).text  # the "no" stays as it is
    assert _consent_history(app, FIONA) == [("all", False, "erasure")]


# A participant deleting their own account ----------------------------------------------------


def test_a_participant_deletes_their_own_account(make, client):
    page_id = make.participant()
    make.donation(5000, page_id, donor_email="gordon@example.org")
    make.donation(700, None, donor_email="aisha@example.org", message="My own gift")
    _said(make.app, "aisha@example.org", "event_news", True)
    _said(make.app, "gordon@example.org", "event_news", True)
    _after_event_to(make.app, "aisha@example.org", "gordon@example.org")
    before = _snapshot(make.app)
    auth = AuthActions(client)
    auth.login()
    page = client.get("/me/delete").text
    assert "Donations to your page stay as money" in page and "HMRC" in page
    assert plain_enough(page)
    wrong = auth.post("/me/delete", {"password": "not it", "confirm": "y"})
    assert wrong.status_code == 422 and "That is not your password" in wrong.text
    response = auth.post("/me/delete", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    assert client.get("/me").status_code == 302  # logged out
    assert client.get("/p/aisha").status_code == 404
    assert _snapshot(make.app) == before
    with make.app.app_context():
        assert not db.session.scalar(select(Donation.id).where(Donation.message == "My own gift"))
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "privacy.account_deleted")
        )
        assert entry.actor_id == entry.subject_user_id
        assert "1 consent records replaced" in entry.detail
        assert db.session.scalars(select(AfterEventDelivery.email)).all() == ["gordon@example.org"]
        assert not may_email("aisha@example.org", "participant_news")
    assert _consent_history(make.app, "aisha@example.org") == [("all", False, "erasure")]
    assert _consent_history(make.app, "gordon@example.org") == [
        ("event_news", True, "donation form")
    ]
    assert auth.login().status_code != 303


def test_me_links_to_deleting_the_account(make, client):
    make.participant()
    AuthActions(client).login()
    assert 'href="/me/delete"' in client.get("/me").text


def test_an_organiser_cannot_delete_their_own_account_from_me(organiser):
    page = organiser.client.get("/me/delete")
    assert page.status_code == 200
    assert "ask another organiser" in page.text
    response = organiser.post("/me/delete", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 409
    assert re.search("ask another organiser", response.text)


# Safety answers --------------------------------------------------------------------------


def test_safety_answers_are_in_her_download_decrypted_and_erased_with_her(make):
    from app.models import SafetyAnswer, SafetyHistory
    from tests.safety.helpers import SECRET_MEDICAL, answer_everything, make_cast

    cast = make_cast(make)
    answer_everything(cast, "aisha@example.org")
    answer_everything(cast, "callum@example.org", dob="1990-01-01")
    organiser = cast.client("sandra@example.org")
    response = organiser.post(
        "/organiser/privacy/download", {"email": "aisha@example.org", "format": "json"}
    )
    answers = response.json["account"]["safety_answers"]
    assert SECRET_MEDICAL in json.dumps(answers)
    assert "1995-06-01" in response.text and "1990-01-01" not in response.text
    assert "callum" not in response.text.lower()
    page = organiser.post("/organiser/privacy/person", {"email": "aisha@example.org"}).text
    assert SECRET_MEDICAL in page
    _erase(organiser, "aisha@example.org")
    with make.app.app_context():
        owners = set(db.session.scalars(select(SafetyAnswer.participant_id)))
        assert owners == {cast.callum}
        purged = db.session.scalar(
            select(SafetyHistory)
            .where(SafetyHistory.participant_id == cast.aisha)
            .order_by(SafetyHistory.id.desc())
        )
        assert purged.note == "Answers deleted: the account was erased."


def plain_enough(html: str) -> bool:
    """The participant's page is as plain as their safety pages (tests/test_plain_language.py)."""
    from tests.readability import scores
    from tests.test_plain_language import MAX_SENTENCE, MAX_WORDS_PER_SENTENCE, MIN_READING_EASE

    found = scores(html)
    assert found.reading_ease >= MIN_READING_EASE, found
    assert found.words_per_sentence <= MAX_WORDS_PER_SENTENCE, found
    assert found.longest_sentence <= MAX_SENTENCE, found
    return True
