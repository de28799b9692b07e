"""Planning together: decisions put to every group, each person's say, closing once, decisions
taken alone and reported back, the meeting report, the public page, groups and planners."""

import re
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Decision,
    DecisionOutcome,
    DecisionRecordChanged,
    DecisionResponse,
    PlanningGroup,
    Role,
    Stance,
    User,
)
from app.planning import people, service
from tests.accounts import AuthActions


@pytest.fixture
def planning(make):
    """Sandra (organiser, Students), Pat and Rowan (planners, Service users and carers), and
    Morven (organiser, in both groups)."""
    ids = {
        "sandra": make.user(),
        "pat": make.user("Pat Planner", "pat@example.org", role=Role.PLANNER),
        "rowan": make.user("Rowan Carer", "rowan@example.org", role=Role.PLANNER),
        "morven": make.user("Morven Both", "morven@example.org"),
    }
    with make.app.app_context():
        carers = people.add_group("Service users and carers", "")
        students = people.add_group("Students", "")
        groups = {"carers": carers.id, "students": students.id}
        for name, mine in [
            ("sandra", {students.id}),
            ("pat", {carers.id}),
            ("rowan", {carers.id}),
            ("morven", {carers.id, students.id}),
        ]:
            people.set_groups(db.session.get(User, ids[name]), mine)
    return {"users": ids, "groups": groups, "app": make.app}


def as_user(app, email: str) -> AuthActions:
    """A client logged in as `email` through the log-in form."""
    actions = AuthActions(app.test_client())
    actions.login(email)
    return actions


def propose(actions, **fields):
    data = {"title": "Which tower?", "details": "Two towers are free.", **fields}
    return actions.post("/planning/decisions/new", data)


def decision_id(response) -> int:
    return int(re.search(r"/planning/decisions/(\d+)", response.headers["Location"]).group(1))


def test_a_proposal_is_put_to_every_group_and_shows_who_has_had_their_say(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    response = propose(sandra, options="Tower A\nTower B", decide_by="2027-03-01")
    assert response.status_code == 303
    number = decision_id(response)

    pat = as_user(planning["app"], "pat@example.org")
    said = pat.post(
        f"/planning/decisions/{number}/say", {"stance": "concerns", "comment": "Stairs?"}
    )
    assert said.status_code == 303
    page = pat.client.get(f"/planning/decisions/{number}").text
    carers, students = page.split("<h3>Service users and carers</h3>")[1].split("<h3>Students</h3>")
    assert "Pat Planner</strong>: Is worried." in carers and "Stairs?" in carers
    assert "Waiting for: Morven Both, Rowan Carer." in carers
    assert "No one in this group has had their say yet." in students
    assert "Waiting for: Morven Both, Sandra Organiser." in students
    assert "We need to decide by 1 March 2027." in page
    assert "Tower A\nTower B" in page  # shown with its line breaks (CSS keeps them)


def test_a_later_say_replaces_the_earlier_one_on_the_page_and_both_are_kept(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra))
    sandra.post(f"/planning/decisions/{number}/say", {"stance": "concerns", "comment": "Cost"})
    sandra.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    page = sandra.client.get(f"/planning/decisions/{number}").text
    assert "Sandra Organiser</strong>: Agrees." in page and "Cost" not in page
    with planning["app"].app_context():
        stances = db.session.scalars(
            select(DecisionResponse.stance).order_by(DecisionResponse.id)
        ).all()
    assert stances == [Stance.CONCERNS, Stance.AGREE]


def test_someone_in_two_groups_speaks_in_both(planning):
    morven = as_user(planning["app"], "morven@example.org")
    number = decision_id(propose(morven))
    response = morven.post(
        f"/planning/decisions/{number}/say", {"stance": "agree"}, follow_redirects=True
    )
    assert "Your say is saved for Service users and carers and Students." in response.text
    with planning["app"].app_context():
        record = service.record_of(service.get_decision(number))
    assert [g.has_had_its_say for g in record.groups] == [True, True]


