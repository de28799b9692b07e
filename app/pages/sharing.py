"""Sharing a sponsor page: its public address, and a QR code of it big enough for a poster."""

import math
from io import BytesIO

import segno

from app import share
from app.events.service import Progress, get_event
from app.models import Event, SponsorPage, Team
from app.money import format_pence
from app.urls import absolute_url

# Printed at 10 cm across, 1,200 pixels is 300 dpi: sharp on any poster up to A3.
POSTER_PIXELS = 1200
QUIET_ZONE = 4  # modules of white around the code, as the standard requires


def page_url(page: SponsorPage) -> str:
    """The page's public address, as printed on posters and pasted into messages."""
    return absolute_url("pages.show_page", slug=page.slug)


def message(page: SponsorPage) -> str:
    """The ready message that goes with the page's link (the participant may write their own)."""
    return share.page_message(page, get_event())


def team_url(team: Team) -> str:
    """A team page's public address (/t/<slug>), as printed on the team's sponsorship form."""
    return absolute_url("teams.show_team", slug=team.slug)


def _qr(url: str) -> segno.QRCode:
    # Level M survives a smudge or fold on a poster (15% of the code can be lost).
    return segno.make(url, error="m", micro=False)


def qr_svg(page: SponsorPage) -> bytes:
    """The QR code as scalable SVG, black on white, sized by its viewBox."""
    return qr_svg_of(page_url(page))


def qr_png(page: SponsorPage) -> bytes:
    """The QR code as a PNG at least POSTER_PIXELS across, with its quiet zone."""
    return qr_png_of(page_url(page))


def qr_svg_of(url: str) -> bytes:
    """The QR code of any of the site's addresses as SVG (a page's, a team's)."""
    out = BytesIO()
    _qr(url).save(
        out,
        kind="svg",
        border=QUIET_ZONE,
        omitsize=True,
        xmldecl=False,
        light="#fff",
        title=f"QR code for {url}",
    )
    return out.getvalue()


def qr_png_of(url: str) -> bytes:
    """The QR code of any of the site's addresses as a PNG, POSTER_PIXELS across or more."""
    qr = _qr(url)
    width, _ = qr.symbol_size(scale=1, border=QUIET_ZONE)
    out = BytesIO()
    qr.save(out, kind="png", scale=math.ceil(POSTER_PIXELS / width), border=QUIET_ZONE)
    return out.getvalue()


def summary(page: SponsorPage, progress: Progress | None, event: Event | None) -> str:
    """One or two sentences for link previews and search results: who, for whom, how far."""
    charity = event.charity_name if event else "charity"
    parts = [f"{page.participant.name} is fundraising for {charity}."]
    if progress is not None:
        raised, target = format_pence(progress.raised_pence), format_pence(progress.target_pence)
        parts.append(f"{raised} raised of {target} so far.")
    story = " ".join(page.story.split())
    if story:
        parts.append(story)
    text = " ".join(parts)
    return text if len(text) <= 200 else text[:199].rstrip() + "…"
