"""News on the day: organisers (and instructors, for safety news, when allowed) post to the
event page's feed, with a photo if they like; the feed is polled with ETag/304 (from the fast
path) and 286 after close; organisers hide items; "Done it!" follows a check-out."""

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.events.service import configure_event
from app.extensions import db
from app.models import AuditEntry, NewsItem, Role, SponsorPage, StoredImage, User, utcnow
from app.news import service
from app.safety import service as safety
from tests.accounts import AuthActions


def jpeg(size=(80, 60)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "JPEG")
    out.seek(0)
    return out


def post(auth, body, **fields):
    return auth.post(
        "/news/post",
        {"body": body, "kind": "news", **fields},
        content_type="multipart/form-data",
    )


def feed_html(client) -> str:
    return client.get("/news", headers={"HX-Request": "true"}).get_data(as_text=True)


@pytest.fixture
def visitor(app):
    return app.test_client()


def test_an_organiser_posts_news_and_everyone_sees_it(organiser, visitor):
    assert "No news yet" in visitor.get("/").get_data(as_text=True)
    answer = post(organiser, "Aisha is over the edge! 🎉")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/news/post")
    assert "Aisha is over the edge! 🎉" in visitor.get("/").get_data(as_text=True)
    assert "Aisha is over the edge! 🎉" in feed_html(visitor)
    assert "Aisha is over the edge!" in organiser.client.get("/news/post").get_data(as_text=True)


def test_emoji_only_and_html_are_shown_safely(organiser, visitor):
    post(organiser, "🧗‍♀️🧗🏽")
    post(organiser, '<script>alert("x")</script><b>bold</b>')
    html = feed_html(visitor)
    assert "🧗‍♀️🧗🏽" in html
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_empty_or_long_news_is_refused_beside_the_field(organiser):
    empty = post(organiser, "   ")
    assert empty.status_code == 422
    assert "Write the news first" in empty.get_data(as_text=True)
    long = post(organiser, "x" * 501)
    assert long.status_code == 422 and "Use 500 characters or fewer" in long.get_data(as_text=True)
    odd = post(organiser, "Hi", kind="gossip")
    assert odd.status_code == 422


def test_a_photo_is_re_encoded_stored_and_shown(organiser, visitor, app):
    answer = post(organiser, "At the top", photo=(jpeg(), "top.jpg"), photo_alt="The tower")
    assert answer.status_code == 303
    with app.app_context():
        [item] = db.session.scalars(select(NewsItem)).all()
        sha256 = item.photo_sha256
        assert db.session.get(StoredImage, sha256).content_type == "image/jpeg"
    html = feed_html(visitor)
    assert f'src="/images/{sha256}.jpg" alt="The tower"' in html
    image = visitor.get(f"/images/{sha256}.jpg")
    assert image.status_code == 200 and "immutable" in image.headers["Cache-Control"]


def test_a_photo_needs_a_description_and_must_be_a_photo(organiser, app):
    no_alt = post(organiser, "At the top", photo=(jpeg(), "top.jpg"))
    assert no_alt.status_code == 422
    assert "Describe the photo in a few words" in no_alt.get_data(as_text=True)
    bad = post(organiser, "At the top", photo=(io.BytesIO(b"not a photo"), "x.jpg"), photo_alt="x")
    assert bad.status_code == 422
    assert "a photo we can read" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(NewsItem)).all() == []


