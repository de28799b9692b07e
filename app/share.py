"""Sharing any public page: plain share links to the apps people use, and the ready message.

Nothing here loads anything from another site: each link is an ordinary address that the
person's browser opens only when they tap it (no scripts, pixels or iframes)."""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from app.models import Event, SponsorPage
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
