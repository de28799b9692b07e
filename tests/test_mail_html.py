"""Every email has an HTML version that says what its plain text says, in the charity's name,
with nothing fetched from anywhere (no tracking pixels), and goes out as multipart/alternative
with the text first. The browser half (axe, contrast, screenshots) is in
tests/browser/test_mail_rendering.py."""

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader

from app import outbox
from app.extensions import db
from app.models import OutboxMessage
from tests.mail_cases import CASES, HOSTILE, render_all

MAIL = Path(__file__).resolve().parent.parent / "templates" / "mail"
URL = re.compile(r"https?://[^\s\"'<>]+")
AMOUNT = re.compile(r"£\d[\d,]*\.\d\d")
RECEIPT = re.compile(r"PLG-\d{6}")
# Attributes that make a mail client fetch something (an image, a frame, a font...).
FETCHES = {"src", "srcset", "background", "poster", "data", "lowsrc", "dynsrc"}


class _Parsed(HTMLParser):
    """What a reader gets from an HTML email: its visible text, links, and every tag."""

    def __init__(self, html: str):
        super().__init__()
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._hidden = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "a" and "href" in attributes:
            self.hrefs.append(attributes["href"])
        if tag in {"head", "style", "script"}:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in {"head", "style", "script"}:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    def title(self, html: str) -> str:
        found = re.search(r"<title>(.*?)</title>", html, re.S)
        return found.group(1) if found else ""


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").strip().split("\n")


def _urls(text: str) -> set[str]:
    return {u.rstrip(".,:;)") for u in URL.findall(text)}


@pytest.fixture
def emails(event):
    """Every email, as the app makes them."""
    return render_all(event)


def test_every_mail_template_has_an_html_version_and_a_case():
    # A new template fails here until it has its .html (extending mail/_layout.html) and a
    # case in tests/mail_cases.py: the list below is the one to add it to.
    texts = sorted(p.stem for p in MAIL.glob("*.txt") if not p.stem.startswith("_"))
    assert texts == sorted(CASES)
    missing = [name for name in texts if not (MAIL / f"{name}.html").exists()]
    assert missing == []
    for name in texts:
        assert (MAIL / f"{name}.html").read_text().startswith('{% extends "mail/_layout.html" %}')


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_says_what_the_text_says(emails, app, name):
    email = emails[name]
    parsed = _Parsed(email.html)
    text = " ".join(email.text.split())
    assert email.html and email.text
    # Amounts, receipt numbers and names: the same in both.
    assert set(AMOUNT.findall(parsed.visible)) == set(AMOUNT.findall(text)), name
    assert set(RECEIPT.findall(parsed.visible)) == set(RECEIPT.findall(text)), name
    for words in email.says:
        assert words in text, f"{name}: the case expects {words!r} in the text"
        assert words in parsed.visible, f"{name}: {words!r} is in the text, not the HTML"
    # Every address in the text is written out in the HTML too, so it can be copied; our own
    # are links there, and the HTML links nowhere else but the site, the contact address and
    # the links the case names as leaving the site on purpose (a nudge's share links), which
    # the text lists too (an address a donor typed is shown, never linked).
    site = app.config["SITE_URL"] + "/"
    addresses = _urls(email.text)
    ours = {url for url in addresses if url.startswith(site)}
    assert addresses <= _urls(parsed.visible), name
    assert ours <= set(parsed.hrefs), name
    assert set(email.outside_links) <= set(parsed.hrefs), name
    for link in email.outside_links:
        assert link in email.text, f"{name}: {link!r} is linked in the HTML, not in the text"
    for href in parsed.hrefs:
        allowed = {site, "mailto:abseil@example.org", *email.outside_links}
        assert href in ours or href in allowed, href


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_is_in_the_charitys_name_and_explains_itself(emails, name):
    email = emails[name]
    parsed = _Parsed(email.html)
    assert '<html lang="en-GB">' in email.html
    assert unescape(parsed.title(email.html)) == email.subject
    assert "Carers Voice is a Scottish charity, SC012345" in parsed.visible
    assert "Sponsored Abseil 2027" in parsed.visible
    assert [tag for tag, _ in parsed.tags].count("h1") == 1
    assert {"header", "main", "footer"} <= {tag for tag, _ in parsed.tags}
    assert "You are getting this" in parsed.visible or "We send this email" in parsed.visible


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_fetches_nothing_and_tracks_nobody(emails, name):
    email = emails[name]
    parsed = _Parsed(email.html)
    for tag, attributes in parsed.tags:
        assert tag not in {"link", "script", "iframe", "object", "embed", "video"}, tag
        if tag == "img":  # only a picture carried in the email itself, described
            assert attributes.get("src", "").startswith("cid:"), attributes
            assert attributes.get("alt", "").strip(), attributes
            attributes = {k: v for k, v in attributes.items() if k != "src"}
        assert not FETCHES & set(attributes), (tag, attributes)
        assert "url(" not in attributes.get("style", ""), (tag, attributes)
    assert "@import" not in email.html and "url(" not in email.html
    for href in parsed.hrefs:
        # Absolute; a text message (sms:) only as a share link the case names.
        text_message = href.startswith("sms:") and href in email.outside_links
        assert href.startswith(("https://", "http://", "mailto:")) or text_message, href
        assert not re.search(r"[?&](utm_|mc_|_hs)", href), href  # no click tracking
    # The styles are inlined for clients that drop <style>; Gmail clips an email past 102 kB.
    assert 'style="' in email.html.split("<body", 1)[1]
    assert len(email.html.encode()) < 102_000


def test_a_donors_html_is_shown_as_typed_not_run(emails):
    for name in ("receipt", "new_donation"):
        html = emails[name].html
        assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
        assert HOSTILE.replace("<", "").split(">")[0] not in _Parsed(html).hrefs


def test_the_receipt_shows_the_same_figures(emails):
    receipt = emails["receipt"]
    visible = _Parsed(receipt.html).visible
    for figure in ("Your gift £25.00", "Card fee you covered £0.58", "Total charged £25.58"):
        label, amount = figure.rsplit(" ", 1)
        assert f"{label}: {amount}" in receipt.text
        assert figure in visible


def test_no_html_template_means_a_text_only_email(app):
    only_text = DictLoader({"mail/only_text.txt": "Just text, {{ name }}."})
    app.jinja_env.loader = ChoiceLoader([only_text, app.jinja_env.loader])
    with app.test_request_context():
        assert outbox.render("only_text", "Hi", name="Sam") == ("Just text, Sam.", "")
        assert outbox.render("test_probe", "Hi", name="Sam")[1].startswith("<!DOCTYPE html>")


def test_a_real_smtp_round_trip_is_multipart_alternative_text_first(event, smtp):
    with event.test_request_context():
        email = CASES["thank_you_reply"]()
        db.session.commit()
        # The gift the reply thanks for is the page's first, so its nudge goes too: every
        # message queued goes, none fails, and the reply is the one looked at below.
        queued = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage))
        sent = outbox.send_due()
        stored = db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.to_address == "fiona@example.org")
        ).one()
    assert sent == (queued, 0)
    [message] = smtp.to("fiona@example.org")
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert _lines(plain.get_content()) == _lines(stored.body_text) == _lines(email.text)
    assert _lines(html.get_content()) == _lines(stored.body_html)
    assert "Thank you Fiona, that means a lot!" in html.get_content()
