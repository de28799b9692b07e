"""UK Gift Aid: the declaration a donor makes, the details HMRC needs to accept it, and what
it adds to a gift.

This module is the one definition of "claimable": the donation and offline forms, the
correction form, the totals (public bar and dashboard) and the HMRC claim all ask it."""

import re
from dataclasses import dataclass

from app.money import format_pence

# The longest title, first or last name and house name or number HMRC's schedule accepts.
MAX_TITLE, MAX_NAME, MAX_HOUSE = 4, 35, 40

# HMRC: a donor who lives outside the UK has postcode "X" and the address in the house field.
OVERSEAS_POSTCODE = "X"

# Bump the version whenever the wording changes; each donation stores the version it was shown.
DECLARATION_VERSION = "2026-1"

DECLARATION = (
    "I want to Gift Aid my donation of {amount} and any donations I make in the future or have "
    "made in the past 4 years to {charity}. I am a UK taxpayer and understand that if I pay less "
    "Income Tax and/or Capital Gains Tax than the amount of Gift Aid claimed on all my donations "
    "in that tax year it is my responsibility to pay any difference."
)

# Sponsored events: a connected person may not claim when the charity pays the event's costs.
# The donor confirms one of these, chosen by the event's "charity pays event costs" setting at
# the time; each donation stores the version it answered, so changing the setting later never
# changes what an old answer meant. Add a new version when a wording changes; never edit one.
SPONSORSHIP_WORDINGS = {
    "own-money-2026-1": (
        "I am giving this from my own money, I receive nothing in return, and the address "
        "above is my home address."
    ),
    "not-connected-2026-1": (
        "I am not taking part in the event, nor the spouse, civil partner, sibling, parent, "
        "grandparent, child or grandchild of anyone taking part (or their spouse); I receive "
        "nothing in return; and the address above is my home address."
    ),
    # A paper sponsorship form's own declaration, typed in by an organiser.
    "paper": "The declaration printed on the paper sponsorship form.",
}
_SPONSORSHIP_NOW = {False: "own-money-2026-1", True: "not-connected-2026-1"}
# The versions whose donor said they are not connected to anyone taking part.
NOT_CONNECTED = frozenset({"not-connected-2026-1"})


def sponsorship_version(charity_pays_event_costs: bool) -> str:
    """The sponsorship wording a donor is shown today, by the event's setting."""
    return _SPONSORSHIP_NOW[bool(charity_pays_event_costs)]


def sponsorship_wording(version: str) -> str:
    """The words a donor confirmed, by the version stored on their donation ("" if none)."""
    return SPONSORSHIP_WORDINGS.get(version, "")


# The participant's own gift to their own page while the charity pays the event's costs: a
# connected person's gift, which HMRC does not allow Gift Aid on (DESIGN.md, "Gift Aid (UK)").
OWN_PAGE_FLAG = (
    "Given to their own sponsor page by the participant (same email address), while the "
    "charity pays the event's costs: a participant's own gift cannot have Gift Aid"
)


def own_page_flag(version: str, donor_email: str, owner_email: str | None) -> str:
    """Why a declaration may not be claimed though the donor made it ("" if no reason): the
    donor answered "I am not taking part" but gave from the page owner's own email address."""
    if version not in NOT_CONNECTED or not owner_email or not donor_email:
        return ""
    return OWN_PAGE_FLAG if donor_email.strip().casefold() == owner_email.casefold() else ""


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


@dataclass(frozen=True)
class GiftAidDetails:
    """A Gift Aid declaration's name and home address, as HMRC's schedule needs them."""

    title: str
    first_name: str
    last_name: str
    house: str
    postcode: str


# A cell starting with one of these is a formula to a spreadsheet: never a real name or address.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HYPHENS = re.compile(r"\s*[-\u2010\u2011\u2012\u2013]\s*")
# HMRC's reader deletes every character outside these before checking a cell: a name with one
# in it would arrive changed ("Łukasz" as "ukasz"), so the line is refused instead.
_HMRC_DELETES = re.compile(r"[^\x20-\x7e\xa1-\xff]")
_HMRC_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]{1,3}")


def as_hmrc_reads(details: GiftAidDetails) -> GiftAidDetails:
    """The details as they go on the schedule: trimmed, a double-barrelled last name's hyphen
    made a space (HMRC: "House Martin"), the postcode in capitals with one space (or X)."""
    raw_postcode = details.postcode.strip()
    if raw_postcode.upper() == OVERSEAS_POSTCODE:
        postcode = OVERSEAS_POSTCODE
    else:
        postcode = normalise_postcode(raw_postcode) or raw_postcode
    return GiftAidDetails(
        title=details.title.strip(),
        first_name=details.first_name.strip(),
        last_name=_HYPHENS.sub(" ", details.last_name.strip()).strip(),
        house=details.house.strip(),
        postcode=postcode,
    )


