"""The participant's checklist: sections saved one at a time (htmx and plain forms), clear
errors, the age and guardian rules at the boundary dates, and excluding conditions."""

from datetime import date

import pytest

from app.extensions import db
from app.models import ItemKind, SafetyAnswer
from app.safety import checklist
from app.safety.status import age_on
from tests.safety.helpers import (
    answer,
    answer_everything,
    section_data,
    sign_everything,
    status,
)

# The event in conftest starts on Saturday 17 April 2027 at 10:00, UK time.


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2011, 4, 18), date(2027, 4, 17), 15),  # 15 years and 364 days
        (date(2011, 4, 17), date(2027, 4, 17), 16),  # the 16th birthday is the day itself
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # leap-day birthdays come on 1 March
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_is_counted_in_whole_years_on_the_day(born, day, age):
    assert age_on(born, day) == age


@pytest.mark.parametrize(
    ("dob", "allowed", "needs_guardian"),
    [
        ("2011-04-18", False, False),  # 15 years 364 days on the day: too young, asked nothing
        ("2011-04-17", True, True),  # exactly 16: may take part, with a guardian's consent
        ("2009-04-18", True, True),  # 17: needs a guardian
        ("2009-04-17", True, False),  # exactly 18: no guardian needed
    ],
)
def test_age_and_guardian_rules_at_the_boundary_dates(cast, dob, allowed, needs_guardian):
    auth = cast.client("aisha@example.org")
    answer(auth, cast.item("Your date of birth"), {"date_of_birth": dob})
    page = auth.client.get("/safety").get_data(as_text=True)
    assert ("minimum age is 16, so you can&#39;t take part" in page) is not allowed
    state = status(cast, cast.aisha)
    assert (not state.blockers) is allowed
    assert state.item(ItemKind.GUARDIAN).applicable is needs_guardian
    if needs_guardian:
        assert "a parent or guardian must give their consent" in page
    elif allowed:
        assert "Not needed: you will be 18 or over on the day." in page
    else:
        assert "Not able to take part: under 16" in page


def test_too_young_is_never_cleared_even_with_everything_signed(cast):
    answer_everything(cast, "aisha@example.org", dob="2011-04-18")
    sign_everything(cast, cast.aisha, cast.organiser)
    assert not status(cast, cast.aisha).cleared
    page = cast.client("aisha@example.org").client.get("/safety").get_data(as_text=True)
    assert "You will be 15 on the day of the abseil" in page
    assert "Cleared to take part" not in page


def test_a_17_year_old_is_cleared_only_with_a_guardians_consent(cast):
    auth = answer_everything(cast, "aisha@example.org", dob="2009-04-18")
    assert status(cast, cast.aisha).needs_guardian is False  # answered by answer_everything
    with cast.app.app_context():
        guardian = cast.item("Parent or guardian")
        db.session.query(SafetyAnswer).filter_by(item_id=guardian).delete()
        db.session.commit()
    sign_everything(cast, cast.aisha, cast.organiser)
    state = status(cast, cast.aisha)
    assert state.needs_guardian and not state.cleared
    answer(auth, cast.item("Parent or guardian"), section_data(ItemKind.GUARDIAN))
    sign_everything(cast, cast.aisha, cast.organiser)
    assert status(cast, cast.aisha).cleared


def test_pregnancy_excludes_and_is_said_plainly(cast):
    auth = answer_everything(cast, "aisha@example.org")
    medical = cast.item("Medical declaration")
    answer(auth, medical, {"conditions": "pregnancy", "details": "12 weeks", "consent": "y"})
    sign_everything(cast, cast.aisha, cast.organiser)
    state = status(cast, cast.aisha)
    assert not state.cleared and state.ruled_out == ["an excluding medical condition"]
    page = auth.client.get("/safety").get_data(as_text=True)
    assert "You told us you are pregnant, so you can&#39;t take part this time." in page


