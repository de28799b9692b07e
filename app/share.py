"""Sharing any public page: plain share links to the apps people use, and the ready message.

Nothing here loads anything from another site: each link is an ordinary address that the
person's browser opens only when they tap it (no scripts, pixels or iframes)."""

from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from app.events.service import Progress, event_progress, page_progress
from app.images import share as share_images
from app.models import Event, SponsorPage, Team
from app.money import format_pence
from app.urls import absolute_url

MESSAGE_MAX = 280


@dataclass(frozen=True)
class Shared:
    """What a page offers to share: the address, the ready message, a title (an email's
    subject) and the heading of the share section."""

    url: str
    message: str
    title: str
    heading: str = "Share this page"


@dataclass(frozen=True)
class ShareLink:
    """One way to share: its visible name, the address it opens, and whether that is a web
    page (opened in a new tab) or an app on the device (mail, messages)."""

    name: str
    href: str
    web: bool = True


def share_links(url: str, message: str, title: str) -> list[ShareLink]:
    """Links that share `url` with `message` by WhatsApp, Facebook, X, LinkedIn, email, SMS."""
    text = f"{message} {url}".strip()
    return [
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": text}, quote_via=quote)),
        ShareLink(
            "Facebook",
            "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote),
        ),
        ShareLink(
            "X",
            "https://x.com/intent/post?"
            + urlencode({"text": message, "url": url}, quote_via=quote),
        ),
        ShareLink(
            "LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?"
            + urlencode({"url": url}, quote_via=quote),
        ),
        ShareLink(
            "Email",
            "mailto:?" + urlencode({"subject": title, "body": text}, quote_via=quote),
            web=False,
        ),
        # "sms:?&body=" is the form both iOS and Android messages apps read.
        ShareLink("Text message", "sms:?&" + urlencode({"body": text}, quote_via=quote), web=False),
    ]


def clean_message(value: str | None) -> str:
    """A ready message as stored: one line, single spaces, no control characters."""
    if not isinstance(value, str):
        return value
    printable = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(printable.split())


def first_name(name: str) -> str:
    """What a message calls someone: their first name, or their whole name if it is one word."""
    words = name.split()
    return words[0] if words else name


def event_message(event: Event) -> str:
    """The event page's ready message."""
    return f"{event.name} is raising money for {event.charity_name}. Please sponsor us!"


def default_page_message(participant_name: str, event: Event | None) -> str:
    """A sponsor page's message when its participant has not written their own."""
    name = first_name(participant_name)
    if event is None:
        return f"Please sponsor {name}!"
    return f"Please sponsor {name} in {event.name} for {event.charity_name}!"


def page_message(page: SponsorPage, event: Event | None) -> str:
    """The message that goes with a sponsor page's link: the participant's own, or ours."""
    return page.share_message or default_page_message(page.participant.name, event)


def team_message(team: Team, event: Event | None) -> str:
    """A team page's ready message, made from its name (teams have no message of their own)."""
    if event is None:
        return f"Please sponsor {team.name}!"
    return f"Please sponsor {team.name} in {event.name} for {event.charity_name}!"


def thanks_message(page: SponsorPage | None, event: Event) -> str:
    """What a donor tells friends: who they sponsored, never who they are or what they gave."""
    if page is None:
        return f"I just donated to {event.name} for {event.charity_name}. You can too!"
    name = first_name(page.participant.name)
    return f"I just sponsored {name} in {event.name} for {event.charity_name}. You can too!"


def for_event(event: Event) -> Shared:
    """What the event page shares."""
    return Shared(absolute_url("events.show_event"), event_message(event), event.name)


def for_page(page: SponsorPage, event: Event | None) -> Shared:
    """What a sponsor page shares."""
    url = absolute_url("pages.show_page", slug=page.slug)
    return Shared(url, page_message(page, event), page.title)


def for_team(team: Team, event: Event | None) -> Shared:
    """What a team page shares."""
    url = absolute_url("teams.show_team", slug=team.slug)
    return Shared(url, team_message(team, event), team.name, "Share this team")


