"""Sponsor pages: building one, the public page, sharing, updates, thanks and moderation."""

import re
from html.parser import HTMLParser
from io import BytesIO

import pytest
from PIL import Image

from app.extensions import db
from app.images import service as images
from app.models import (
    Donation,
    Event,
    PageStatus,
    SponsorPage,
    SponsorUpdate,
    Totals,
    utcnow,
)
from app.pages import service
from app.pages.text import paragraphs
from tests.test_page_photos import image_bytes

HTMX = {"HX-Request": "true"}
PAGE = {"title": "Morag faces her fear", "slug": "morag", "target": "350", "story": "Hi!"}


def _page(app, slug="aisha") -> SponsorPage:
    with app.app_context():
        page = db.session.query(SponsorPage).filter_by(slug=slug).one()
        db.session.expunge(page)
        return page


def _signed_up(make, auth, name="Morag Fraser", email="morag@example.org"):
    """A participant who has an account but no page yet, logged in."""
    from app.models import Role

    make.user(name=name, email=email, role=Role.PARTICIPANT)
    auth.login(email=email)


def service_safety_url(app) -> str | None:
    with app.app_context():
        return service.safety_url()


def _set_event(app, **settings):
    with app.app_context():
        event = db.session.get(Event, 1)
        for name, value in settings.items():
            setattr(event, name, value)
        db.session.commit()


# Creating and editing a page ------------------------------------------------------------


def test_a_new_participant_is_offered_a_page_with_a_suggested_address(client, auth, make):
    _signed_up(make, auth)
    page = client.get("/me/page").get_data(as_text=True)
    assert "<h1>Create your sponsor page</h1>" in page
    assert 'value="Morag&#39;s abseil"' in page
    assert 'value="morag-fraser"' in page
    assert "http://127.0.0.1:5000/p/morag-fraser" in page


def test_creating_a_page_makes_a_draft_and_its_totals_row(client, auth, make):
    _signed_up(make, auth)
    response = auth.post("/me/page", {**PAGE, "target": "£1,250.50"})
    assert response.status_code == 303 and response.headers["Location"] == "/me/page"
    assert "saved as a draft" in client.get("/me/page").get_data(as_text=True)
    page = _page(make.app, "morag")
    assert (page.title, page.target_pence, page.status) == (
        "Morag faces her fear",
        125_050,
        PageStatus.DRAFT,
    )
    assert page.approved_at is None
    with make.app.app_context():
        assert db.session.get(Totals, f"page:{page.id}").raised_pence == 0


