"""Who has said yes (or no) to which email that is not a service message (PECR, UK GDPR).

A kind that `needs_say_so` goes only to an address whose latest record says yes: "Tell me how
the event goes", ticked at donation. The others are sent unless the address said no: a reply
to the donor's own gift, the news a participant signed up to. An unsubscribe from "all" stops
every kind until the person says yes to one again."""

from dataclasses import dataclass

from sqlalchemy import delete, or_, select

from app.extensions import db
from app.models import ConsentRecord, User, utcnow

ALL = "all"


@dataclass(frozen=True)
class Kind:
    """A kind of email that is not a service message."""

    label: str  # as the unsubscribe page says it: "news of how the event went"
    needs_say_so: bool


KINDS = {
    # Donors: only with a tick in "Tell me how the event goes".
    "event_news": Kind("news of how the event goes and what the money does", True),
    # Participants took part: they get the event's news unless they said no.
    "participant_news": Kind("news of how the event went, as a participant", False),
    # A participant's reply to the donor's own gift (#16 part 2): sent unless they said no.
    "thank_you": Kind("thank-you replies from the people you sponsored", False),
    # Fundraiser nudges (first donation, halfway...): the participant can say no.
    "nudges": Kind("fundraising nudges (halfway, target reached, a quiet week)", False),
}

# The words each yes or no answered. Add a version when the words change; never edit one:
# each record keeps the version it was given with.
WORDINGS = {
    "tick-2026-1": (
        "Tell me how the event goes: email me news of the day and what the money does. "
        "You can unsubscribe from any of these emails with one click."
    ),
    "offline-2026-1": (
        "The donor asked, on paper or in person, to be told how the event goes (typed in by "
        "an organiser)."
    ),
    "unsubscribe-2026-1": "Unsubscribe from {label}.",
    "unsubscribe-all-2026-1": "Stop every email that is not a receipt or about my account.",
    "erasure-2026-1": "Asked to be forgotten: no email that is not a service message.",
    "me-emails-2026-1": (
        "Email me (ticked on my fundraising emails page, signed in): the fundraising nudges I tick."
    ),
}
TICK_VERSION = "tick-2026-1"
OFFLINE_VERSION = "offline-2026-1"
UNSUBSCRIBE_VERSION = "unsubscribe-2026-1"
UNSUBSCRIBE_ALL_VERSION = "unsubscribe-all-2026-1"
ERASURE_VERSION = "erasure-2026-1"
ME_EMAILS_VERSION = "me-emails-2026-1"


def wording(version: str) -> str:
    """The words a record answered, by its version ("" if unknown)."""
    return WORDINGS.get(version, "")


def tick_label() -> str:
    """The donation form's tick box, as the donor reads it today."""
    return WORDINGS[TICK_VERSION]


def normalise(email: str) -> str:
    """One address however it was typed: 'Fiona@Example.org ' and 'fiona@example.org' match."""
    return (email or "").strip().casefold()


def record(
    email: str,
    kind: str,
    given: bool,
    *,
    wording_version: str,
    source: str,
    donation_id: int | None = None,
    recorded_by: User | None = None,
) -> ConsentRecord | None:
    """Add a yes or no to the history, in the caller's transaction (None for no address)."""
    address = normalise(email)
    if not address:
        return None
    if kind != ALL and kind not in KINDS:
        raise ValueError(f"unknown kind of email {kind!r}")
    entry = ConsentRecord(
        email=address,
        kind=kind,
        given=given,
        wording_version=wording_version,
        source=source,
        donation_id=donation_id,
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
        recorded_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def _latest(address: str, kind: str) -> ConsentRecord | None:
    return db.session.scalar(
        select(ConsentRecord)
        .where(
            ConsentRecord.email == address,
            or_(ConsentRecord.kind == kind, ConsentRecord.kind == ALL),
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


def may_email(email: str, kind: str) -> bool:
    """Whether an email of `kind` may go to this address now (honours an unsubscribe at once)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of email {kind!r}")
    address = normalise(email)
    if not address:
        return False
    latest = _latest(address, kind)
    if latest is None:
        return not KINDS[kind].needs_say_so
    return latest.given


def history(email: str) -> list[ConsentRecord]:
    """Every yes and no from an address, oldest first (for a subject access request)."""
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.email == normalise(email))
            .order_by(ConsentRecord.id)
        )
    )


def erase(email: str) -> int:
    """Forget an address's consent history (a data-rights request); returns how many rows went.

    One row is left in their place: "all: no", from "erasure", with no wording, gift or
    organiser. That suppression entry (the address alone, as the ICO allows) is what stops
    a reply or the participants' news from reaching someone who asked to be forgotten."""
    address = normalise(email)
    result = db.session.execute(
        delete(ConsentRecord)
        .where(ConsentRecord.email == address)
        .execution_options(synchronize_session=False)
    )
    record(address, ALL, False, wording_version=ERASURE_VERSION, source="erasure")
    return result.rowcount
