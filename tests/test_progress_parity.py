"""The live progress fast path (app/progress.py) answers every state exactly as the Flask
views do, for the event, sponsor pages and teams: it runs the ORM's own queries, so a page
or team that is not public cannot leak through it."""

import time
from datetime import timedelta

import pytest
from werkzeug.test import Client

from app.extensions import db
from app.models import PageStatus, PreviousSlug, SponsorPage, Team, utcnow
from app.progress import LiveProgress
from app.teams import membership, service


def _both_ways(app, path, headers):
    live = app.wsgi_app
    while not isinstance(live, LiveProgress):  # inside the request log (app/logs.py)
        live = live.wsgi_app
    return Client(app).get(path, headers=headers), Client(live.wrapped).get(path, headers=headers)


def _seen(response):
    # Error pages carry a fresh CSRF token each time: their status is what must agree.
    body = response.get_data() if response.status_code in (200, 286, 304) else b""
    return (
        response.status_code,
        body,
        response.headers.get("ETag"),
        response.headers.get("Location"),
    )


def _same(fast, slow, path, headers):
    said, done = _seen(fast), _seen(slow)
    assert said == done, f"{path} {headers}: fast {said[0]}, Flask {done[0]}"
    return fast


def _states(make):
    """One of each: public, draft, unapproved, hidden and renamed pages; public, hidden,
    renamed and merged teams."""
    app = make.app
    aisha = make.participant()
    make.participant("Draft Dora", "dora", published=False)
    unapproved = make.participant("Una Approved", "una")
    hidden = make.participant("Hidden Hamish", "hamish")
    renamed = make.participant("Rena Med", "rena")
    make.donation(1500, page_id=aisha, gift_aid=True)
    with app.app_context():
        db.session.get(SponsorPage, unapproved).approved_at = None
        db.session.get(SponsorPage, hidden).hidden_at = utcnow()
        db.session.add(PreviousSlug(sponsor_page_id=renamed, slug="rena-old"))
        page = db.session.get(SponsorPage, aisha)
        carers = service.create_team("Carers", captain=page, slug="carers")
        quiet = service.create_team("Quiet", slug="quiet")
        service.set_hidden(quiet, True)
        old = service.create_team("Old crew", slug="old-crew")
        db.session.flush()
        membership.merge(old, carers)
        carers = db.session.get(Team, carers.id)
        service.update_team(carers, name="Carers' group")  # renamed: its address stays
        db.session.commit()
        assert db.session.get(SponsorPage, aisha).status == PageStatus.PUBLISHED


PATHS = [
    "/progress",
    "/p/aisha/progress",
    "/p/AISHA/progress",
    "/p/dora/progress",
    "/p/una/progress",
    "/p/hamish/progress",
    "/p/rena-old/progress",
    "/p/nobody/progress",
    "/t/carers/progress",
    "/t/quiet/progress",
    "/t/old-crew/progress",
    "/t/nobody/progress",
]
HEADERS = [{}, {"HX-Request": "true"}]


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_the_fast_path_answers_every_state_as_the_flask_views_do(make, closed):
    _states(make)
    if closed:
        with make.app.app_context():
            from app.events.service import configure_event

            configure_event(closes_at=utcnow() - timedelta(minutes=1))
    answered = {}
    for path in PATHS:
        for headers in HEADERS:
            fast = _same(*_both_ways(make.app, path, headers), path, headers)
            answered[path, bool(headers)] = fast.status_code
            etag = fast.headers.get("ETag")
            if etag:
                again = {**headers, "If-None-Match": etag}
                _same(*_both_ways(make.app, path, again), path, again)
    public = ("/progress", "/p/aisha/progress", "/t/carers/progress")
    for path in public:
        assert answered[path, True] == (286 if closed else 200)
        assert answered[path, False] == 200
    for path in ("/p/dora/progress", "/p/una/progress", "/p/hamish/progress", "/t/quiet/progress"):
        assert answered[path, True] == 404
    assert answered["/p/rena-old/progress", True] == 301
    assert answered["/t/old-crew/progress", True] == 301
    moved = Client(make.app).get("/t/old-crew/progress")
    assert moved.headers["Location"] == "/t/carers/progress"


def test_the_fast_path_answers_public_scopes_itself(make):
    """It is the fast path that answers them (no Flask request log line says otherwise)."""
    _states(make)
    live = make.app.wsgi_app
    while not isinstance(live, LiveProgress):
        live = live.wsgi_app
    for kind, slug in (("event", None), ("page", "aisha"), ("team", "carers")):
        assert live._read(kind, slug) is not None
    for kind, slug in (("page", "dora"), ("page", "una"), ("page", "hamish"), ("team", "quiet")):
        assert live._read(kind, slug) is None


def test_the_first_polls_of_a_new_process_arriving_together_are_all_answered(make, monkeypatch):
    """Gunicorn's threads start polling at once: none may find the engine bound but its
    queries not compiled yet (a 500 on /news the first time a busy page was opened)."""
    import threading

    from app import progress

    make.participant()
    live = make.app.wsgi_app
    while not isinstance(live, LiveProgress):
        live = live.wsgi_app
    compile_queries = progress._Compiled

    def slowly(*args):
        time.sleep(0.05)  # widen the moment between binding the engine and the queries
        return compile_queries(*args)

    monkeypatch.setattr(progress, "_Compiled", slowly)
    start = threading.Barrier(4)
    statuses = []

    def poll(path):
        start.wait()
        statuses.append(Client(make.app).get(path, headers={"HX-Request": "true"}).status_code)

    threads = [threading.Thread(target=poll, args=(p,)) for p in ("/news", "/progress") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 200]