def test_creating_a_page_with_htmx_redirects_to_the_editor(auth, make):
    _signed_up(make, auth)
    response = auth.post("/me/page", PAGE, headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/me/page"


def test_editing_a_page_with_htmx_returns_the_form_saying_saved(client, auth, make):
    make.participant()
    auth.login()
    response = auth.post("/me/page", {**PAGE, "slug": "aisha"}, headers=HTMX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<form id="page-form"') and "Your changes are saved." in fragment
    assert _page(make.app).title == "Morag faces her fear"


def test_a_new_target_makes_the_progress_bar_refetch(client, auth, make):
    page_id = make.participant()
    etag = client.get("/p/aisha/progress", headers=HTMX).headers["ETag"]
    auth.login()
    auth.post("/me/page", {**PAGE, "slug": "aisha", "target": "999"})
    response = client.get("/p/aisha/progress", headers={**HTMX, "If-None-Match": etag})
    assert response.status_code == 200
    assert "of £999.00" in response.get_data(as_text=True)
    assert _page(make.app).id == page_id


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Give your page a title"),
        ({"title": "x" * 121}, "title", "Use 120 characters or fewer"),
        ({"slug": ""}, "slug", "Choose a web address for your page"),
        ({"slug": "ab"}, "slug", "Use between 3 and 40 characters"),
        ({"slug": "a" * 41}, "slug", "Use between 3 and 40 characters"),
        (
            {"slug": "morag fraser"},
            "slug",
            "Use only lowercase letters, numbers and single hyphens",
        ),
        ({"slug": "morag--f"}, "slug", "single hyphens"),
        ({"slug": "-morag"}, "slug", "single hyphens"),
        ({"slug": "mórag"}, "slug", "single hyphens"),
        ({"slug": "admin"}, "slug", "kept for the website itself"),
        ({"slug": "aisha"}, "slug", "Someone already has that address"),
        ({"target": ""}, "target", "Enter your target, like 250"),
        ({"target": "lots"}, "target", "Enter an amount in pounds"),
        ({"target": "-50"}, "target", "Enter an amount of more than £0."),
        ({"target": "5"}, "target", "between £10.00 and £100,000.00"),
        ({"target": "100000.01"}, "target", "between £10.00 and £100,000.00"),
        ({"target": "10.001"}, "target", "fractions of a penny"),
        ({"story": "x" * 5001}, "story", "Use 5,000 characters or fewer"),
    ],
)
def test_page_errors_are_shown_beside_their_field(client, auth, make, fields, field, message):
    make.participant()
    _signed_up(make, auth)
    response = auth.post("/me/page", {**PAGE, **fields})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    tag = re.search(rf'<(input|textarea)[^>]* id="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and f"{field}-error" in tag
    with make.app.app_context():
        assert db.session.query(SponsorPage).count() == 1  # only Aisha's

    fragment = auth.post("/me/page", {**PAGE, **fields}, headers=HTMX)
    assert fragment.status_code == 422
    assert fragment.get_data(as_text=True).startswith('<form id="page-form"')


def test_slug_is_lowercased_and_trimmed(auth, make):
    _signed_up(make, auth)
    auth.post("/me/page", {**PAGE, "slug": "  Morag-Abseils "})
    assert _page(make.app, "morag-abseils").title == "Morag faces her fear"


def test_slug_check_says_whether_an_address_is_free_as_you_type(client, auth, make):
    make.participant()
    _signed_up(make, auth)
    free = client.get("/me/page/slug?slug=Morag-2", headers=HTMX).get_data(as_text=True)
    assert free.startswith('<p id="slug-status"')
    assert 'Your page will be at <strong class="url">http://127.0.0.1:5000/p/morag-2' in free
    taken = client.get("/me/page/slug?slug=aisha", headers=HTMX).get_data(as_text=True)
    assert "Someone already has that address" in taken and "slug-problem" in taken
    xss = client.get('/me/page/slug?slug="><script>x</script>').get_data(as_text=True)
    assert "<script>" not in xss


def test_your_own_address_is_not_taken_by_yourself(client, auth, make):
    make.participant()
    auth.login()
    assert "already has" not in client.get("/me/page/slug?slug=aisha").get_data(as_text=True)


def test_suggested_addresses_skip_taken_and_reserved_ones(app, make):
    make.participant("Aisha Rahman", "aisha-rahman")
    with app.app_context():
        assert service.suggest_slug("Aisha Rahman") == "aisha-rahman-2"
        assert service.suggest_slug("Zoë O'Brien-Smith") == "zoe-o-brien-smith"
        assert service.suggest_slug("李") == "abseiler"
        assert service.suggest_slug("Me") == "abseiler"
        assert len(service.suggest_slug("x" * 80)) <= 40


# Publishing, approval and moderation ----------------------------------------------------


def _draft(make, auth):
    make.participant(published=False)
    auth.login()


def test_publishing_makes_the_page_public(client, auth, make):
    _draft(make, auth)
    assert auth.post("/me/page/publish").headers["Location"] == "/me"
    assert "Your page is live! Now share it." in client.get("/me").get_data(as_text=True)
    page = _page(make.app)
    assert page.status == PageStatus.PUBLISHED and page.approved_at is not None
    auth.logout()
    assert client.get("/p/aisha").status_code == 200


def test_unpublishing_takes_it_back_to_a_draft(client, auth, make):
    make.participant()
    auth.login()
    auth.post("/me/page/unpublish")
    assert _page(make.app).status == PageStatus.DRAFT
    auth.logout()
    assert client.get("/p/aisha").status_code == 404


def test_when_pages_need_approval_a_published_page_waits_for_an_organiser(client, auth, make):
    _set_event(make.app, pages_need_approval=True)
    _draft(make, auth)
    auth.post("/me/page/publish")
    assert "waits for an organiser to approve it" in client.get("/me").get_data(as_text=True)
    assert _page(make.app).approved_at is None
    assert "Waiting for approval" in client.get("/p/aisha").get_data(as_text=True)
    auth.logout()
    assert client.get("/p/aisha").status_code == 404

    make.user()
    auth.login(email="sandra@example.org")
    assert "Approve this page" in client.get("/p/aisha").get_data(as_text=True)
    auth.post("/p/aisha/moderation", {"moderate-action": "approve"}, prefix="moderate")
    assert _page(make.app).approved_at is not None
    auth.logout()
    assert client.get("/p/aisha").status_code == 200


def test_organisers_find_pages_waiting_for_approval_and_hidden_ones_at_home(client, auth, make):
    _set_event(make.app, pages_need_approval=True)
    make.participant("Aisha Rahman", "aisha")
    make.participant("Callum MacLeod", "callum", published=False)
    make.user()
    auth.login(email="callum@example.org")
    auth.post("/me/page/publish")
    auth.logout()
    auth.login(email="sandra@example.org")
    auth.post(
        "/p/aisha/moderation",
        {"moderate-action": "hide", "moderate-reason": "Phone number in the story"},
        prefix="moderate",
    )
    html = client.get("/me").get_data(as_text=True)
    waiting, hidden = html.split("Hidden by an organiser:")
    assert '<a href="/p/callum">Callum MacLeod abseils</a>' in waiting
    assert '<a href="/p/aisha">Aisha Rahman abseils</a>' in hidden
    auth.logout()
    auth.login(email="callum@example.org")
    assert "Pages to look at" not in client.get("/me").get_data(as_text=True)


def test_an_organiser_hides_a_page_saying_why_and_the_participant_sees_it(client, auth, make):
    make.participant()
    make.user()
    auth.login(email="sandra@example.org")
    missing = auth.post("/p/aisha/moderation", {"moderate-action": "hide"}, prefix="moderate")
    assert missing.status_code == 303
    assert "Say why the page is hidden" in client.get("/p/aisha").get_data(as_text=True)
    assert _page(make.app).hidden_at is None

    auth.post(
        "/p/aisha/moderation",
        {"moderate-action": "hide", "moderate-reason": "Please remove the phone number."},
        prefix="moderate",
    )
    assert _page(make.app).hidden_reason == "Please remove the phone number."
    auth.logout()
    assert client.get("/p/aisha").status_code == 404
    assert "aisha" not in client.get("/").get_data(as_text=True)  # off the leaderboard

    auth.login()
    page = client.get("/me").get_data(as_text=True)
    assert "Hidden by the organisers." in page and "Please remove the phone number." in page
    auth.post("/me/page/publish")  # publishing again does not undo the organiser
    assert _page(make.app).hidden_at is not None
    auth.logout()

    auth.login(email="sandra@example.org")
    auth.post("/p/aisha/moderation", {"moderate-action": "unhide"}, prefix="moderate")
    auth.logout()
    assert client.get("/p/aisha").status_code == 200


def test_only_organisers_moderate(client, auth, make):
    make.participant()
    auth.login()
    response = auth.post(
        "/p/aisha/moderation",
        {"moderate-action": "hide", "moderate-reason": "x"},
        prefix="moderate",
    )
    assert response.status_code == 403
    assert _page(make.app).hidden_at is None
    assert "Moderation" not in client.get("/p/aisha").get_data(as_text=True)


def test_an_unknown_moderation_action_changes_nothing(client, auth, make):
    make.participant()
    make.user()
    auth.login(email="sandra@example.org")
    auth.post("/p/aisha/moderation", {"moderate-action": "delete"}, prefix="moderate")
    assert "Choose what to do" in client.get("/p/aisha").get_data(as_text=True)
    assert _page(make.app).is_public


# The public page ------------------------------------------------------------------------


def test_public_page_shows_story_progress_and_who_it_is_in_aid_of(client, make):
    page_id = make.participant(target_pence=40_000)
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        page.story = "I'm terrified of heights.\n\nBut the group matters more."
        db.session.commit()
    make.donation(2500, page_id=page_id)
    html = client.get("/p/aisha").get_data(as_text=True)
    assert "<h1>Aisha Rahman abseils</h1>" in html
    assert "in aid of Carers Voice" in html
    assert "<p>I&#39;m terrified of heights.</p>\n<p>But the group matters more.</p>" in html
    assert "£25.00</strong> raised\n    of £400.00" in html
    assert 'hx-get="/p/aisha/progress"' in html
    assert "Carers Voice is a Scottish charity, SC012345" in html
    assert '<h2 id="money-heading">Where the money goes</h2>' in html
    assert "Travel and respite for the group." in html


def test_the_donate_button_is_an_honest_note_until_donations_open(app, client, make):
    make.participant()
    html = client.get("/p/aisha").get_data(as_text=True)
    if "donations.donate" in app.view_functions:  # the donation flow is part of the site
        assert '<a class="button" id="donate" href="/donate/aisha">Sponsor Aisha</a>' in html
    else:
        assert "Online donations open soon." in html
        assert "/donate" not in html


def test_the_donate_button_links_to_the_donation_form_once_it_exists(app, client, make):
    if "donations.donate" not in app.view_functions:
        from flask import Blueprint

        stub = Blueprint("donations", __name__)
        stub.add_url_rule("/donate/<slug>", "donate", lambda slug: slug)
        app.register_blueprint(stub)
    make.participant()
    make.participant("Draft Dora", "dora", published=False)
    html = client.get("/p/aisha").get_data(as_text=True)
    assert '<a class="button" id="donate" href="/donate/aisha">Sponsor Aisha</a>' in html
    assert "Online donations open soon." not in html


def test_public_donations_follow_the_anonymous_and_hidden_amount_rules(client, make):
    page_id = make.participant()
    make.donation(1500, page_id=page_id, donor_name="Morag", message="Go on!")
    make.donation(2500, page_id=page_id, donor_name="Secret Sam", anonymous=True)
    make.donation(9900, page_id=page_id, donor_name="Quiet Quentin", hide_amount=True)
    make.donation(7700, page_id=None, donor_name="To the event")
    html = client.get("/p/aisha").get_data(as_text=True)
    assert "Morag" in html and "£15.00" in html and "Go on!" in html
    assert "Secret Sam" not in html and "Anonymous" in html and "£25.00" in html
    assert "Quiet Quentin" in html and "£99.00" not in html and "amount not shown" in html
    assert "To the event" not in html


def test_public_page_says_when_the_donor_list_is_only_the_latest(client, make, monkeypatch):
    monkeypatch.setattr("app.pages.views.PUBLIC_DONATIONS", 2)
    page_id = make.participant()
    for _ in range(3):
        make.donation(1000, page_id=page_id)
    assert "Showing the latest 2 of 3 donations." in client.get("/p/aisha").text


def test_page_progress_partial_is_the_same_markup_as_the_page(client, make):
    page_id = make.participant()
    make.donation(1234, page_id=page_id)
    fragment = client.get("/p/aisha/progress", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert body.startswith(f'<div id="progress-page-{page_id}"')
    assert body.strip() in client.get("/p/aisha").get_data(as_text=True)
    etag = fragment.headers["ETag"]
    assert client.get("/p/aisha/progress", headers={**HTMX, "If-None-Match": etag}).status_code == (
        304
    )


def test_addresses_are_case_insensitive(client, make):
    make.participant()
    assert client.get("/p/AISHA").status_code == 200


def test_unknown_pages_are_a_friendly_404(client, make):
    response = client.get("/p/nobody")
    assert response.status_code == 404 and b"Page not found" in response.data


def test_the_event_leaderboard_links_to_published_pages(client, make):
    make.participant("Aisha Rahman", "aisha")
    make.participant("Draft Dora", "dora", published=False)
    html = client.get("/").get_data(as_text=True)
    assert '<a class="leader-name" href="/p/aisha">Aisha Rahman</a>' in html
    assert "/p/dora" not in html


# Sharing ----------------------------------------------------------------------------------


def test_share_panel_has_a_plain_copy_link_and_the_qr_code(client, make):
    make.participant()
    html = client.get("/p/aisha").get_data(as_text=True)
    assert (
        '<a class="button button-secondary" href="http://127.0.0.1:5000/p/aisha" data-copy-link>'
        in (html)
    )
    assert (
        '<img src="/p/aisha/qr.svg" alt="QR code that opens http://127.0.0.1:5000/p/aisha"' in html
    )
    assert 'href="/p/aisha/qr.png?download=1" download' in html


def test_qr_png_is_big_enough_for_a_poster(client, make):
    make.participant()
    response = client.get("/p/aisha/qr.png?download=1")
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == 'attachment; filename="aisha-qr.png"'
    image = Image.open(BytesIO(response.data))
    assert image.width == image.height >= 1000
    # The quiet zone: the outer border is white all round.
    border = image.width // 37 * 4 - 1
    assert image.convert("L").getpixel((border, border)) == 255
    assert image.convert("L").getpixel((border + 2, border + 2)) == 0  # a finder pattern


def test_qr_svg_scales_and_encodes_the_page_url(client, make):
    make.participant()
    response = client.get("/p/aisha/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == 'inline; filename="aisha-qr.svg"'
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and 'viewBox="0 0 37 37"' in svg  # version 3 + 2 x 4 quiet
    assert "<title>QR code for http://127.0.0.1:5000/p/aisha</title>" in svg
    assert "<script" not in svg


def test_qr_uses_the_configured_site_url_not_the_request_host(app, client, make):
    make.participant()
    app.config["SITE_URL"] = "https://abseil.example.org"
    svg = client.get("/p/aisha/qr.svg", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "https://abseil.example.org/p/aisha" in svg


def test_link_previews_show_title_photo_and_total(client, auth, make):
    page_id = make.participant()
    make.donation(4200, page_id=page_id)
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        page.photo, page.photo_alt = images.store(image_bytes(size=(40, 30))), "Aisha in a helmet"
        sha256 = page.photo.sha256
        db.session.commit()
    html = client.get("/p/aisha").get_data(as_text=True)
    assert '<meta property="og:title" content="Aisha Rahman abseils">' in html
    assert '<meta property="og:url" content="http://127.0.0.1:5000/p/aisha">' in html
    # The photo goes into the share image drawn for the page (tests/test_previews.py).
    assert sha256 not in re.search(r'<meta property="og:image" content="([^"]*)">', html)[1]
    assert '<meta property="og:image" content="http://127.0.0.1:5000/p/aisha/share.png?v=' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    description = re.search(r'<meta property="og:description" content="([^"]*)">', html).group(1)
    assert "£42.00 raised of £300.00" in description and "Carers Voice" in description


def test_link_preview_summary_is_short(app, make):
    page_id = make.participant()
    with app.app_context():
        from app.pages.sharing import summary

        page = db.session.get(SponsorPage, page_id)
        page.story = "word " * 200
        assert len(summary(page, None, None)) <= 200


# Updates ----------------------------------------------------------------------------------


def test_posting_an_update_shows_it_on_the_public_page(client, auth, make):
    make.participant()
    auth.login()
    response = auth.post("/me/updates", {"update-body": "Training went well!"}, prefix="update")
    assert response.status_code == 303
    auth.logout()
    assert "Training went well!" in client.get("/p/aisha").get_data(as_text=True)


def test_posting_an_update_with_htmx_returns_the_panel(client, auth, make):
    make.participant()
    auth.login()
    response = auth.post(
        "/me/updates", {"update-body": "Nervous now."}, prefix="update", headers=HTMX
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<div id="updates-panel"') and "Nervous now." in fragment
    textarea = re.search(r"<textarea[^>]*>", fragment).group(0)
    assert 'aria-describedby="update-body-hint update-body-error"' in textarea
    assert "aria-invalid" not in textarea


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write your update first"), ("   ", "Write your update first"), ("x" * 1001, "1,000")],
)
def test_bad_updates_are_refused_beside_the_field(auth, make, body, message):
    make.participant()
    auth.login()
    for headers in ({}, HTMX):
        response = auth.post("/me/updates", {"update-body": body}, prefix="update", headers=headers)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    with make.app.app_context():
        assert db.session.query(SponsorUpdate).count() == 0


def test_deleting_your_own_update(client, auth, make):
    make.participant()
    auth.login()
    auth.post("/me/updates", {"update-body": "Oops, typo"}, prefix="update")
    with make.app.app_context():
        update_id = db.session.query(SponsorUpdate).one().id
    response = auth.post(f"/me/updates/{update_id}/delete", headers=HTMX)
    assert response.status_code == 200 and "Oops, typo" not in response.get_data(as_text=True)
    assert auth.post(f"/me/updates/{update_id}/delete").status_code == 404
    with make.app.app_context():
        assert db.session.query(SponsorUpdate).count() == 0


def test_an_organiser_hides_an_update(client, auth, make):
    make.participant()
    auth.login()
    auth.post("/me/updates", {"update-body": "Something unkind"}, prefix="update")
    auth.logout()
    with make.app.app_context():
        update_id = db.session.query(SponsorUpdate).one().id
    make.user()
    auth.login(email="sandra@example.org")
    assert auth.post(f"/p/aisha/updates/{update_id}/hide").status_code == 303
    auth.logout()
    assert "Something unkind" not in client.get("/p/aisha").get_data(as_text=True)
    auth.login()
    assert "hidden from the public by the organisers" in client.get("/me").text


# Thank-you replies ------------------------------------------------------------------------


def test_thanking_a_donor_shows_the_reply_under_their_donation(client, auth, make):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id, donor_name="Fiona")
    auth.login()
    response = auth.post(
        f"/me/donations/{donation_id}/thanks",
        {f"thanks-{donation_id}-reply": "Thank you Fiona!"},
        prefix=f"thanks-{donation_id}",
    )
    assert response.status_code == 303
    auth.logout()
    html = client.get("/p/aisha").get_data(as_text=True)
    assert "Aisha Rahman replied:" in html and "<p>Thank you Fiona!</p>" in html
    with make.app.app_context():
        assert db.session.get(Donation, donation_id).thanked_at is not None


def test_the_donor_gets_the_first_reply_by_email_and_an_edit_is_not_sent_again(auth, make, smtp):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id, donor_name="Fiona", anonymous=True)
    auth.login()
    field, prefix = f"thanks-{donation_id}-reply", f"thanks-{donation_id}"
    url = f"/me/donations/{donation_id}/thanks"
    saved = auth.post(url, {field: "Thank you so much!"}, prefix=prefix, headers=HTMX)
    assert "Reply saved and emailed to them." in saved.get_data(as_text=True)
    saved.close()  # the outbox is sent once the response is closed, as after a real one
    [email] = smtp.wait_for("fiona@example.org")
    assert email["Subject"] == "Aisha Rahman has thanked you for sponsoring them"
    text = email.get_body(("plain",)).get_content()
    assert '"Thank you so much!"' in text and "/p/aisha" in text
    assert "shown as Anonymous" in text  # said to the donor alone
    edited = auth.post(url, {field: "Thank you so much, Fiona!"}, prefix=prefix, headers=HTMX)
    assert "Reply saved." in edited.get_data(as_text=True)
    assert "emailed" not in edited.get_data(as_text=True)
    edited.close()
    assert len(smtp.wait_for("fiona@example.org", count=2, timeout=1)) == 1


def test_thanking_with_htmx_swaps_the_reply_and_empty_removes_it(client, auth, make):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id)
    auth.login()
    field, prefix = f"thanks-{donation_id}-reply", f"thanks-{donation_id}"
    saved = auth.post(
        f"/me/donations/{donation_id}/thanks", {field: "Cheers!"}, prefix=prefix, headers=HTMX
    )
    fragment = saved.get_data(as_text=True)
    assert fragment.startswith(f'<div id="thank-you-{donation_id}"')
    assert "Reply saved and emailed to them." in fragment and "Cheers!" in fragment
    too_long = auth.post(
        f"/me/donations/{donation_id}/thanks", {field: "x" * 501}, prefix=prefix, headers=HTMX
    )
    assert too_long.status_code == 422 and "500 characters or fewer" in too_long.text
    assert " open>" in too_long.text  # the form stays open to fix
    removed = auth.post(
        f"/me/donations/{donation_id}/thanks", {field: ""}, prefix=prefix, headers=HTMX
    )
    assert "Reply removed." in removed.get_data(as_text=True)
    with make.app.app_context():
        donation = db.session.get(Donation, donation_id)
        assert (donation.thank_you, donation.thanked_at) == ("", None)


def test_thanking_without_htmx_shows_errors_on_the_home_page(auth, make):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id)
    auth.login()
    response = auth.post(
        f"/me/donations/{donation_id}/thanks",
        {f"thanks-{donation_id}-reply": "x" * 501},
        prefix=f"thanks-{donation_id}",
    )
    assert response.status_code == 422
    assert "Hello, Aisha Rahman" in response.text and "500 characters or fewer" in response.text