def test_the_say_form_answers_htmx_with_its_fragment(planning):
    pat = as_user(planning["app"], "pat@example.org")
    number = decision_id(propose(pat))
    headers = {"HX-Request": "true"}
    wrong = pat.post(f"/planning/decisions/{number}/say", {"stance": "comment"}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.text.startswith('<section id="decision-says"')
    assert "Write what you want to say." in wrong.text
    right = pat.post(f"/planning/decisions/{number}/say", {"stance": "agree"}, headers=headers)
    assert right.status_code == 200 and right.text.startswith('<section id="decision-says"')
    assert "Thank you. Your say is saved for Service users and carers." in right.text
    assert "Pat Planner</strong>: Agrees." in right.text


def test_no_stance_or_a_made_up_one_is_a_clear_error(planning):
    pat = as_user(planning["app"], "pat@example.org")
    number = decision_id(propose(pat))
    for data in ({}, {"stance": "veto"}):
        response = pat.post(f"/planning/decisions/{number}/say", data)
        assert response.status_code == 422
        assert "There is a problem" in response.text


def test_only_people_in_an_asked_group_have_a_say(planning, make):
    with planning["app"].app_context():
        db.session.add(PlanningGroup(name="Staff"))
        db.session.commit()
    make.user("Nadia New", "nadia@example.org")  # an organiser in no group
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra))
    nadia = as_user(planning["app"], "nadia@example.org")
    assert (
        "You are not in a group that was asked"
        in nadia.client.get(f"/planning/decisions/{number}").text
    )
    response = nadia.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    assert response.status_code == 409
    assert "You are not in a group that was asked about this." in response.text


def test_a_retired_group_is_not_asked_and_no_groups_at_all_is_refused(planning, make):
    with planning["app"].app_context():
        people.change_group(
            db.session.get(PlanningGroup, planning["groups"]["students"]), "Students", "", True
        )
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra))
    with planning["app"].app_context():
        asked = [g.group_name for g in service.get_decision(number).asked]
    assert asked == ["Service users and carers"]
    with planning["app"].app_context():
        people.change_group(
            db.session.get(PlanningGroup, planning["groups"]["carers"]), "Carers", "", True
        )
    response = propose(sandra)
    assert response.status_code == 422
    assert "There are no groups yet. Ask an organiser to add them first." in response.text


def test_closing_records_what_was_decided_and_a_second_close_is_told_clearly(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra))
    page = sandra.client.get(f"/planning/decisions/{number}").text
    assert "Not every group has had its say." in page
    closed = sandra.post(
        f"/planning/decisions/{number}/close",
        {"decided": "Tower A", "why": "It has a lift."},
        follow_redirects=True,
    )
    assert "Thank you. The decision is recorded." in closed.text
    assert "Tower A" in closed.text and "Sandra Organiser wrote this down" in closed.text

    pat = as_user(planning["app"], "pat@example.org")
    late = pat.post(f"/planning/decisions/{number}/close", {"decided": "Tower B", "why": "x"})
    assert late.status_code == 409
    assert "Sandra Organiser closed this decision a moment ago." in late.text
    assert "Your words were not saved." in late.text and "Tower A" in late.text
    too_late = pat.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    assert too_late.status_code == 409
    assert "This decision has been made." in too_late.text
    with planning["app"].app_context():
        assert db.session.get(DecisionOutcome, number).decided == "Tower A"


def test_two_people_closing_at_the_same_moment_one_wins(planning):
    app = planning["app"]
    sandra = as_user(app, "sandra@example.org")
    number = decision_id(propose(sandra))
    barrier = threading.Barrier(2)
    results = {}

    def close(name: str):
        with app.test_request_context():
            user = db.session.get(User, planning["users"][name])
            barrier.wait()
            try:
                service.close(user, number, f"{name}'s answer", "why", False)
                results[name] = "won"
            except service.AlreadyDecided as exc:
                results[name] = str(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=close, args=(n,)) for n in ("sandra", "pat")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values())[-1] == "won"
    loser = next(n for n, r in results.items() if r != "won")
    winner = next(n for n, r in results.items() if r == "won")
    assert "closed this decision a moment ago" in results[loser]
    with app.app_context():
        outcome = db.session.get(DecisionOutcome, number)
        assert outcome.decided == f"{winner}'s answer"
        assert db.session.scalar(select(func.count()).select_from(DecisionOutcome)) == 1


