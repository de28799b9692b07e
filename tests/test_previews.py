"""Link previews: Open Graph and Twitter card tags on every public page, read by a real
parser (extruct, as link-preview services do), and the share image Plunge draws for them."""

from io import BytesIO

import extruct
import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.images import service as images
from app.images import share as share_images
from app.models import ShareImage, SponsorPage, Team
from app.teams import membership, service
from tests.test_page_photos import image_bytes

SITE = "http://127.0.0.1:5000"


def open_graph(html: str) -> dict[str, str]:
    """The page's Open Graph properties, as extruct reads them."""
    found = extruct.extract(html, base_url=SITE, syntaxes=["opengraph"], uniform=False)
    (graph,) = found["opengraph"]
    return dict(graph["properties"])


def twitter(html: str) -> dict[str, str]:
    """The Twitter card tags (<meta name="twitter:...">), which Open Graph parsers skip."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    return {
        meta.get("name"): meta.get("content")
        for meta in tree.iter("meta")
        if (meta.get("name") or "").startswith("twitter:")
    }


def check_image(client, url: str) -> Image.Image:
    assert url.startswith(f"{SITE}/")
    response = client.get(url.removeprefix(SITE))
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(BytesIO(response.data))
    assert image.size == (1200, 630)
    return image


def test_the_event_page_has_a_preview_with_its_own_share_image(client, make):
    make.donation(4200)
    html = client.get("/").get_data(as_text=True)
    graph = open_graph(html)
    assert graph["og:title"] == "Sponsored Abseil 2027"
    assert graph["og:url"] == f"{SITE}/"
    assert graph["og:type"] == "website"
    assert "£42.00 raised of" in graph["og:description"]
    assert graph["og:image"].startswith(f"{SITE}/share.png?v=")
    assert (graph["og:image:width"], graph["og:image:height"]) == ("1200", "630")
    assert "£42.00 raised" in graph["og:image:alt"]
    card = twitter(html)
    assert card["twitter:card"] == "summary_large_image"
    assert card["twitter:image"] == graph["og:image"]
    check_image(client, graph["og:image"])


def test_a_sponsor_page_preview_has_its_photo_name_and_total(client, make):
    page_id = make.participant()
    make.donation(1500, page_id=page_id)
    with make.app.app_context():
        page = db.session.get(SponsorPage, page_id)
        page.photo, page.photo_alt = images.store(image_bytes(size=(80, 60))), "Aisha"
        db.session.commit()
    graph = open_graph(client.get("/p/aisha").get_data(as_text=True))
    assert graph["og:title"] == "Aisha Rahman abseils"
    assert graph["og:url"] == f"{SITE}/p/aisha"
    assert graph["og:image"].startswith(f"{SITE}/p/aisha/share.png?v=")
    assert graph["og:image:alt"].startswith("Aisha Rahman: £15.00 raised of £300.00")
    image = check_image(client, graph["og:image"])
    # The photo (test_page_photos draws it in one colour) fills the left of the card.
    assert image.convert("RGB").getpixel((100, 300)) != (255, 255, 255)


@pytest.mark.parametrize("path", ["/donate", "/donate/aisha", "/privacy", "/accessibility"])
def test_every_public_page_has_a_preview_with_absolute_addresses(client, make, path):
    make.participant()
    html = client.get(path).get_data(as_text=True)
    graph = open_graph(html)
    assert graph["og:url"].startswith(SITE) and graph["og:image"].startswith(SITE)
    assert graph["og:title"] and graph["og:description"]
    assert twitter(html)["twitter:card"] == "summary_large_image"
    check_image(client, graph["og:image"])


def test_the_donate_page_preview_is_titled_to_give(client, make):
    make.participant()
    assert open_graph(client.get("/donate/aisha").get_data(as_text=True))["og:title"] == (
        "Sponsor Aisha Rahman"
    )


def test_a_draft_page_preview_is_not_indexed_and_its_image_is_private(client, auth, make):
    make.participant(published=False)
    auth.login()
    html = client.get("/p/aisha").get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in html
    url = open_graph(html)["og:image"]
    response = client.get(url.removeprefix(SITE))
    assert response.headers["Cache-Control"] == "private, no-cache"
    auth.logout()
    assert client.get(url.removeprefix(SITE)).status_code == 404


def test_the_share_image_is_drawn_once_per_totals_version(client, make):
    page_id = make.participant()
    before = share_images.renders["count"]
    url = open_graph(client.get("/p/aisha").get_data(as_text=True))["og:image"]
    first = client.get(url.removeprefix(SITE))
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for _ in range(5):
        assert client.get(url.removeprefix(SITE)).data == first.data
    assert share_images.renders["count"] == before + 1
    # Unchanged: the browser's copy is good (304).
    etag = first.headers["ETag"]
    assert client.get(url.removeprefix(SITE), headers={"If-None-Match": etag}).status_code == 304
    # A donation moves the total: a new address, drawn once more, stored in place of the old.
    make.donation(2500, page_id=page_id)
    new_url = open_graph(client.get("/p/aisha").get_data(as_text=True))["og:image"]
    assert new_url != url
    assert client.get(new_url.removeprefix(SITE)).data != first.data
    assert share_images.renders["count"] == before + 2
    with make.app.app_context():
        assert db.session.query(ShareImage).count() == 1
    # The old address still answers (with today's picture), but only briefly cached.
    assert client.get(url.removeprefix(SITE)).headers["Cache-Control"] == "public, max-age=60"


def test_a_stored_share_image_survives_a_restart_without_drawing_again(app, client, make):
    make.participant()
    url = open_graph(client.get("/p/aisha").get_data(as_text=True))["og:image"]
    drawn = client.get(url.removeprefix(SITE)).data
    with app.app_context():
        share_images._memory().items.clear()  # as a new process would start
    before = share_images.renders["count"]
    assert client.get(url.removeprefix(SITE)).data == drawn
    assert share_images.renders["count"] == before


def test_a_long_name_is_shortened_to_fit_the_card():
    card = share_images.ShareCard("event", "W" * 200, "E" * 300, 100, 1000, 10, 1)
    image = Image.open(BytesIO(share_images.draw(card, None)))
    assert image.size == (1200, 630)


# Team pages (/t/<slug>) ------------------------------------------------------------------


def _team(make, **fields) -> int:
    """Aisha's page in the Carers' group team; returns her page's id."""
    from tests.test_teams import team

    page_id = make.participant()
    team(make.app, captain=page_id, story="We climb for the carers who kept us going.", **fields)
    return page_id