def test_over_the_weight_limit_is_not_cleared(cast):
    auth = answer_everything(cast, "aisha@example.org")
    answer(auth, cast.item("Weight"), {"within_limit": "no"})
    sign_everything(cast, cast.aisha, cast.organiser)
    assert not status(cast, cast.aisha).cleared
    assert "The weight limit is 120 kg" in auth.client.get("/safety").get_data(as_text=True)


def test_a_section_saved_with_htmx_returns_that_section_and_the_overview(cast):
    auth = cast.client("aisha@example.org")
    item = cast.item("Emergency contact")
    response = answer(auth, item, section_data(ItemKind.EMERGENCY_CONTACT), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="item-{item}"')
    assert 'role="status">Saved.' in html
    assert '<div id="safety-overview" class="card safety-overview" hx-swap-oob="true">' in html
    assert "1 of 6 done" in html  # no date of birth yet, so no guardian section to count


def test_the_overall_count_says_how_many_are_done(cast):
    auth = cast.client("aisha@example.org")
    answer(auth, cast.item("Your date of birth"), {"date_of_birth": "2010-01-01"})
    answer(auth, cast.item("Weight"), {"within_limit": "yes"})
    answer(auth, cast.item("Risks"), {"agree": "y"})
    assert "3 of 7 done." in auth.client.get("/safety").get_data(as_text=True)
    home = auth.client.get("/me").get_data(as_text=True)
    assert "3 of 7 done." in home and 'href="/safety"' in home


@pytest.mark.parametrize(
    ("label", "data", "field", "message"),
    [
        ("Your date of birth", {"date_of_birth": ""}, "date_of_birth", "Enter your date of birth"),
        ("Your date of birth", {"date_of_birth": "31/02/2001"}, "date_of_birth", "real date"),
        ("Your date of birth", {"date_of_birth": "2999-01-01"}, "date_of_birth", "in the past"),
        ("Emergency contact", {"name": "", "relationship": "x", "phone": "07700 900123"},
         "name", "Enter your emergency contact"),
        ("Emergency contact", {"name": "Sam", "relationship": "x", "phone": "call me"},
         "phone", "Enter a phone number"),
        ("Medical declaration", {"consent": "y"}, "conditions", "None of these apply"),
        ("Medical declaration", {"none_apply": "y"}, "consent", "Tick to give your consent"),
        ("Medical declaration", {"conditions": "asthma", "none_apply": "y", "consent": "y"},
         "conditions", "not both"),
        ("Weight", {}, "within_limit", "Say whether your weight"),
        ("Risks", {}, "agree", "Tick the box"),
    ],
)  # fmt: skip
def test_mistakes_come_back_beside_their_field(cast, label, data, field, message):
    auth = cast.client("aisha@example.org")
    item = cast.item(label)
    for htmx in (True, False):
        response = answer(auth, item, data, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        field_id = f"item-{item}-{field}"
        assert f'id="{field_id}-error"' in html and message in html
        if field not in ("conditions", "within_limit"):
            assert 'aria-invalid="true"' in html
        assert ("<title>Error:" in html) is not htmx
    with cast.app.app_context():
        assert db.session.query(SafetyAnswer).count() == 0


def test_a_guardian_signs_by_typing_the_same_name(cast):
    auth = cast.client("aisha@example.org")
    answer(auth, cast.item("Your date of birth"), {"date_of_birth": "2010-01-01"})
    data = section_data(ItemKind.GUARDIAN, signature="Someone Else")
    response = answer(auth, cast.item("Parent or guardian"), data, htmx=True)
    assert response.status_code == 422
    assert "Type the same full name as above to sign" in response.get_data(as_text=True)


@pytest.mark.parametrize("junk", ["", " ", "\x00", "é" * 5000, "<script>x</script>", "-1"])
def test_no_input_makes_a_server_error(cast, junk):
    auth = cast.client("aisha@example.org")
    fields = ("date_of_birth", "name", "relationship", "phone", "conditions", "none_apply")
    fields += ("details", "consent", "within_limit", "agree", "signature", "signed_on")
    for label in cast.items:
        item = cast.items[label]
        response = answer(auth, item, dict.fromkeys(fields, junk))
        assert response.status_code in (303, 400, 404, 422), label  # 400: control characters
    assert auth.client.get("/safety").status_code == 200


def test_a_changed_answer_needs_signing_off_again(cast):
    auth = answer_everything(cast, "aisha@example.org")
    sign_everything(cast, cast.aisha, cast.organiser)
    assert status(cast, cast.aisha).cleared
    answer(auth, cast.item("Emergency contact"), section_data(ItemKind.EMERGENCY_CONTACT))
    assert status(cast, cast.aisha).cleared  # the same answer again changes nothing
    new_contact = section_data(ItemKind.EMERGENCY_CONTACT, phone="07700 900555")
    answer(auth, cast.item("Emergency contact"), new_contact)
    state = status(cast, cast.aisha)
    assert not state.cleared and not state.item(ItemKind.EMERGENCY_CONTACT).signed


def test_rewording_keeps_the_answer_and_the_words_that_were_seen(cast):
    auth = answer_everything(cast, "aisha@example.org")
    risks = cast.item("Risks")
    organiser = cast.client("sandra@example.org")
    form = {"label": "Risks of taking part", "wording": "NEW WORDING"}
    form |= {"completed_by": "participant", "required": "y"}
    assert organiser.post(f"/safety/checklist/items/{risks}", form).status_code == 303
    with cast.app.app_context():
        stored = db.session.query(SafetyAnswer).filter_by(item_id=risks).one()
        assert (
            stored.item_version == 1 and "risk of personal injury or death" in stored.wording_seen
        )
    assert status(cast, cast.aisha).item(ItemKind.CONFIRMATION).answered  # still counts

    organiser.post(f"/safety/checklist/items/{risks}", {**form, "wording": "V3", "ask_again": "y"})
    page = auth.client.get("/safety").get_data(as_text=True)
    assert "This question has changed since you answered it." in page
    answer(auth, risks, {"agree": "y"})
    with cast.app.app_context():
        stored = db.session.query(SafetyAnswer).filter_by(item_id=risks).one()
        assert stored.item_version == 3 and "V3" in stored.wording_seen


def test_a_new_weight_limit_asks_again(cast):
    auth = answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    response = organiser.post(
        "/safety/checklist",
        {"min_age": "16", "weight_limit_kg": "100", "on_the_day_hours_before": "2"},
    )
    assert response.status_code == 303
    assert not status(cast, cast.aisha).item(ItemKind.WEIGHT).answered
    assert "Is your weight 100 kg or less?" in auth.client.get("/safety").get_data(as_text=True)


def test_organisers_add_reorder_and_remove_items(cast):
    organiser = cast.client("sandra@example.org")
    response = organiser.post(
        "/safety/checklist/items/new",
        {"label": "Photo consent", "wording": "We may take photos.", "completed_by": "participant"},
    )
    assert response.status_code == 303
    with cast.app.app_context():
        added = checklist.items()[-1]
        assert (added.label, added.kind, added.required) == ("Photo consent", "confirmation", False)
        organiser.post(f"/safety/checklist/items/{added.id}/move", {"direction": "up"})
        assert [i.label for i in checklist.items()][-2] == "Photo consent"
    assert organiser.post(f"/safety/checklist/items/{added.id}/remove").status_code == 303
    with cast.app.app_context():
        assert "Photo consent" not in [i.label for i in checklist.items()]
    bad = organiser.post("/safety/checklist", {"min_age": "three", "weight_limit_kg": "9999"})
    assert bad.status_code == 422
    assert "Enter a limit between 40 and 250 kg" in bad.get_data(as_text=True)
