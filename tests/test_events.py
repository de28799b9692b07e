"""The event page and its live progress partial, as a visitor sees them."""

from datetime import timedelta

from app.events.service import configure_event
from app.models import DonationStatus, utcnow


def test_event_page_says_what_when_where_and_why(client, event):
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Sponsored Abseil 2027</h1>" in page
    assert "Saturday 17 April 2027, 10:00am" in page  # stored 09:00 UTC, shown in BST
    assert "Queen Margaret Tower, Glasgow" in page
    assert "Travel and respite for the group." in page
    assert "In aid of Carers Voice" in page
    assert (
        "Carers Voice is a Scottish charity, SC012345, regulated by the Scottish Charity "
        "Regulator (OSCR)." in page
    )


def test_progress_shows_raised_against_target_with_gift_aid_beside_it(client, make):
    make.donation(2000, gift_aid=True)
    make.donation(1000)
    page = client.get("/").get_data(as_text=True)
    assert "£30.00</strong> raised\n    of £5,000.00" in page
    assert "+ £5.00 Gift Aid" in page  # 25% of the £20 declared
    assert 'aria-valuenow="0"' in page  # £30 of £5,000 is under 1%
    assert "2 supporters" in page
    assert 'aria-live="polite"' in page
    assert 'hx-trigger="every 5s"' in page


def test_bar_can_pass_the_target_and_says_what_happens_to_the_extra(client, make):
    make.donation(300_000)
    make.donation(300_000)
    page = client.get("/").get_data(as_text=True)
    assert "120%" in page
    assert 'aria-valuenow="100"' in page and "w-100" in page
    assert "Extra goes to next year&#39;s fund." in page


def test_money_that_is_not_paid_or_was_refunded_does_not_count(client, make):
    make.donation(1000, status=DonationStatus.PENDING)
    make.donation(2000, status=DonationStatus.FAILED)
    make.donation(3000, refunded_pence=3000)
    make.donation(4000, refunded_pence=1500)
    page = client.get("/").get_data(as_text=True)
    assert "£25.00</strong> raised" in page
    assert "1 supporter<" in page


def test_recent_donations_respect_anonymous_and_hidden_amounts(client, make):
    make.donation(1500, donor_name="Morag", message="Go on yersel!")
    make.donation(2500, donor_name="Secret Sam", anonymous=True)
    make.donation(9900, donor_name="Quiet Quentin", hide_amount=True)
    page = client.get("/").get_data(as_text=True)
    assert "Morag" in page and "£15.00" in page and "Go on yersel!" in page
    assert "Secret Sam" not in page and "Anonymous" in page and "£25.00" in page
    assert "Quiet Quentin" in page and "£99.00" not in page and "amount not shown" in page


def test_hidden_messages_are_not_shown(client, make):
    make.donation(1500, message="something rude", message_hidden_at=utcnow())
    assert "something rude" not in client.get("/").get_data(as_text=True)


def test_leaderboard_lists_published_pages_by_amount_raised(client, make):
    aisha = make.participant("Aisha Rahman", "aisha")
    callum = make.participant("Callum MacLeod", "callum")
    make.participant("Draft Dora", "dora", published=False)
    make.donation(1000, page_id=aisha)
    make.donation(5000, page_id=callum)
    page = client.get("/").get_data(as_text=True)
    assert page.index("Callum MacLeod") < page.index("Aisha Rahman")
    assert "Draft Dora" not in page


def test_page_donations_count_toward_the_event_too(client, make):
    aisha = make.participant()
    make.donation(1000, page_id=aisha)
    make.donation(500)
    assert "£15.00</strong> raised" in client.get("/").get_data(as_text=True)


def test_progress_partial_is_the_same_markup_as_the_page(client, htmx_client, make):
    make.donation(1234)
    fragment = htmx_client.get("/progress")
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.startswith('<div id="progress-event"')
    assert "<html" not in body
    assert body.strip() in client.get("/").get_data(as_text=True)


