"""Who may use every safety route: a visitor, another participant, the participant whose
checklist it is, an organiser and an instructor. The table must name every route in the safety
blueprint, so a new route without an entry here fails."""

import pytest

from app.extensions import db
from app.models import ItemKind, SafetyAnswer
from app.safety import checklist
from tests.safety.helpers import (
    SECRET_CONTACT,
    SECRET_MEDICAL,
    SECRET_PHONE,
    answer_everything,
    on_the_day,
)

WHO = {
    "visitor": None,
    "another participant": "callum@example.org",
    "the participant": "aisha@example.org",
    "organiser": "sandra@example.org",
    "instructor": "iain@example.org",
}
LOGIN = 302  # a visitor is sent to log in
ORGANISER_ONLY = {"visitor": LOGIN, "another participant": 403, "the participant": 403,
                  "organiser": None, "instructor": 403}  # fmt: skip
STAFF = {**ORGANISER_ONLY, "instructor": None}
ANYONE_LOGGED_IN = dict.fromkeys(WHO, None) | {"visitor": LOGIN}
# Who may see Aisha's health answers and emergency contact in a response.
MAY_SEE_SECRETS = {"the participant", "organiser"}


def _routes(cast, custom_item: int) -> dict[str, list[tuple]]:
    """endpoint: [(method, url, form data, {who: expected status or None for success})]."""
    aisha, check, harness = cast.aisha, cast.item("Identity"), cast.item("Harness")
    dob = cast.item("Your date of birth")
    item_form = {"label": "Photo consent", "wording": "Photos", "completed_by": "participant"}
    return {
        "safety.show_checklist": [("GET", "/safety", None, ANYONE_LOGGED_IN)],
        "safety.save_section": [
            (
                "POST",
                f"/safety/items/{dob}",
                {f"item-{dob}-date_of_birth": "2000-01-01"},
                ANYONE_LOGGED_IN,
            )
        ],
        "safety.withdraw_consent": [("POST", "/safety/consent/withdraw", {}, ANYONE_LOGGED_IN)],
        "safety.show_board": [
            ("GET", "/safety/board", None, STAFF),
            ("GET", "/safety/board?show=medical", None, STAFF),
        ],
        "safety.sign_off": [
            ("POST", f"/safety/people/{aisha}/items/{check}/sign-off", {}, ORGANISER_ONLY),
            ("POST", f"/safety/people/{aisha}/items/{harness}/sign-off", {}, STAFF),
        ],
        "safety.revoke": [
            ("POST", f"/safety/people/{aisha}/items/{check}/revoke", {}, ORGANISER_ONLY),
            ("POST", f"/safety/people/{aisha}/items/{harness}/revoke", {}, STAFF),
        ],
        "safety.check_in": [("POST", f"/safety/people/{aisha}/check-in", {}, ORGANISER_ONLY)],
        # After the check-in above: checked out as having done it.
        "safety.check_out_completed": [
            ("POST", f"/safety/people/{aisha}/done-it", {}, ORGANISER_ONLY)
        ],
        "safety.show_person": [("GET", f"/safety/people/{aisha}", None, ORGANISER_ONLY)],
        "safety.show_roster": [("GET", "/safety/roster", None, ORGANISER_ONLY)],
        "safety.download_roster": [("GET", "/safety/roster.csv", None, ORGANISER_ONLY)],
        "safety.send_reminders": [("POST", "/safety/reminders", {}, ORGANISER_ONLY)],
        "safety.edit_checklist": [
            ("GET", "/safety/checklist", None, ORGANISER_ONLY),
            (
                "POST",
                "/safety/checklist",
                {"min_age": "16", "weight_limit_kg": "120", "on_the_day_hours_before": "2"},
                ORGANISER_ONLY,
            ),
        ],  # fmt: skip
        "safety.add_item": [
            ("GET", "/safety/checklist/items/new", None, ORGANISER_ONLY),
            ("POST", "/safety/checklist/items/new", item_form, ORGANISER_ONLY),
        ],
        "safety.edit_item": [
            ("GET", f"/safety/checklist/items/{custom_item}", None, ORGANISER_ONLY),
            ("POST", f"/safety/checklist/items/{custom_item}", item_form, ORGANISER_ONLY),
        ],
        "safety.move_item": [
            (
                "POST",
                f"/safety/checklist/items/{custom_item}/move",
                {"direction": "up"},
                ORGANISER_ONLY,
            ),
        ],  # fmt: skip
        "safety.remove_item": [
            ("POST", f"/safety/checklist/items/{custom_item}/remove", {}, ORGANISER_ONLY)
        ],
    }


def _aishas_answers(app, aisha_id) -> dict:
    with app.app_context():
        answers = db.session.query(SafetyAnswer).filter_by(participant_id=aisha_id)
        return {a.item_id: a.data for a in answers}


@pytest.mark.parametrize("who", list(WHO))
def test_every_safety_route_answers_each_kind_of_person_as_it_should(cast, who):
    answer_everything(cast, "aisha@example.org")
    with cast.app.app_context():
        custom = checklist.add_item("Custom", "x", "participant", False, False).id
    routes = _routes(cast, custom)
    endpoints = {
        r.endpoint for r in cast.app.url_map.iter_rules() if r.endpoint.startswith("safety.")
    }
    assert set(routes) == endpoints, "a safety route is missing from this table"
    before = _aishas_answers(cast.app, cast.aisha)

    auth = cast.client(WHO[who])
    with on_the_day(cast.app):  # on-the-day items may be signed off
        _try_every_route(auth, routes, who)
    after = _aishas_answers(cast.app, cast.aisha)
    if who == "the participant":
        assert after != before  # she changed her own date of birth and withdrew consent
    else:
        assert after == before, f"{who} changed Aisha's answers"


def _try_every_route(auth, routes, who) -> None:
    for endpoint, tries in routes.items():
        for method, url, data, expected in tries:
            response = auth.client.get(url) if method == "GET" else auth.post(url, data)
            label = f"{who}: {method} {url} ({endpoint})"
            want = expected[who]
            if want is None:
                assert response.status_code in (200, 303), label
            else:
                assert response.status_code == want, label
            body = response.get_data(as_text=True)
            if who not in MAY_SEE_SECRETS:
                for secret in (SECRET_CONTACT, SECRET_PHONE, SECRET_MEDICAL):
                    assert secret not in body, label
            response.close()


def test_someone_elses_checklist_cannot_be_named_in_a_participants_routes(cast):
    answer_everything(cast, "aisha@example.org")
    callum = cast.client("callum@example.org")
    page = callum.client.get("/safety").get_data(as_text=True)
    assert SECRET_CONTACT not in page and "0 of 6 done" in page
    with cast.app.app_context():
        kinds = {i.id: i.kind for i in checklist.items()}
    check = next(i for i, kind in kinds.items() if kind == ItemKind.CHECK)
    assert callum.post(f"/safety/items/{check}", {}).status_code == 404
    assert callum.post("/safety/items/9999", {}).status_code == 404
    organiser = cast.client("sandra@example.org")
    assert organiser.client.get("/safety/people/9999").status_code == 404
    assert organiser.post(f"/safety/people/{cast.aisha}/items/9999/sign-off").status_code == 404
