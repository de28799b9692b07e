"""The organisers' side: sign-off and revoke in place, the history, nobody signing their own,
instructors' limits, filters, check-in, the roster and reminders."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    AppendOnlyError,
    HistoryAction,
    ItemKind,
    SafetyHistory,
    SafetyRecord,
    SafetySignOff,
    User,
)
from app.safety import on_the_day as on_the_day_rules
from app.timefmt import parse_london
from tests.conftest import ROOT
from tests.safety.helpers import (
    SECRET_CONTACT,
    SECRET_MEDICAL,
    SECRET_PHONE,
    answer,
    answer_everything,
    on_the_day,
    section_data,
    sign_everything,
    status,
)


def _sign(auth, person_id, item_id, note="", htmx=False, action="sign-off"):
    headers = {"HX-Request": "true"} if htmx else {}
    return auth.post(
        f"/safety/people/{person_id}/items/{item_id}/{action}", {"note": note}, headers=headers
    )


def test_sign_everything_off_then_revoke_one(cast):
    participant = answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    with cast.app.app_context():
        ids = [s.item.id for s in status(cast, cast.aisha).items if s.applicable]
    with on_the_day(cast.app):
        for item_id in ids[:-1]:
            assert _sign(organiser, cast.aisha, item_id).status_code == 303
        assert "Cleared to take part" not in participant.client.get("/safety").get_data(
            as_text=True
        )
        last = _sign(organiser, cast.aisha, ids[-1], note="Harness checked twice", htmx=True)
    assert last.status_code == 200
    row = last.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="person-{cast.aisha}">')
    assert '<strong class="tag tag-done">Cleared</strong>' in row
    assert "Cleared to take part." in participant.client.get("/safety").get_data(as_text=True)
    assert "Cleared to take part." in participant.client.get("/me").get_data(as_text=True)

    revoked = _sign(organiser, cast.aisha, ids[2], note="Wrong inhaler", action="revoke")
    assert revoked.status_code == 303
    assert not status(cast, cast.aisha).cleared
    assert "Cleared to take part" not in participant.client.get("/safety").get_data(as_text=True)

    with cast.app.app_context():
        history = db.session.query(SafetyHistory).order_by(SafetyHistory.id).all()
        assert [h.action for h in history[-2:]] == [HistoryAction.SIGN_OFF, HistoryAction.REVOKE]
        assert history[-1].actor_id == cast.organiser and history[-1].note == "Wrong inhaler"
        assert history[-1].at.utcoffset().total_seconds() == 0
    record = organiser.client.get(f"/safety/people/{cast.aisha}").get_data(as_text=True)
    assert "Harness checked twice" in record and "Wrong inhaler" in record
    assert "Revoked" in record and "Sandra Organiser" in record


def test_unanswered_items_cannot_be_signed_off(cast):
    organiser = cast.client("sandra@example.org")
    response = _sign(organiser, cast.aisha, cast.item("Emergency contact"))
    assert response.status_code == 409
    assert "hasn&#39;t answered Emergency contact yet" in response.get_data(as_text=True)
    with cast.app.app_context():
        assert db.session.query(SafetySignOff).count() == 0


def test_a_long_note_is_refused_beside_the_cell(cast):
    organiser = cast.client("sandra@example.org")
    response = _sign(organiser, cast.aisha, cast.item("Identity"), note="x" * 501, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Keep the note to 500 characters" in html and 'aria-invalid="true"' in html


def test_nobody_signs_off_their_own_items(cast):
    sandra = answer_everything(cast, "sandra@example.org")  # an organiser who also abseils
    item = cast.item("Emergency contact")
    refused = _sign(sandra, cast.organiser, item)
    assert refused.status_code == 403
    assert "another organiser must do it" in refused.get_data(as_text=True)
    refused = _sign(sandra, cast.organiser, cast.item("Identity"), htmx=True)
    assert refused.status_code == 403
    board = sandra.client.get("/safety/board").get_data(as_text=True)
    own_row = re.search(rf'<tr id="person-{cast.organiser}">.*?</tr>', board, re.S).group(0)
    assert "Another organiser signs this off." in own_row and "sign-off" not in own_row

    olu = cast.client("olu@example.org")
    assert _sign(olu, cast.organiser, item).status_code == 303
    sign_everything(cast, cast.organiser, cast.organiser2)
    assert status(cast, cast.organiser).cleared


def test_instructors_sign_off_only_the_day_and_see_no_medical_details(cast):
    answer_everything(cast, "aisha@example.org")
    instructor = cast.client("iain@example.org")
    with on_the_day(cast.app):
        assert _sign(instructor, cast.aisha, cast.item("Harness")).status_code == 303
    assert _sign(instructor, cast.aisha, cast.item("Harness"), action="revoke").status_code == 303
    for label in ("Medical declaration", "Identity", "Emergency contact"):
        assert _sign(instructor, cast.aisha, cast.item(label)).status_code == 403, label

    board = instructor.client.get("/safety/board?show=medical").get_data(as_text=True)
    for secret in (SECRET_MEDICAL, SECRET_CONTACT, SECRET_PHONE, "Asthma", "£"):
        assert secret not in board
    for hidden in ("Medical declaration", "Medical to review", "Emergency contact", "roster"):
        assert hidden not in board
    assert "Safety briefing attended" in board and "Aisha Rahman" in board
    for url in (f"/safety/people/{cast.aisha}", "/safety/roster", "/safety/roster.csv"):
        assert instructor.client.get(url).status_code == 403
    assert instructor.post(f"/safety/people/{cast.aisha}/check-in").status_code == 403


def test_the_board_filters(cast):
    answer_everything(cast, "aisha@example.org", dob="2010-01-01")  # 17, with a guardian
    callum = cast.client("callum@example.org")
    answer(callum, cast.item("Your date of birth"), {"date_of_birth": "2010-01-01"})
    organiser = cast.client("sandra@example.org")

    def names(show):
        html = organiser.client.get(f"/safety/board?show={show}").get_data(as_text=True)
        return set(re.findall(r'<tr id="person-(\d+)">', html))

    everyone = {str(cast.aisha), str(cast.callum)}
    assert names("") == everyone and names("not-cleared") == everyone
    assert names("guardian") == {str(cast.callum)}
    assert names("medical") == {str(cast.aisha)}
    sign_everything(cast, cast.aisha, cast.organiser)
    assert names("not-cleared") == {str(cast.callum)} and names("medical") == set()
    assert names("nonsense") == everyone


def test_check_in_records_when_and_by_whom(cast):
    organiser = cast.client("sandra@example.org")
    response = organiser.post(
        f"/safety/people/{cast.callum}/check-in", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Callum MacLeod is now checked in." in response.text
    assert "by Sandra Organiser" in response.text
    with cast.app.app_context():
        record = db.session.get(SafetyRecord, cast.callum)
        assert record.checked_in_by_id == cast.organiser and record.checked_in_at is not None
    undo = organiser.post(f"/safety/people/{cast.callum}/check-in", {"undo": "1", "back": "roster"})
    assert undo.status_code == 303 and undo.location.startswith("/safety/roster")
    with cast.app.app_context():
        assert db.session.get(SafetyRecord, cast.callum).checked_in_at is None
        actions = [h.action for h in db.session.query(SafetyHistory)]
        assert actions == [HistoryAction.CHECK_IN, HistoryAction.UNDO_CHECK_IN]


def test_the_roster_prints_and_downloads_what_the_day_needs(cast):
    answer_everything(cast, "aisha@example.org")
    medical = cast.item("Medical declaration")
    aisha = cast.client("aisha@example.org")
    formula = section_data(ItemKind.EMERGENCY_CONTACT, name="=cmd|' /C calc'!A0")
    answer(aisha, cast.item("Emergency contact"), formula)
    answer(aisha, medical, {"conditions": "asthma", "details": "Inhaler", "consent": "y"})
    organiser = cast.client("sandra@example.org")
    html = organiser.client.get("/safety/roster").get_data(as_text=True)
    assert "Asthma (Inhaler)" in html and SECRET_PHONE in html and "Age not given" in html
    response = organiser.client.get("/safety/roster.csv")
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["Name", "Emergency contact", "Emergency phone", "Medical flags"]
    aisha_row = next(r for r in rows if r[0] == "Aisha Rahman")
    assert aisha_row[1].startswith("'=cmd")  # a formula is written as text
    assert aisha_row[3] == "Asthma (Inhaler)" and aisha_row[6] == "No"
    assert "@media print" in (ROOT / "static" / "css" / "plunge.css").read_text()


def test_reminders_reach_everyone_with_missing_items(cast, smtp):
    answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    board = organiser.client.get("/safety/board").get_data(as_text=True)
    assert "Email the 1 participant with missing items" in board
    response = organiser.post("/safety/reminders")
    assert response.status_code == 303
    response.close()  # the outbox sends once the response has gone
    [message] = smtp.to("callum@example.org")
    body = message.get_body(("plain",)).get_content()
    assert "Emergency contact" in body and "Medical declaration" in body and "/safety" in body
    assert smtp.to("aisha@example.org") == []
    flashed = organiser.client.get("/safety/board").get_data(as_text=True)
    assert "Queued 1 reminder email." in flashed


def test_the_history_cannot_be_changed_or_deleted(cast):
    answer_everything(cast, "aisha@example.org")
    sign_everything(cast, cast.aisha, cast.organiser)
    with cast.app.app_context():
        before = [(h.id, h.action, h.note, h.at) for h in db.session.query(SafetyHistory)]
        assert before
        line = db.session.query(SafetyHistory).first()
        line.note = "rewritten"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.query(SafetyHistory).first())
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()

    # No route edits or deletes history (reading it is fine); organiser actions only add to it.
    history_routes = [
        rule.rule
        for rule in cast.app.url_map.iter_rules()
        if ("history" in rule.rule or "history" in rule.endpoint)
        and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    assert history_routes == []
    organiser = cast.client("olu@example.org")
    for item_id in cast.items.values():
        _sign(organiser, cast.aisha, item_id, action="revoke")
        _sign(organiser, cast.aisha, item_id)
    organiser.post(f"/safety/people/{cast.aisha}/check-in")
    aisha = cast.client("aisha@example.org")
    aisha.post("/safety/consent/withdraw")
    with cast.app.app_context():
        after = [(h.id, h.action, h.note, h.at) for h in db.session.query(SafetyHistory)]
        assert after[: len(before)] == before and len(after) > len(before)
        assert db.session.get(User, cast.aisha) is not None


# Raw SQL, a `flask shell` session or Core statements never reach the ORM guard above: the
# database itself refuses them, on SQLite and on PostgreSQL alike.
REWRITES = {
    "raw UPDATE": lambda line, someone: text(
        "UPDATE safety_history SET actor_id = :someone, note = 'Not me', "
        "at = '2020-01-01 00:00:00' WHERE id = :id"
    ).bindparams(id=line.id, someone=someone),
    "raw DELETE": lambda line, _: text("DELETE FROM safety_history WHERE id = :id").bindparams(
        id=line.id
    ),
    "Core update()": lambda line, someone: (
        update(SafetyHistory).where(SafetyHistory.id == line.id).values(actor_id=someone)
    ),
    "Core delete()": lambda line, _: delete(SafetyHistory).where(SafetyHistory.id == line.id),
}


@pytest.mark.parametrize("how", REWRITES)
def test_the_database_refuses_to_rewrite_who_signed_off(cast, how):
    answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    with cast.app.app_context():
        item_id = next(s.item.id for s in status(cast, cast.aisha).items if s.applicable)
    _sign(organiser, cast.aisha, item_id, note="Checked her passport")
    with cast.app.app_context():
        line = db.session.query(SafetyHistory).filter_by(action=HistoryAction.SIGN_OFF).one()
        before = (line.id, line.actor_id, line.at, line.note, line.item_label)
        statement = REWRITES[how](line, cast.organiser2)
        operation = "DELETE" if "DELETE" in how.upper() else "UPDATE"
        with pytest.raises(IntegrityError, match=f"safety_history is append-only: {operation}"):
            db.session.execute(statement)
        db.session.rollback()
        db.session.expire_all()
        line = db.session.query(SafetyHistory).filter_by(action=HistoryAction.SIGN_OFF).one()
        assert (line.id, line.actor_id, line.at, line.note, line.item_label) == before
    record = organiser.client.get(f"/safety/people/{cast.aisha}").get_data(as_text=True)
    assert "Checked her passport" in record and "Sandra Organiser" in record


def _people_on(html: str) -> set[str]:
    return set(re.findall(r'<tr id="person-(\d+)">', html))


def test_a_long_board_comes_a_page_at_a_time_and_sign_off_returns_to_it(cast, monkeypatch):
    monkeypatch.setattr("app.safety.board.PER_PAGE", 1)  # Aisha on page 1, Callum on page 2
    answer(
        cast.client("callum@example.org"),
        cast.item("Emergency contact"),
        section_data(ItemKind.EMERGENCY_CONTACT),
    )
    organiser = cast.client("sandra@example.org")
    first = organiser.client.get("/safety/board").get_data(as_text=True)
    assert _people_on(first) == {str(cast.aisha)}
    assert "Showing 1 to 1 of the 2 who match, of 2 people." in first
    assert 'href="/safety/board?page=2">Next page</a>' in first

    second = organiser.client.get("/safety/board?page=2").get_data(as_text=True)
    assert _people_on(second) == {str(cast.callum)}
    assert 'href="/safety/board?page=1">Previous page</a>' in second
    assert "Next page" not in second
    # Past the end, or nonsense: the nearest real page.
    assert _people_on(organiser.client.get("/safety/board?page=99").text) == {str(cast.callum)}
    assert _people_on(organiser.client.get("/safety/board?page=-1").text) == {str(cast.aisha)}

    # Signing off without JavaScript comes back to the page the organiser was on.
    item = cast.item("Emergency contact")
    signed = organiser.post(
        f"/safety/people/{cast.callum}/items/{item}/sign-off", {"note": "", "page": "2"}
    )
    assert signed.status_code == 303
    assert signed.location == f"/safety/board?page=2#person-{cast.callum}"
    assert "Emergency contact signed off for Callum MacLeod." in organiser.client.get(
        signed.location
    ).get_data(as_text=True)


def test_the_board_finds_people_by_name(cast, monkeypatch):
    monkeypatch.setattr("app.safety.board.PER_PAGE", 1)
    organiser = cast.client("sandra@example.org")
    found = organiser.client.get("/safety/board?q=+macleod+").get_data(as_text=True)
    assert _people_on(found) == {str(cast.callum)}
    assert "Showing 1 of 2 people, by names containing “macleod”." in found
    assert 'value="macleod"' in found  # the search box keeps what was typed
    nobody = organiser.client.get("/safety/board?q=Zebedee").get_data(as_text=True)
    assert _people_on(nobody) == set() and "Showing 0 of 2 people" in nobody

    # The filter and the search stay on the pager's links and on each row's forms.
    both = organiser.client.get("/safety/board?show=not-cleared&q=a").get_data(as_text=True)
    assert "Next page" in both
    assert 'href="/safety/board?page=2&amp;show=not-cleared&amp;q=a">Next page' in both
    assert '<input type="hidden" name="q" value="a">' in both


# Too young to take part ---------------------------------------------------------------------


def _row(html: str, person_id: int) -> str:
    start = html.index(f'<tr id="person-{person_id}">')
    return html[start : html.index("</tr>", start)]


def test_someone_too_young_is_offered_no_sign_off_or_check_in(cast):
    participant = answer_everything(cast, "aisha@example.org", dob="2011-04-18")  # 15 on the day
    organiser = cast.client("sandra@example.org")
    row = _row(organiser.client.get("/safety/board").get_data(as_text=True), cast.aisha)
    assert "Not able to take part: under 16" in row
    assert "Sign off" not in row and "Check in" not in row
    roster = _row(organiser.client.get("/safety/roster").get_data(as_text=True), cast.aisha)
    assert "not able to take part (under 16)" in roster and "Check in" not in roster

    checklist_page = participant.client.get("/safety").get_data(as_text=True)
    assert "Not able to take part: under 16" in checklist_page
    date_of_birth = checklist_page.split("Your date of birth", 1)[1][:300]
    assert "tag-stop" in date_of_birth and "Done" not in date_of_birth
    assert "a parent or guardian must give their consent" not in checklist_page
    assert "Not able to take part: under 16" in participant.client.get("/me").get_data(as_text=True)


def test_someone_too_young_is_refused_sign_off_and_check_in_if_posted_anyway(cast):
    answer_everything(cast, "aisha@example.org", dob="2011-04-18")
    organiser = cast.client("sandra@example.org")
    refusal = "Aisha Rahman is not able to take part: under 16."
    signed = _sign(organiser, cast.aisha, cast.item("Emergency contact"))
    assert signed.status_code == 409 and refusal in signed.get_data(as_text=True)
    in_place = _sign(organiser, cast.aisha, cast.item("Emergency contact"), htmx=True)
    assert in_place.status_code == 409 and refusal in in_place.get_data(as_text=True)
    for data, headers in (({}, {"HX-Request": "true"}), ({"back": "roster"}, {})):
        checked = organiser.post(f"/safety/people/{cast.aisha}/check-in", data, headers=headers)
        assert checked.status_code == 409 and refusal in checked.get_data(as_text=True)
    with cast.app.app_context():
        assert db.session.query(SafetySignOff).count() == 0
        assert db.session.get(SafetyRecord, cast.aisha) is None


# On-the-day items ---------------------------------------------------------------------------


def test_on_the_day_items_are_not_signed_off_before_the_day(cast):
    """The event in conftest is on Saturday 17 April 2027 at 10:00: months away."""
    answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    opens = "from 8:00am on Saturday 17 April 2027 until the end of that day"
    board = organiser.client.get("/safety/board").get_data(as_text=True)
    assert opens in board
    row = _row(board, cast.aisha)
    assert "On the day only" in row and "Sign off<span" in row  # the other items still are
    assert 'Sign off<span class="visually-hidden"> Harness' not in row

    harness = cast.item("Harness")
    refused = _sign(organiser, cast.aisha, harness)
    assert refused.status_code == 409 and opens in refused.get_data(as_text=True)
    in_place = _sign(organiser, cast.aisha, harness, htmx=True)
    assert in_place.status_code == 409
    assert in_place.get_data(as_text=True).lstrip().startswith(f'<tr id="person-{cast.aisha}">')
    assert opens in in_place.get_data(as_text=True)
    assert _sign(organiser, cast.aisha, cast.item("Emergency contact")).status_code == 303
    with cast.app.app_context():
        assert db.session.query(SafetySignOff).filter_by(item_id=harness).count() == 0


@pytest.mark.parametrize(
    ("starts_in", "hours_before", "allowed"),
    [
        (timedelta(hours=3), 2, False),  # opens in an hour
        (timedelta(hours=1), 2, True),  # opened an hour ago
        (timedelta(hours=3), 4, True),  # the organisers opened it earlier
        (timedelta(days=-1), 2, False),  # the event day is over
    ],
)
def test_on_the_day_items_are_signed_off_in_the_window_the_organisers_set(
    cast, starts_in, hours_before, allowed
):
    answer_everything(cast, "aisha@example.org")
    organiser = cast.client("sandra@example.org")
    rules = {"min_age": "16", "weight_limit_kg": "120", "on_the_day_hours_before": hours_before}
    assert organiser.post("/safety/checklist", rules).status_code == 303
    with on_the_day(cast.app, starts_in):
        response = _sign(organiser, cast.aisha, cast.item("Safety briefing"))
        board = organiser.client.get("/safety/board").get_data(as_text=True)
    assert response.status_code == (303 if allowed else 409)
    assert ('id="on-the-day-window"' in board) is not allowed
    if starts_in < timedelta(0):
        assert "The event day is over" in response.get_data(as_text=True)


def test_the_window_runs_to_the_end_of_the_event_day_in_the_uk(cast):
    with cast.app.app_context():
        window = on_the_day_rules.window()
    assert window.opens == parse_london("2027-04-17 08:00")
    assert window.closes == parse_london("2027-04-18 00:00")  # midnight, BST
    assert window.refusal(window.opens - timedelta(seconds=1))
    assert window.refusal(window.opens) is None
    assert window.refusal(window.closes - timedelta(seconds=1)) is None
    assert "The event day is over: on-the-day items could be signed off on Saturday 17 April" in (
        window.refusal(window.closes)
    )


def test_the_window_setting_is_checked(cast):
    organiser = cast.client("sandra@example.org")
    rules = {"min_age": "16", "weight_limit_kg": "120", "on_the_day_hours_before": "25"}
    response = organiser.post("/safety/checklist", rules)
    assert response.status_code == 422
    assert "Enter a number of hours between 0 and 24" in response.get_data(as_text=True)
    page = organiser.client.get("/safety/checklist").get_data(as_text=True)
    assert "On-the-day items open this many hours before the start" in page