def test_a_decision_taken_alone_is_reported_back_until_every_group_has_had_its_say(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    propose(sandra, title="An ordinary question")
    response = sandra.post(
        "/planning/decisions/alone",
        {
            "title": "The date",
            "decided": "17 April",
            "why": "The tower is free.",
            "alone_reason": "The tower needed an answer by Friday.",
        },
    )
    assert response.status_code == 303
    number = decision_id(response)
    home = sandra.client.get("/planning").text
    first = home.index("Read what was decided alone")
    assert first < home.index("The date") < home.index("Give your say")
    assert home.index("The date") < home.index("An ordinary question")
    assert "To report back" in home

    # Sandra's own group has its say; the carers have not yet.
    sandra.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    with planning["app"].app_context():
        assert service.record_of(service.get_decision(number)).to_report_back

    rowan = as_user(planning["app"], "rowan@example.org")
    rowan.post(f"/planning/decisions/{number}/say", {"stance": "concerns", "comment": "Too soon"})
    page = rowan.client.get(f"/planning/decisions/{number}").text
    assert "Every group has read this and had its say." in page
    assert "The tower needed an answer by Friday." in page
    home = rowan.client.get("/planning").text
    assert "There is nothing to report back." in home


def test_the_record_cannot_be_changed_or_deleted(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    number = decision_id(propose(sandra))
    sandra.post(f"/planning/decisions/{number}/say", {"stance": "agree"})
    sandra.post(f"/planning/decisions/{number}/close", {"decided": "A", "why": "B"})
    with planning["app"].app_context():
        decision = db.session.get(Decision, number)
        decision.title = "Something else"
        with pytest.raises(DecisionRecordChanged):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(DecisionOutcome, number))
        with pytest.raises(DecisionRecordChanged):
            db.session.flush()
        db.session.rollback()
        # Raw SQL never reaches the ORM: the database itself refuses.
        for table in ("decisions", "decision_groups", "decision_responses", "decision_outcomes"):
            for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET decision_id = 1"):
                if table == "decisions":
                    statement = statement.replace("decision_id", "title")
                with pytest.raises(IntegrityError, match="append-only"):
                    db.session.execute(text(statement))
                db.session.rollback()


def test_long_text_html_and_emoji(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    too_long = propose(sandra, title="x" * 121, details="y" * 5001)
    assert too_long.status_code == 422
    assert "This is too long. Use 120 letters or fewer." in too_long.text
    assert "This is too long. Use 5,000 letters or fewer." in too_long.text
    bad_date = propose(sandra, decide_by="31/02/2027")
    assert bad_date.status_code == 422 and "Write a date, like 17/04/2027." in bad_date.text

    title = "<script>alert('x')</script> Tower 🧗‍♀️"
    number = decision_id(
        propose(sandra, title=title, details="<b>bold</b> 🎉", decide_by="17/04/2027")
    )
    page = sandra.client.get(f"/planning/decisions/{number}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; 🎉" in page and "Tower 🧗‍♀️" in page
    assert "We need to decide by 17 April 2027." in page
    comment = sandra.post(
        f"/planning/decisions/{number}/say", {"stance": "comment", "comment": "z" * 2001}
    )
    assert comment.status_code == 422 and "Use 2,000 letters or fewer." in comment.text


def test_the_report_lists_decisions_since_a_date_with_who_was_consulted(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    consulted = decision_id(propose(sandra, title="Which tower?"))
    sandra.post(f"/planning/decisions/{consulted}/say", {"stance": "agree"})
    sandra.post(f"/planning/decisions/{consulted}/close", {"decided": "Tower A", "why": "Lift"})
    sandra.post(
        "/planning/decisions/alone",
        {"title": "The date", "decided": "17 April", "why": "Free", "alone_reason": "No time"},
    )
    report = sandra.client.get("/planning/report").text
    assert "There are 2." in report
    assert "1. Which tower?" in report and "2. The date" in report
    assert "Students: Sandra Organiser (agrees)." in report
    assert "Service users and carers: no one has had their say." in report
    assert "Sandra Organiser decided this alone.</strong> Why: No time" in report
    assert "Not reported back to every group yet." in report
    future = sandra.client.get("/planning/report?since=2999-01-01").text
    assert "There are no decisions since then." in future
    nonsense = sandra.client.get("/planning/report?since=yesterday")
    assert nonsense.status_code == 200 and "Write a date, like 2027-04-17." in nonsense.text


def test_the_public_page_shows_only_what_was_chosen_and_no_names(planning, client):
    sandra = as_user(planning["app"], "sandra@example.org")
    for title, publish in (("Shown", "y"), ("Kept in the group", "")):
        number = decision_id(propose(sandra, title=title))
        sandra.post(
            f"/planning/decisions/{number}/close",
            {"decided": f"{title}: yes", "why": "Because", "publish": publish},
        )
    page = client.get("/how-we-organised-this").text
    assert "Shown: yes" in page and "Kept in the group" not in page
    assert "We asked: Service users and carers, Students." in page
    assert "Sandra" not in page  # the public page names groups, never people


def test_organisers_change_the_groups_and_who_is_in_them(planning):
    sandra = as_user(planning["app"], "sandra@example.org")
    added = sandra.post("/planning/groups", {"name": "Staff", "about": "University staff"})
    assert added.status_code == 303
    again = sandra.post("/planning/groups", {"name": "staff"})
    assert again.status_code == 422 and "There is already a group with that name." in again.text
    with planning["app"].app_context():
        staff = db.session.scalar(select(PlanningGroup).where(PlanningGroup.name == "Staff"))
    renamed = sandra.post(
        f"/planning/groups/{staff.id}",
        {f"group-{staff.id}-name": "Staff team", f"group-{staff.id}-about": ""},
        prefix=f"group-{staff.id}",
    )
    assert renamed.status_code == 303
    pat_id = planning["users"]["pat"]
    moved = sandra.post(
        f"/planning/people/{pat_id}/groups",
        {f"member-{pat_id}-groups": [str(staff.id), str(planning["groups"]["carers"])]},
        prefix=f"member-{pat_id}",
    )
    assert moved.status_code == 303
    pat = as_user(planning["app"], "pat@example.org")
    assert "You are in: Service users and carers, Staff team." in pat.client.get("/planning").text
    groups_page = pat.client.get("/planning/groups").text
    assert "Add a group" not in groups_page  # planners see the groups, organisers change them


def test_inviting_a_planner_who_then_chooses_a_password(planning, smtp):
    sandra = as_user(planning["app"], "sandra@example.org")
    refused = sandra.post(
        "/planning/planners/invite", {"name": "Aisha", "email": "pat@example.org"}
    )
    assert refused.status_code == 422
    assert "That address already has an account." in refused.text
    response = sandra.post(
        "/planning/planners/invite",
        {
            "name": "Una Student",
            "email": "una@example.org",
            "groups": str(planning["groups"]["students"]),
        },
    )
    assert response.status_code == 303
    response.close()  # the outbox sends once the response has gone
    [email] = smtp.wait_for("una@example.org")
    body = email.get_body(("plain",)).get_content()
    assert "Sandra Organiser invites you to help plan" in body
    assert "You will not see donors, money or health answers." in body
    link = re.search(r"http://\S+/planning/join/\S+", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    una = AuthActions(planning["app"].test_client())
    assert una.client.get("/" + path).status_code == 200
    joined = una.post("/" + path, {"password": "a long new password"})
    assert joined.status_code == 303 and joined.headers["Location"] == "/planning"
    home = una.client.get("/planning").text
    assert "You are in: Students." in home
    assert una.client.get("/" + path).status_code == 404  # the link worked once
    with planning["app"].app_context():
        una_user = db.session.scalar(select(User).where(User.email == "una@example.org"))
        assert una_user.role == Role.PLANNER


def test_a_planner_never_sees_donors_money_or_health(app, make):
    """Every page in the access table, as Pat the planner: nothing under /organiser, /safety
    or /me answers, and no donor's email address or amount appears anywhere Pat can go."""
    from tests.test_access import TABLE
    from tests.world import build_world, log_in_as

    world = build_world(make)
    client = app.test_client()
    log_in_as(client, world, "planner")
    values = world.values()
    for tries in TABLE.values():
        for attempt in tries:
            if attempt.method != "GET":
                continue
            url = attempt.url.format(**values)
            if url.startswith(("/donate/resume/", "/gift-aid/")):
                continue  # the donor's own emailed link: whoever holds it is that donor
            response = client.get(url)
            response.close()
            if url.startswith(("/organiser", "/safety", "/me")):
                assert response.status_code == 403, url
            if response.mimetype == "text/html":
                assert "fiona@example.org" not in response.text, url
                assert "Emergency contact" not in response.text, url
    header = client.get("/planning").text.split("</header>")[0]
    assert "Planning" in header
    assert "My page" not in header and "Safety" not in header and "dashboard" not in header