def test_a_10_mb_photo_gets_a_clear_message_beside_the_field(organiser, app):
    # Encoded here, in memory: the test client would spool it to a file left unclosed.
    fields = {"csrf_token": organiser.csrf_token(), "body": "Huge", "kind": "news"}
    fields["photo"] = FileStorage(io.BytesIO(b"\xff" * 10 * 1024 * 1024), "huge.jpg")
    boundary, body = encode_multipart(fields)
    answer = organiser.client.post(
        "/news/post", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert answer.status_code == 413
    html = answer.get_data(as_text=True)
    assert "<h1>News on the day</h1>" in html
    assert "That file is too big. Choose a photo smaller than 8 MB." in html
    assert 'id="photo-error"' in html


def test_the_feed_answers_304_while_unchanged_and_286_once_closed(organiser, visitor, app):
    first = visitor.get("/news", headers={"HX-Request": "true"})
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    again = visitor.get("/news", headers={"HX-Request": "true", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert "Content-Security-Policy" in again.headers  # the fast path sets the app's headers
    post(organiser, "Next up: Callum")
    changed = visitor.get("/news", headers={"HX-Request": "true", "If-None-Match": etag})
    assert changed.status_code == 200 and "Next up: Callum" in changed.get_data(as_text=True)
    with app.app_context():
        configure_event(closes_at=utcnow() - timedelta(seconds=1))
    closed = visitor.get("/news", headers={"HX-Request": "true"})
    assert closed.status_code == 286 and "Next up: Callum" in closed.get_data(as_text=True)
    assert 'hx-get="/news"' not in visitor.get("/").get_data(as_text=True)
    assert visitor.get("/news").status_code == 200  # without htmx: just the fragment


def test_the_flask_view_and_the_fast_path_agree_on_the_version(organiser, app):
    post(organiser, "One")
    with app.app_context():
        version = service.feed_version()
    fast = app.test_client().get("/news", headers={"HX-Request": "true"})
    assert fast.headers["ETag"] == f'"{version.etag}"'


def test_organisers_hide_an_item_and_it_leaves_the_feed(organiser, visitor, app):
    post(organiser, "Wrong name, sorry")
    etag = visitor.get("/news", headers={"HX-Request": "true"}).headers["ETag"]
    with app.app_context():
        item_id = db.session.scalar(select(NewsItem.id))
    page = organiser.client.get("/news/post").get_data(as_text=True)
    assert f'action="/news/{item_id}/hide"' in page
    answer = organiser.post(f"/news/{item_id}/hide")
    assert answer.status_code == 303
    after = visitor.get("/news", headers={"HX-Request": "true", "If-None-Match": etag})
    assert after.status_code == 200 and "Wrong name" not in after.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action)) == "news.hidden"


def _instructor(make, client) -> AuthActions:
    make.user(name="Ian Instructor", email="ian@example.org", role=Role.INSTRUCTOR)
    auth = AuthActions(client)
    auth.login("ian@example.org")
    return auth


def test_instructors_post_safety_news_only_once_organisers_allow_it(make, client, app):
    ian = _instructor(make, client)
    assert client.get("/news/post").status_code == 403
    assert post(ian, "Wind check").status_code == 403
    with app.app_context():
        configure_event(instructors_post_safety_news=True)
    assert "Post safety news" in client.get("/safety/board").get_data(as_text=True)
    form = client.get("/news/post").get_data(as_text=True)
    assert "You post safety news." in form and 'name="kind" value="safety"' in form
    assert post(ian, "Pause for wind").status_code == 422  # not safety news
    assert post(ian, "Pause for wind", kind="safety").status_code == 303
    assert "Safety:" in feed_html(app.test_client())
    with app.app_context():
        item = db.session.scalar(select(NewsItem))
        assert item.kind == "safety"
    assert ian.post(f"/news/{item.id}/hide").status_code == 403


def test_participants_cannot_post(make, client):
    make.participant()
    auth = AuthActions(client)
    auth.login()
    assert client.get("/news/post").status_code == 403
    assert post(auth, "Me!").status_code == 403


def _check_in(app, page_id, organiser_email="sandra@example.org"):
    with app.app_context():
        person = db.session.get(SponsorPage, page_id).participant
        actor = db.session.scalar(select(User).where(User.email == organiser_email))
        safety.check_in(actor, person)
        return person.id


def test_a_participant_checked_out_as_done_shows_done_it(make, organiser, visitor, app):
    page = make.participant()
    user_id = _check_in(app, page)
    assert "Done it!" not in visitor.get("/p/aisha").get_data(as_text=True)
    answer = organiser.post(f"/safety/people/{user_id}/done-it")
    assert answer.status_code == 303
    shown = visitor.get("/p/aisha").get_data(as_text=True)
    assert '<span class="done-it-badge">Done it!</span> Aisha Rahman has completed' in shown
    assert "Aisha Rahman has done it!" in feed_html(visitor)
    with app.app_context():
        assert service.done_it(db.session.get(User, user_id))
    board = organiser.client.get("/safety/board").get_data(as_text=True)
    assert "Undo done it" in board
    organiser.post(f"/safety/people/{user_id}/done-it", {"undo": "1"})
    assert "Done it!" not in visitor.get("/p/aisha").get_data(as_text=True)
    assert "has done it" not in feed_html(visitor)
    organiser.post(f"/safety/people/{user_id}/done-it")  # again: the same item, shown again
    assert feed_html(visitor).count('<p class="news-body">Aisha Rahman has done it!') == 1


def test_only_someone_checked_in_can_be_checked_out(make, organiser):
    page = make.participant()
    with make.app.app_context():
        user_id = db.session.get(SponsorPage, page).participant_id
    answer = organiser.post(f"/safety/people/{user_id}/done-it")
    assert answer.status_code == 409
    assert "Check Aisha Rahman in before" in answer.get_data(as_text=True)