def test_replies_to_anonymous_donors_keep_them_anonymous(client, auth, make):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id, donor_name="Secret Sam", anonymous=True)
    auth.login()
    auth.post(
        f"/me/donations/{donation_id}/thanks",
        {f"thanks-{donation_id}-reply": "Thank you, whoever you are!"},
        prefix=f"thanks-{donation_id}",
    )
    auth.logout()
    html = client.get("/p/aisha").get_data(as_text=True)
    assert "Thank you, whoever you are!" in html and "Secret Sam" not in html


def test_only_donations_that_count_can_be_thanked(auth, make):
    from app.models import DonationStatus

    page_id = make.participant()
    pending = make.donation(2000, page_id=page_id, status=DonationStatus.PENDING)
    auth.login()
    response = auth.post(
        f"/me/donations/{pending}/thanks",
        {f"thanks-{pending}-reply": "Thanks"},
        prefix=f"thanks-{pending}",
    )
    assert response.status_code == 404


# The participant's home -------------------------------------------------------------------


def test_home_for_someone_without_a_page_says_to_create_one(client, auth, make):
    _signed_up(make, auth)
    html = client.get("/me").get_data(as_text=True)
    assert re.search(r'class="next-step"><a href="/me/page">Create your sponsor page</a>', html)
    if service_safety_url(make.app) is None:
        assert "Your safety checklist opens soon." in html
    assert "Your donors" not in html