def details_problems(details: GiftAidDetails) -> list[str]:
    """Why HMRC would refuse these details, as `as_hmrc_reads` gives them (empty: none)."""
    details = as_hmrc_reads(details)
    problems: list[str] = []
    title, first_name, last_name, house = (
        details.title,
        details.first_name,
        details.last_name,
        details.house,
    )
    _check_length("Title", title, MAX_TITLE, problems)
    if title and not _HMRC_TITLE.fullmatch(title):
        problems.append(f"Title '{title}' is not 2 to 4 letters (like Mr, Dr, Prof; no full stop)")
    for label, value in (("First name", first_name), ("Last name", last_name)):
        if not value:
            problems.append(f"{label} is missing")
        _check_length(label, value, MAX_NAME, problems)
    if not house:
        problems.append("House name or number is missing")
    _check_length("House name or number", house, MAX_HOUSE, problems)
    for label, value in (
        ("Title", title),
        ("First name", first_name),
        ("Last name", last_name),
        ("House name or number", house),
    ):
        problems.extend(_text_problems(label, value))
    if details.postcode != OVERSEAS_POSTCODE and not normalise_postcode(details.postcode):
        problems.append(
            f"Postcode '{details.postcode}' is not a UK postcode "
            "(use X for a donor who lives outside the UK)"
        )
    return problems


def _text_problems(label: str, value: str) -> list[str]:
    problems = []
    if _CONTROL.search(value):
        problems.append(f"{label} contains a line break or control character")
    if value.startswith(_FORMULA_START):
        problems.append(f"{label} starts with '{value[0]}', which spreadsheets read as a formula")
    deleted = sorted({ch for ch in _HMRC_DELETES.findall(value) if not _CONTROL.match(ch)})
    if deleted:
        shown = " ".join(ch if ch.isprintable() else f"U+{ord(ch):04X}" for ch in deleted)
        problems.append(f"{label} has characters HMRC deletes ({shown}): write it in Latin letters")
    return problems


def _check_length(label: str, value: str, maximum: int, problems: list[str]) -> None:
    if len(value) > maximum:
        problems.append(f"{label} is {len(value)} characters; HMRC allows {maximum}")


def details_of(donation) -> GiftAidDetails:
    """The name and address on a donation's declaration, as stored."""
    return GiftAidDetails(
        title=donation.gift_aid_title or "",
        first_name=donation.gift_aid_first_name or "",
        last_name=donation.gift_aid_last_name or "",
        house=donation.gift_aid_house or "",
        postcode=donation.gift_aid_postcode or "",
    )


def claim_pence(donation) -> int:
    """What a Gift Aid claim is made on for this donation: everything the donor gave the
    charity that it still holds, gift and card-fee cover, after refunds and disputes. The fee
    cover is the donor's own money given to the charity for nothing in return (the charity then
    pays Stripe's fee from its own balance), so it is part of the gift (README, "Gift Aid")."""
    return donation.kept_pence


def claim_problems(donation) -> list[str]:
    """Why Gift Aid on a paid donation with a declaration cannot be claimed (empty: it can).
    The totals, the "needs attention" list and the claim all use this one answer."""
    problems = details_problems(details_of(donation))
    if not donation.gift_aid_declaration_version or donation.gift_aid_declared_at is None:
        problems.append("No Gift Aid declaration is recorded")
    if not donation.gift_aid_confirmed_sponsorship or not donation.gift_aid_sponsorship_version:
        problems.append("The donor did not confirm they may claim Gift Aid on sponsorship")
    if donation.gift_aid_flag:
        problems.append(donation.gift_aid_flag)
    if donation.net_pence <= 0:
        problems.append("Nothing is left to claim on after refunds")
    if donation.paid_at is None:
        problems.append("The donation has no payment date")
    return problems


# What only the donor can put right: a declaration or sponsorship answer they never gave.
_DONOR_ONLY = (
    "No Gift Aid declaration is recorded",
    "The donor did not confirm they may claim Gift Aid on sponsorship",
)


def only_the_donor_can_fix(problems: list[str]) -> bool:
    """True when a problem needs the donor's own answer (an organiser may correct the rest)."""
    return any(problem in _DONOR_ONLY for problem in problems)
