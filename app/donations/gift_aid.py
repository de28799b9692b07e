"""UK Gift Aid: the declaration a donor makes, the details HMRC needs to accept it, and what
it adds to a gift."""

import re

from app.money import format_pence

# The longest title, first or last name and house name or number HMRC's schedule accepts.
MAX_TITLE, MAX_NAME, MAX_HOUSE = 4, 35, 40

# Bump the version whenever the wording changes; each donation stores the version it was shown.
DECLARATION_VERSION = "2026-1"

DECLARATION = (
    "I want to Gift Aid my donation of {amount} and any donations I make in the future or have "
    "made in the past 4 years to {charity}. I am a UK taxpayer and understand that if I pay less "
    "Income Tax and/or Capital Gains Tax than the amount of Gift Aid claimed on all my donations "
    "in that tax year it is my responsibility to pay any difference."
)

# Sponsored events: a connected person may not claim when the charity pays the event's costs.
SPONSORSHIP_CONFIRMATION = {
    False: (
        "I am giving this from my own money, I receive nothing in return, and the address "
        "above is my home address."
    ),
    True: (
        "I am not taking part in the event, nor the spouse, civil partner, sibling, parent, "
        "grandparent, child or grandchild of anyone taking part (or their spouse); I receive "
        "nothing in return; and the address above is my home address."
    ),
}

# Royal Mail's postcode shape (outward code, space, inward code), as HMRC validates it.
_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def declaration_text(amount_pence: int | None, charity_name: str) -> str:
    """The declaration as shown at the tick box, with the amount filled in if known."""
    amount = format_pence(amount_pence) if amount_pence else "today"
    text = DECLARATION.format(amount=amount, charity=charity_name)
    return text.replace("donation of today", "donation today")


def normalise_postcode(text: str) -> str | None:
    """'g12 8qq' -> 'G12 8QQ'; None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    if len(compact) < 5 or not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def gift_aid_on(eligible_pence: int) -> int:
    """What HMRC adds to gifts eligible for Gift Aid: 25p per £1 at the basic rate."""
    return eligible_pence // 4