def test_home_walks_through_the_next_thing_to_do(client, auth, make):
    page_id = make.participant(published=False)
    auth.login()
    assert 'class="next-step"><a href="/me/page#photo">Add a photo</a>' in client.get("/me").text
    with make.app.app_context():
        db.session.get(SponsorPage, page_id).photo = images.store(image_bytes(size=(40, 30)))
        db.session.commit()
    assert 'class="next-step"><a href="/me/page#publish">Publish your page</a>' in (
        client.get("/me").text
    )
    auth.post("/me/page/publish")
    html = client.get("/me").text
    assert 'class="next-step"><a href="/me#share">Share your page' in html
    assert 'id="share"' in html


def test_home_shows_total_against_target_and_every_donor_to_thank(client, auth, make):
    page_id = make.participant(target_pence=40_000)
    make.donation(1500, page_id=page_id, donor_name="Secret Sam", anonymous=True, message="Go!")
    make.donation(9900, page_id=page_id, donor_name="Quiet Quentin", hide_amount=True)
    make.donation(
        500,
        page_id=page_id,
        donor_name="Rude Rab",
        message="rude",
        message_hidden_at=utcnow(),
    )
    auth.login()
    html = client.get("/me").get_data(as_text=True)
    assert "£119.00</strong> raised\n    of £400.00" in html
    assert 'Secret Sam <span class="note">(anonymous to the public)</span>' in html
    assert '£99.00 <span class="note">(amount hidden from the public)</span>' in html
    assert "The organisers hid this donor's message." in html and ">rude<" not in html
    assert html.count("Say thank you") == 3