def for_thanks(page: SponsorPage | None, event: Event) -> Shared:
    """What the thanks page asks a donor (named or anonymous) to share: the page they gave
    to while anyone may see it, else the event."""
    if page is None or not page.is_public:
        shared = for_event(event)
        heading = f"Tell your friends about {event.name}"
    else:
        shared = for_page(page, event)
        heading = f"Tell your friends you sponsored {first_name(page.participant.name)}"
    return Shared(
        shared.url,
        thanks_message(page if page and page.is_public else None, event),
        shared.title,
        heading,
    )


# Link previews --------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What a link to a page shows in messaging apps and social networks (templates/_og.html)."""

    title: str
    description: str
    url: str
    image_url: str | None = None
    image_alt: str = ""
    site_name: str | None = None
    noindex: bool = False


def shorten(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _image_alt(name: str, progress: Progress, event_name: str) -> str:
    raised, target = format_pence(progress.counted_pence), format_pence(progress.target_pence)
    return f"{name}: {raised} raised of {target} for {event_name}"


def event_preview(event: Event, progress: Progress | None, **changes) -> Preview:
    """The event page's preview (and the default for pages without their own)."""
    parts = [f"{event.name}, in aid of {event.charity_name}."]
    image_url = alt = None
    if progress is not None:
        raised, target = format_pence(progress.counted_pence), format_pence(progress.target_pence)
        parts.append(f"{raised} raised of {target} so far.")
        image_url = share_images.share_image_url(share_images.event_card(event, progress))
        alt = _image_alt(event.charity_name, progress, event.name)
    parts.append(event.description)
    fields = {
        "title": event.name,
        "description": shorten(" ".join(parts)),
        "url": absolute_url("events.show_event"),
        "image_url": image_url,
        "image_alt": alt or "",
        "site_name": event.name,
        **changes,
    }
    return Preview(**fields)


def donate_preview(event: Event, page: SponsorPage | None) -> Preview:
    """The donation form's preview: the page's (or the event's) picture, titled to give."""
    if page is None:
        preview = event_preview(event, event_progress())
        title, url = f"Donate to {event.name}", absolute_url("donations.donate_to_event")
    else:
        progress = page_progress(page.id)
        preview = page_preview(
            page, event, progress, default_page_message(page.participant.name, event)
        )
        title = f"Sponsor {page.participant.name}"
        url = absolute_url("donations.donate", slug=page.slug)
    return replace(preview, title=title, url=url)


def page_preview(
    page: SponsorPage, event: Event | None, progress: Progress | None, description: str
) -> Preview:
    """A sponsor page's preview: its share image with the participant's photo and total."""
    image_url = alt = None
    if progress is not None:
        image_url = share_images.share_image_url(share_images.page_card(page, event, progress))
        alt = _image_alt(page.participant.name, progress, event.name if event else page.title)
    return Preview(
        title=page.title,
        description=description,
        url=absolute_url("pages.show_page", slug=page.slug),
        image_url=image_url,
        image_alt=alt or "",
        site_name=event.name if event else None,
        noindex=not page.is_public,
    )


def team_preview(team: Team, event: Event | None, progress: Progress | None) -> Preview:
    """A team page's preview: its share image with the team's photo and total, the ready
    message and the start of its story."""
    parts = [team_message(team, event)]
    image_url = alt = None
    if progress is not None:
        raised, target = format_pence(progress.counted_pence), format_pence(progress.target_pence)
        parts.append(f"{raised} raised of {target} so far.")
        image_url = share_images.share_image_url(share_images.team_card(team, event, progress))
        alt = _image_alt(team.name, progress, event.name if event else team.name)
    parts.append(team.story or "")
    return Preview(
        title=team.name,
        description=shorten(" ".join(parts)),
        url=absolute_url("teams.show_team", slug=team.slug),
        image_url=image_url,
        image_alt=alt or "",
        site_name=event.name if event else None,
        noindex=not team.is_public,
    )
