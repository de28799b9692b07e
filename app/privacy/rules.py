"""What the law makes us keep, and for how long: one source for the erase screen, the privacy
notice, the retention command and their tests."""

from dataclasses import dataclass

from flask import current_app

from app.models.gift_aid_claims import YEARS_KEPT


@dataclass(frozen=True)
class Kept:
    """Something an erasure leaves in place, and why."""

    what: str
    why: str


# Said on the erase screen (organisers) and the delete-account page (participants).
KEPT_ON_ERASURE = (
    Kept(
        "Each donation as a money record: its amount, date, page, refunds and Stripe's "
        "reference, with no name, email address or message.",
        "The charity's accounts and the totals must still add up, to the penny.",
    ),
    Kept(
        "Gift Aid declarations (title, name, house, postcode, the declaration and when it was "
        "made) and the lines of Gift Aid claims sent to HMRC.",
        f"HMRC requires the charity to keep Gift Aid declarations, and what was claimed and "
        f"when, for {YEARS_KEPT} years after the claim.",
    ),
    Kept(
        "The organisers' history of changes to money and moderation, and the safety checklist's "
        "history of who signed off what and when (never health answers).",
        "They are the record of how money was handled and that safety checks were done; "
        "they are append-only and never name the person's email address.",
    ),
    Kept(
        "What was said in planning decisions, under \u201cErased account\u201d.",
        "It is the record of how the event was decided together; it is append-only.",
    ),
    Kept(
        "One \u201cno\u201d to every email that is not a receipt or about an account: the email "
        "address, that it said no, and when.",
        "It stops the event's news, thank-you replies and nudges from starting again; it "
        "holds nothing else about the person.",
    ),
    Kept(
        "Stripe's own record of a card payment.",
        "Stripe is a separate controller for card payments: ask Stripe to erase it.",
    ),
)


def contact_retention_months() -> int:
    """How long after the event donors' contact details are kept when nothing requires more."""
    return current_app.config["DONOR_CONTACT_RETENTION_MONTHS"]


def news_retention_months() -> int:
    """The longest after the event a donor who asked to hear how it goes keeps their contact
    details (they go sooner if the donor unsubscribes)."""
    return current_app.config["DONOR_NEWS_RETENTION_MONTHS"]


def safety_retention_days() -> int:
    """How long after the event health answers and emergency contacts are kept."""
    return current_app.config["SAFETY_RETENTION_DAYS"]


def retention_periods() -> dict[str, str]:
    """Each retention period in words, keyed by what it applies to (the privacy notice shows
    these, and a test checks them against the code's settings)."""
    months = contact_retention_months()
    return {
        "donor_contact": f"{months} months after the event",
        "donor_news": f"{news_retention_months()} months after the event",
        "gift_aid": f"{YEARS_KEPT} years after the claim",
        "safety": f"{safety_retention_days()} days after the event",
    }