def test_home_links_to_the_safety_checklist_once_it_exists(app, client, auth, make):
    app.add_url_rule("/safety", "safety_stub", lambda: "checklist")
    make.participant()
    auth.login()
    assert '<a href="/safety">' in client.get("/me").get_data(as_text=True)


# Escaping: nothing a participant types becomes markup -------------------------------------

XSS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)' autofocus='",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    'https://example.org/"onmouseover="alert(1)',
    "https://example.org/<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    "{{ 7*7 }}",
]


class _Markup(HTMLParser):
    """Collects what would run: script and iframe elements, event handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.dangers = []

    def handle_starttag(self, tag, attrs):
        ours = tag == "svg" and dict(attrs).get("class") == "avatar"  # app/avatars.py's initials
        if tag in ("script", "iframe", "svg", "img") and not dict(attrs).get("src", "").startswith(
            ("/static/", "/p/")
        ):
            self.dangers += [] if ours else [tag]
        for name, value in attrs:
            url = name in ("href", "src", "action", "formaction", "xlink:href")
            if name.startswith("on") or (url and "javascript:" in (value or "").lower()):
                self.dangers.append(f"{tag} {name}={value}")


def _dangers(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.dangers


@pytest.mark.parametrize("payload", XSS)
def test_story_updates_and_replies_are_escaped(client, auth, make, payload):
    page_id = make.participant()
    donation_id = make.donation(2000, page_id=page_id, message=payload, donor_name=payload)
    auth.login()
    auth.post("/me/page", {"title": payload, "slug": "aisha", "target": "300", "story": payload})
    auth.post("/me/updates", {"update-body": payload}, prefix="update")
    auth.post(
        f"/me/donations/{donation_id}/thanks",
        {f"thanks-{donation_id}-reply": payload},
        prefix=f"thanks-{donation_id}",
    )
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        assert page.story == payload.strip()  # stored as typed, escaped when shown
    for url in ("/p/aisha", "/me", "/me/page", "/"):
        html = client.get(url).get_data(as_text=True)
        assert _dangers(html) == [], url
        if "{{" in payload:
            assert "{{ 7*7 }}" in html  # shown as typed, never evaluated as a template


def test_links_in_stories_are_made_safe():
    html = str(paragraphs("See https://example.org/a?b=1&c=2. Or javascript:alert(1)\nok"))
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        "https://example.org/a?b=1&amp;c=2</a>." in html
    )
    assert "javascript:alert(1)<br>" in html and 'href="javascript' not in html
    assert str(paragraphs("a\r\n\r\nb")) == "<p>a</p>\n<p>b</p>"
    assert str(paragraphs("")) == ""


def _listed(html: str) -> list[str]:
    return re.findall(r'class="donor">([^<]*)<', html)


def _older_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"#]*)#recent-heading" hx-get="[^"]*" hx-select', html)
    return found[1].replace("&amp;", "&") if found else None


def test_older_donations_page_back_without_repeats_or_gaps(client, make, monkeypatch):
    monkeypatch.setattr("app.pages.views.PUBLIC_DONATIONS", 2)
    page_id = make.participant()
    donated = [f"Donor {n}" for n in range(5)]
    for name in donated:
        make.donation(1000, page_id=page_id, donor_name=name)
    make.donation(1000, page_id=None, donor_name="To the event")
    seen, url, pages = [], "/p/aisha", 0
    while url:
        html = client.get(url).text
        seen += _listed(html)
        url, pages = _older_link(html), pages + 1
        if pages > 1:
            assert "Showing older donations." in html and "Back to the latest" in html
    assert seen == donated[::-1] and pages == 3


def test_donations_paid_at_the_same_moment_page_by_their_ids(client, make, monkeypatch):
    from app.models import Donation

    monkeypatch.setattr("app.pages.views.PUBLIC_DONATIONS", 2)
    page_id = make.participant()
    ids = [make.donation(1000, page_id=page_id, donor_name=f"Donor {n}") for n in range(3)]
    with make.app.app_context():
        same = db.session.get(Donation, ids[0]).paid_at
        db.session.execute(db.update(Donation).values(paid_at=same))
        db.session.commit()
    first = client.get("/p/aisha").text
    second = client.get(_older_link(first)).text
    assert _listed(first) + _listed(second) == ["Donor 2", "Donor 1", "Donor 0"]
    assert _older_link(second) is None


def test_older_donations_link_works_with_and_without_htmx(client, make, monkeypatch):
    monkeypatch.setattr("app.pages.views.PUBLIC_DONATIONS", 1)
    page_id = make.participant()
    for n in range(2):
        make.donation(1000, page_id=page_id, donor_name=f"Donor {n}")
    html = client.get("/p/aisha").text
    link = re.search(r'<a href="([^"]*)" hx-get="([^"]*)" hx-select="#page-donations"', html)
    assert link[1].startswith("/p/aisha?older_than=") and link[1].endswith("#recent-heading")
    assert 'hx-target="#page-donations"' in html and 'hx-push-url="true"' in html
    assert _listed(client.get(link[2].replace("&amp;", "&")).text) == ["Donor 0"]
    # An odd cursor is ignored: the latest donations, as without one.
    assert _listed(client.get("/p/aisha?older_than=nope").text) == ["Donor 1"]
    assert _listed(client.get("/p/aisha?older_than=99999").text) == ["Donor 1"]


def _donors_at_home(html: str) -> list[str]:
    return re.findall(r'<span class="donor">([^<]*?)[ <]', html)


def _older_donors_link(html: str) -> str | None:
    found = re.search(r'<a href="(/me\?older_than=\d+)#donors-heading">Older donors</a>', html)
    return found[1] if found else None


def test_home_lists_donors_a_page_at_a_time_and_a_reply_returns_to_its_page(
    client, auth, make, monkeypatch
):
    monkeypatch.setattr("app.pages.me.DONORS_PER_PAGE", 2)
    page_id = make.participant()
    ids = [make.donation(1000, page_id=page_id, donor_name=f"Donor{n}") for n in range(5)]
    auth.login()
    seen, url, pages = [], "/me", 0
    while url:
        html = client.get(url).text
        seen += _donors_at_home(html)
        url, pages = _older_donors_link(html), pages + 1
        if pages > 1:
            assert "Back to your latest donors" in html
    assert seen == [f"Donor{n}" for n in reversed(range(5))] and pages == 3

    # Thanking Donor1, on the last page, without JavaScript: back to that page, at them.
    last_page = f"/me?older_than={ids[2]}"
    assert f'<input type="hidden" name="older_than" value="{ids[2]}">' in client.get(last_page).text
    thanked = auth.post(
        f"/me/donations/{ids[1]}/thanks",
        {f"thanks-{ids[1]}-reply": "Thank you!", "older_than": str(ids[2])},
        prefix=f"thanks-{ids[1]}",
    )
    assert thanked.status_code == 303 and thanked.location == f"{last_page}#donation-{ids[1]}"
    html = client.get(thanked.location).text
    assert "Your reply is saved and emailed to them." in html
    assert _donors_at_home(html) == ["Donor1", "Donor0"]