def test_progress_partial_answers_304_until_something_changes(htmx_client, make):
    first = htmx_client.get("/progress")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"

    unchanged = htmx_client.get("/progress", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""

    make.donation(1000)
    changed = htmx_client.get("/progress", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "£10.00" in changed.get_data(as_text=True)


def test_a_browser_behind_a_gzip_proxy_still_gets_304(htmx_client, make):
    """nginx's gzip weakens the ETag to W/"..."; the browser sends that form back."""
    etag = htmx_client.get("/progress").headers["ETag"]
    weakened = htmx_client.get("/progress", headers={"If-None-Match": f"W/{etag}"})
    assert weakened.status_code == 304

    make.donation(1000)
    assert htmx_client.get("/progress", headers={"If-None-Match": f"W/{etag}"}).status_code == 200


def test_a_pending_donation_does_not_change_the_etag(htmx_client, make):
    etag = htmx_client.get("/progress").headers["ETag"]
    make.donation(1000, status=DonationStatus.PENDING)
    assert htmx_client.get("/progress", headers={"If-None-Match": etag}).status_code == 304


def test_changing_the_target_changes_the_partial(event, htmx_client):
    etag = htmx_client.get("/progress").headers["ETag"]
    with event.app_context():
        configure_event(target_pence=600_000)
    response = htmx_client.get("/progress", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "of £6,000.00" in response.get_data(as_text=True)


def test_after_the_event_closes_polling_stops_with_286(event, client, htmx_client):
    etag = htmx_client.get("/progress").headers["ETag"]
    with event.app_context():
        configure_event(closes_at=utcnow() - timedelta(minutes=1))
    for headers in ({}, {"If-None-Match": etag}):
        response = htmx_client.get("/progress", headers=headers)
        assert response.status_code == 286
        assert "this is the final total" in response.get_data(as_text=True)
    # Someone opening the URL directly gets an ordinary page, and the event page stops polling.
    assert client.get("/progress").status_code == 200
    assert "hx-trigger" not in client.get("/").get_data(as_text=True)


def test_progress_partial_404s_before_the_event_exists(htmx_client):
    assert htmx_client.get("/progress").status_code == 404


def _both_ways(app, path, headers=None):
    """The same request answered by the fast path and by the Flask view behind it."""
    from werkzeug.test import Client

    from app.progress import LiveProgress

    live = app.wsgi_app
    while not isinstance(live, LiveProgress):  # inside the request log (app/logs.py)
        live = live.wsgi_app
    fast = Client(app).get(path, headers=headers or {})
    slow = Client(live.wrapped).get(path, headers=headers or {})
    return fast, slow


def test_the_fast_path_answers_exactly_as_the_flask_view_does(make):
    page_id = make.participant()
    make.donation(1500, page_id=page_id, gift_aid=True)
    for path in ("/progress", "/p/aisha/progress"):
        fast, slow = _both_ways(make.app, path, {"HX-Request": "true"})
        assert (fast.status_code, fast.get_data(), fast.headers["ETag"]) == (
            slow.status_code,
            slow.get_data(),
            slow.headers["ETag"],
        )
        etag = fast.headers["ETag"]
        fast, slow = _both_ways(make.app, path, {"HX-Request": "true", "If-None-Match": etag})
        assert fast.status_code == slow.status_code == 304


def test_the_partial_carries_the_same_security_headers_as_every_page(client, event):
    page = client.get("/")
    partial = client.get("/progress")
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"):
        assert partial.headers[header] == page.headers[header]


def test_draft_page_progress_is_not_public(client, make):
    make.participant("Draft Dora", "dora", published=False)
    assert client.get("/p/dora/progress").status_code == 404


def test_cookieless_visitors_share_a_page_rendered_at_most_every_few_seconds(make, monkeypatch):
    import time as clock

    app = make.app
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 5
    visitor = app.test_client(use_cookies=False)
    first = visitor.get("/").get_data(as_text=True)
    assert "X-CSRFToken" not in first  # nothing of one visitor's session in a shared page
    make.donation(4200)
    assert visitor.get("/").get_data(as_text=True) == first  # within the 5 seconds
    later = clock.monotonic() + 6
    monkeypatch.setattr("app.microcache.time.monotonic", lambda: later)
    assert "£42.00</strong> raised" in visitor.get("/").get_data(as_text=True)


def test_visitors_with_a_session_always_get_a_fresh_page(make):
    app = make.app
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 5
    client = app.test_client()
    client.get("/donate")  # the form starts a session
    client.get("/")
    make.donation(4200)
    page = client.get("/").get_data(as_text=True)
    assert "£42.00</strong> raised" in page and "X-CSRFToken" in page


def test_the_event_page_leads_to_the_donation_form_while_donations_are_open(client, event):
    assert 'href="/donate">Donate to the event</a>' in client.get("/").get_data(as_text=True)
    with event.app_context():
        configure_event(donations_open=False)
    assert "Donate to the event" not in client.get("/").get_data(as_text=True)


def test_favicon_ico_is_a_real_icon_even_before_an_event_is_set_up(client):
    # Browsers ask for /favicon.ico whatever the page declares; it was a 404.
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
        assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
