"""Plain language: the planning pages and the participant's safety and consent pages are
written so that people with learning disabilities can take part fully. Measured on each page
as it is rendered (tests/readability.py: the visible text of <main>, tags stripped).

The targets, and why:
- Flesch reading ease at least 70 ("fairly easy": about age 12 to 13). Easy Read aims lower
  still, but a consent form has words that cannot go ("consent", "medical", "guardian"), and
  each of those costs more points than it should; 70 is strict and honest.
- At most 12 words a sentence on average. Mencap's Easy Read guidance and the NHS's Accessible
  Information Standard advise short sentences of about 15 words at most; an average of 12
  keeps the long ones rare.
- No sentence over 25 words: one idea each. A long one hides a second idea.
The text people type (decision titles, comments) is written plainly in these tests too: the
check is about the words Plunge itself puts on the page."""

import pytest

from app.extensions import db
from app.models import ItemKind, User
from app.planning import people, reminders
from tests.readability import scores
from tests.safety.helpers import Cast, answer, answer_everything, section_data
from tests.test_planning import as_user, decision_id, planning, propose  # noqa: F401

MIN_READING_EASE = 75
MAX_WORDS_PER_SENTENCE = 10
MAX_SENTENCE = 20


def _check(name: str, html: str) -> str | None:
    found = scores(html)
    if (
        found.reading_ease < MIN_READING_EASE
        or found.words_per_sentence > MAX_WORDS_PER_SENTENCE
        or found.longest_sentence > MAX_SENTENCE
    ):
        return f"{name}: {found}"
    return None


@pytest.fixture
def safety_pages(make):
    """The participant's checklist: new, with a mistake, and all answered (with consent)."""
    make.participant()
    organiser = make.user()
    from app.safety import checklist

    with make.app.app_context():
        checklist.ensure_checklist()
        db.session.commit()
        items = {item.label: item.id for item in checklist.items()}
        aisha = db.session.query(User).filter_by(email="aisha@example.org").one().id
    cast = Cast(make.app, organiser, organiser, organiser, aisha, aisha, items)
    client = cast.client("aisha@example.org")
    pages = {"safety checklist, new": client.client.get("/safety").text}
    wrong = answer(client, items["Emergency contact"], {"name": ""})
    pages["safety checklist, a mistake"] = wrong.text
    medical = section_data(ItemKind.MEDICAL)
    pages["safety, medical saved (htmx)"] = answer(
        client, items["Medical declaration"], medical, htmx=True
    ).text.join(["<main>", "</main>"])
    answer_everything(cast, "aisha@example.org")
    pages["safety checklist, all answered"] = client.client.get("/safety").text
    return pages


@pytest.fixture
def planning_pages(planning):  # noqa: F811 - the fixture imported above
    """Every planning page as a planner and an organiser see them, with plain example text."""
    app = planning["app"]
    sandra = as_user(app, "sandra@example.org")
    pat = as_user(app, "pat@example.org")
    open_one = decision_id(
        propose(sandra, title="Where do we meet?", details="We need a room. It must have a lift.")
    )
    pat.post(f"/planning/decisions/{open_one}/say", {"stance": "agree"})
    closed = decision_id(propose(sandra, title="What do we call it?", details="We need a name."))
    sandra.post(
        f"/planning/decisions/{closed}/close",
        {"decided": "Over the Edge.", "why": "Everyone liked it.", "publish": "y"},
    )
    alone = decision_id(
        sandra.post(
            "/planning/decisions/alone",
            {
                "title": "The date",
                "decided": "We go on 17 April.",
                "why": "The tower is free that day.",
                "alone_reason": "The tower wanted an answer fast.",
                "publish": "y",
            },
        )
    )
    with app.test_request_context():
        invited = people.invite_planner("Una", "una@example.org", set(), service_user(app))
        token = people.make_token(
            "planner-invite", {"user": invited.id, "fp": invited.password_fingerprint}
        )
        stop = reminders.link_token(planning["users"]["pat"])
    visitor = app.test_client()
    return {
        "planning page": pat.client.get("/planning").text,
        "ask the groups": pat.client.get("/planning/decisions/new").text,
        "ask the groups, mistakes": pat.post("/planning/decisions/new", {}).text,
        "decided alone form": pat.client.get("/planning/decisions/alone").text,
        "decided alone form, mistakes": pat.post("/planning/decisions/alone", {}).text,
        "an open decision": pat.client.get(f"/planning/decisions/{open_one}").text,
        "a say with a mistake": pat.post(
            f"/planning/decisions/{open_one}/say", {"stance": "comment"}
        ).text,
        "a closed decision": pat.client.get(f"/planning/decisions/{closed}").text,
        "a decision taken alone": pat.client.get(f"/planning/decisions/{alone}").text,
        "report for a meeting": pat.client.get("/planning/report").text,
        "groups, as a planner": pat.client.get("/planning/groups").text,
        "groups, as an organiser": sandra.client.get("/planning/groups").text,
        "how we organised this": visitor.get("/how-we-organised-this").text,
        "weekly email settings": visitor.get(f"/planning/reminders/{stop}").text,
        "join the planning": visitor.get(f"/planning/join/{token}").text,
        "an old invitation": visitor.get("/planning/join/forged").text,
    }


def service_user(app):
    """Sandra, to invite someone."""
    return db.session.query(User).filter_by(email="sandra@example.org").one()


def test_the_planning_pages_are_plain(planning_pages):
    problems = [_check(name, html) for name, html in planning_pages.items()]
    assert [p for p in problems if p] == []


def test_the_safety_and_consent_pages_are_plain(safety_pages):
    problems = [_check(name, html) for name, html in safety_pages.items()]
    assert [p for p in problems if p] == []


def test_the_check_catches_hard_text():
    hard = (
        "<main><p>Notwithstanding the aforementioned considerations, participants acknowledge "
        "that the organisation's indemnification provisions, comprehensively enumerated "
        "hereinafter, constitute an indispensable precondition of participation.</p></main>"
    )
    assert _check("hard", hard) is not None
    assert _check("easy", "<main><h1>Your plan</h1><p>We plan it together.</p></main>") is None
