"""Sharing: plain share links with a ready message on the event, sponsor and thanks pages."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from app.extensions import db
from app.models import SponsorPage
from app.share import clean_message, share_links
from tests.test_checkout import pay, session_id_of, submit

SITE = "http://127.0.0.1:5000"


class _Links(HTMLParser):
    """Every share link and share-sheet button in a page, as attribute dicts."""

    def __init__(self):
        super().__init__()
        self.links, self.sheets, self.copies = {}, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and (attrs.get("class") or "").startswith("share-"):
            self.links[attrs["class"].removeprefix("share-")] = attrs
        if "data-share-sheet" in attrs:
            self.sheets.append(attrs)
        if "data-copy-link" in attrs:
            self.copies.append(attrs)


def links_in(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def query(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}


def test_share_links_carry_the_url_and_the_message_to_each_app():
    links = {link.name: link for link in share_links("https://x.org/p/a", "Go & give!", "A's")}
    assert list(links) == ["WhatsApp", "Facebook", "X", "LinkedIn", "Email", "Text message"]
    assert query(links["WhatsApp"].href) == {"text": "Go & give! https://x.org/p/a"}
    assert links["WhatsApp"].href.startswith("https://wa.me/?")
    assert query(links["Facebook"].href) == {"u": "https://x.org/p/a"}
    assert query(links["X"].href) == {"text": "Go & give!", "url": "https://x.org/p/a"}
    assert query(links["LinkedIn"].href) == {"url": "https://x.org/p/a"}
    assert links["Email"].href.startswith("mailto:?") and not links["Email"].web
    assert query(links["Email"].href) == {"subject": "A's", "body": "Go & give! https://x.org/p/a"}
    # Spaces as %20, not +: mail and messages apps do not read + as a space.
    assert "+" not in links["Text message"].href
    assert (
        links["Text message"].href == "sms:?&body=Go%20%26%20give%21%20https%3A%2F%2Fx.org%2Fp%2Fa"
    )


def test_a_message_is_stored_on_one_line_without_control_characters():
    assert clean_message("  Please\n\n sponsor\tme\x00 now  ") == "Please sponsor me now"
    assert clean_message(None) is None


def test_the_event_page_offers_every_way_to_share_it(client, event):
    page = links_in(client.get("/").get_data(as_text=True))
    assert set(page.links) == {"whatsapp", "facebook", "x", "linkedin", "email", "text-message"}
    text = query(page.links["whatsapp"]["href"])["text"]
    assert text.endswith(f" {SITE}/") and "Carers Voice" in text
    assert page.links["facebook"]["target"] == "_blank"
    assert "noopener" in page.links["facebook"]["rel"]
    # The share sheet only where the browser has one: hidden until plunge.js shows it.
    assert page.sheets and "hidden" in page.sheets[0]
    assert page.sheets[0]["data-share-url"] == f"{SITE}/"
    assert page.copies[0]["href"] == f"{SITE}/"


def test_a_sponsor_page_shares_its_own_address_with_the_default_message(client, make):
    make.participant()
    page = links_in(client.get("/p/aisha").get_data(as_text=True))
    text = query(page.links["whatsapp"]["href"])["text"]
    assert text.startswith("Please sponsor Aisha in ") and text.endswith(f" {SITE}/p/aisha")
    assert query(page.links["email"]["href"])["subject"] == "Aisha Rahman abseils"


def test_a_team_page_shares_its_own_address_with_a_ready_message(client, make):
    from tests.test_teams import team

    team(make.app, captain=make.participant())
    html = client.get("/t/carers").get_data(as_text=True)
    page = links_in(html)
    assert set(page.links) == {"whatsapp", "facebook", "x", "linkedin", "email", "text-message"}
    text = query(page.links["whatsapp"]["href"])["text"]
    assert text == (
        f"Please sponsor Carers' group in Sponsored Abseil 2027 for Carers Voice! {SITE}/t/carers"
    )
    assert query(page.links["x"]["href"]) == {
        "text": "Please sponsor Carers' group in Sponsored Abseil 2027 for Carers Voice!",
        "url": f"{SITE}/t/carers",
    }
    assert query(page.links["email"]["href"])["subject"] == "Carers' group"
    assert page.sheets[0]["data-share-url"] == f"{SITE}/t/carers"
    assert page.copies[0]["href"] == f"{SITE}/t/carers"
    assert 'id="team-share-heading">Share this team<' in html


def test_the_participant_writes_their_own_message_and_it_is_cleaned(client, auth, make):
    make.participant()
    auth.login(email="aisha@example.org")
    form = client.get("/me/page").get_data(as_text=True)
    assert 'name="share_message"' in form and "Leave it empty for: “Please sponsor Aisha" in form
    fields = {"title": "Aisha abseils", "slug": "aisha", "target": "300", "story": ""}
    message = "I'm  going over\r\nthe edge!\t Sponsor me"
    assert auth.post("/me/page", {**fields, "share_message": message}).status_code == 303
    with make.app.app_context():
        stored = db.session.query(SponsorPage).one().share_message
    assert stored == "I'm going over the edge! Sponsor me"
    page = links_in(client.get("/p/aisha").get_data(as_text=True))
    assert query(page.links["x"]["href"])["text"] == stored
    assert page.sheets[0]["data-share-text"] == stored


def test_a_message_too_long_is_refused_beside_the_field(client, auth, make):
    make.participant()
    auth.login(email="aisha@example.org")
    fields = {"title": "Aisha abseils", "slug": "aisha", "target": "300", "story": ""}
    response = auth.post("/me/page", {**fields, "share_message": "x" * 281})
    assert response.status_code == 422
    assert "Use 280 characters or fewer" in response.get_data(as_text=True)


def test_the_thanks_page_asks_the_donor_to_share_without_their_details(donor, stripe_sandbox, make):
    make.participant()
    response, _ = submit(donor, "/donate/aisha")
    session_id = session_id_of(response)
    pay(stripe_sandbox, session_id)
    for html in (
        donor.get(f"{donor.base}/donate/thanks?session_id={session_id}").text,
        donor.__class__().get(f"{donor.base}/donate/thanks?session_id={session_id}").text,
    ):
        assert "Tell your friends you sponsored Aisha" in html
        page = links_in(html)
        text = query(page.links["whatsapp"]["href"])["text"]
        assert text.startswith("I just sponsored Aisha in ") and text.endswith(
            f"{donor.base}/p/aisha"
        )
        for link in page.links.values():
            assert "Fiona" not in link["href"] and "£" not in query(link["href"]).get("text", "")