def test_a_team_page_has_its_own_preview_and_share_image(client, make):
    page_id = _team(make)
    make.donation(2000, page_id=page_id)
    with make.app.app_context():
        made = db.session.scalar(select(Team).where(Team.slug == "carers"))
        made.photo, made.photo_alt = images.store(image_bytes(size=(80, 60))), "The team"
        db.session.commit()
    html = client.get("/t/carers").get_data(as_text=True)
    graph = open_graph(html)
    assert graph["og:title"] == "Carers' group"
    assert graph["og:url"] == f"{SITE}/t/carers"
    assert graph["og:site_name"] == "Sponsored Abseil 2027"
    assert graph["og:description"].startswith("Please sponsor Carers' group in ")
    assert "£20.00 raised of £1,000.00" in graph["og:description"]
    assert "We climb for the carers" in graph["og:description"]
    assert graph["og:image"].startswith(f"{SITE}/t/carers/share.png?v=")
    assert graph["og:image:alt"].startswith("Carers' group: £20.00 raised of £1,000.00")
    card = twitter(html)
    assert card["twitter:card"] == "summary_large_image"
    assert card["twitter:image"] == graph["og:image"]
    assert '<meta name="robots"' not in html
    image = check_image(client, graph["og:image"])
    # The team's photo fills the left of the card.
    assert image.convert("RGB").getpixel((100, 300)) != (255, 255, 255)


def test_a_team_share_image_changes_version_when_a_member_is_given_money(client, make):
    page_id = _team(make)
    url = open_graph(client.get("/t/carers").get_data(as_text=True))["og:image"]
    first = client.get(url.removeprefix(SITE))
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    before = share_images.renders["count"]
    for _ in range(3):
        assert client.get(url.removeprefix(SITE)).data == first.data
    assert share_images.renders["count"] == before
    # A gift to a member's page moves the team's total: a new version, a new picture.
    make.donation(2500, page_id=page_id)
    new_url = open_graph(client.get("/t/carers").get_data(as_text=True))["og:image"]
    assert new_url != url
    assert (
        "£25.00 raised"
        in open_graph(client.get("/t/carers").get_data(as_text=True))["og:image:alt"]
    )
    assert client.get(new_url.removeprefix(SITE)).data != first.data
    assert share_images.renders["count"] == before + 1
    with make.app.app_context():
        scopes = set(db.session.scalars(select(ShareImage.scope)))
        made = db.session.scalar(select(Team).where(Team.slug == "carers"))
        assert made.totals_scope in scopes


def test_a_hidden_team_has_no_public_image_and_a_merged_one_leads_on(client, auth, make):
    from tests.test_teams import team

    _team(make)
    url = open_graph(client.get("/t/carers").get_data(as_text=True))["og:image"]
    with make.app.app_context():
        service.set_hidden(db.session.scalar(select(Team).where(Team.slug == "carers")), True)
        db.session.commit()
    assert client.get("/t/carers/share.png").status_code == 404
    assert client.get(url.removeprefix(SITE)).status_code == 404
    # Its captain still sees the page (not indexed) and its picture, privately.
    auth.login()
    html = client.get("/t/carers").get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in html
    response = client.get(open_graph(html)["og:image"].removeprefix(SITE))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    auth.logout()
    # A merged team's picture is the team it joined (its own page leads there too).
    summit = team(make.app, name="Summit seekers", slug="summit")
    with make.app.app_context():
        membership.merge(
            db.session.scalar(select(Team).where(Team.slug == "carers")),
            db.session.get(Team, summit),
        )
        db.session.commit()
    moved = client.get("/t/carers/share.png")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/t/summit/share.png")
