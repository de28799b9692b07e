"""UK Gift Aid: the declaration a donor makes, the details HMRC needs to accept it, and what
it adds to a gift.

This module is the one definition of "claimable": the donation and offline forms, the
correction form, the totals (public bar and dashboard) and the HMRC claim all ask it."""

import re
import unicodedata
from dataclasses import astuple, dataclass, field

from anyascii import anyascii

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
    return [problem for _, problem in _problems_by_field(details)]


def _problems_by_field(details: GiftAidDetails) -> list[tuple[str, str]]:
    details = as_hmrc_reads(details)
    found: list[tuple[str, str]] = []
    title = details.title
    found += [("title", p) for p in _length_problems("Title", title, MAX_TITLE)]
    if title and not _HMRC_TITLE.fullmatch(title):
        found.append(
            ("title", f"Title '{title}' is not 2 to 4 letters (like Mr, Dr, Prof; no full stop)")
        )
    for name, label in (("first_name", "First name"), ("last_name", "Last name")):
        value = getattr(details, name)
        if not value:
            found.append((name, f"{label} is missing"))
        found += [(name, p) for p in _length_problems(label, value, MAX_NAME)]
    if not details.house:
        found.append(("house", "House name or number is missing"))
    found += [
        ("house", p) for p in _length_problems("House name or number", details.house, MAX_HOUSE)
    ]
    for name, label in (
        ("title", "Title"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("house", "House name or number"),
    ):
        found += [(name, p) for p in _text_problems(label, getattr(details, name))]
    if details.postcode != OVERSEAS_POSTCODE and not normalise_postcode(details.postcode):
        found.append(
            (
                "postcode",
                f"Postcode '{details.postcode}' is not a UK postcode "
                "(use X for a donor who lives outside the UK)",
            )
        )
    return found


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


def _length_problems(label: str, value: str, maximum: int) -> list[str]:
    if len(value) > maximum:
        return [f"{label} is {len(value)} characters; HMRC allows {maximum}"]
    return []


# At the door ------------------------------------------------------------------------------
# What a person types is turned into what HMRC will read before anything is saved, by the
# one function every form uses (`clean_for_hmrc`): so what is stored is what is claimed, a
# donor sees any change to their letters before paying, and anything HMRC would refuse is
# refused at once, with what to write instead.

# The titles the forms offer (any other 2 to 4 letters will do as well), and long forms people
# write that HMRC's 4 letters cannot hold.
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Rev")
_KNOWN_TITLES = {t.lower(): t for t in (*TITLES, "Sir", "Dame", "Lady", "Lord", "Revd")}
_KNOWN_TITLES |= {"doctor": "Dr", "professor": "Prof", "reverend": "Rev", "mister": "Mr"}
# Curly and other apostrophes (phones type ’), primes and accents typed for one.
_APOSTROPHES = frozenset("\u2018\u2019\u201a\u201b\u02b9\u02bb\u02bc\u02bd\u2032\uff07`\u00b4")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
# Crown dependencies have postcodes HMRC's schedule accepts, but are not the UK for tax.
_CROWN_DEPENDENCIES = {"JE": "Jersey", "GY": "Guernsey", "IM": "the Isle of Man"}
_BFPO = re.compile(r"BFPO[0-9]{1,4}")

UNREADABLE_NAME = (
    "HMRC can only read names in Latin letters (A to Z; accents like é and ñ are fine). "
    "Please write the name as it is on the bank card."
)
TITLE_HINT = (
    "Write a title of 2 to 4 letters, like Mr, Mrs, Ms, Miss, Mx, Dr, Prof or Rev, or leave it "
    "empty."
)
POSTCODE_HINT = (
    "Enter a UK postcode, like G12 8QQ (for a home outside the UK, tick the box for that instead)."
)
BFPO_HINT = (
    "HMRC does not accept a BFPO number as a postcode. Enter the BFPO's own postcode, which "
    "starts BF1 (like BF1 4FB)."
)


@dataclass(frozen=True)
class Cleaned:
    """Details as HMRC will read them, and what (if anything) stops HMRC accepting them."""

    details: GiftAidDetails  # what to store: every character one HMRC keeps
    problems: dict[str, str] = field(default_factory=dict)  # field name -> what to write instead
    changed: tuple[str, ...] = ()  # fields whose letters cleaning changed (shown to the donor)
    notes: tuple[str, ...] = ()  # what a donor should know before declaring (Crown dependencies)
    missing: tuple[str, ...] = ()  # required fields left empty (a form says so in its own words)

    @property
    def as_sent(self) -> GiftAidDetails:
        """The details exactly as they go on HMRC's schedule."""
        return as_hmrc_reads(self.details)

    @property
    def key(self) -> str:
        """The details as sent, in one string: a page that shows them carries it back, so the
        form knows the donor has seen this very version."""
        return "|".join(astuple(self.as_sent))

    @property
    def name_as_sent(self) -> str:
        """Title, first and last name as HMRC will read them, in one line."""
        sent = self.as_sent
        return " ".join(p for p in (sent.title, sent.first_name, sent.last_name) if p)


def clean_for_hmrc(typed: GiftAidDetails, *, overseas: bool = False) -> Cleaned:
    """Turn what a person typed into what HMRC will read: Unicode NFC, invisible characters
    gone, spaces single, curly apostrophes straight, dashes plain, Latin letters HMRC would
    delete (Ł, ŵ, ő) transliterated into its range while those it keeps (é, ü, ß) stay. With
    `overseas` the postcode is X and the house field holds the address. Every problem HMRC
    would find is reported against its field; nothing is truncated."""
    problems: dict[str, str] = {}
    changed: list[str] = []
    missing: list[str] = []
    title, title_changed, foreign = _clean_title(typed.title)
    # Nothing left of a title typed in another script or in emoji is no title: say so.
    if foreign or (title_changed and not title) or (title and not _HMRC_TITLE.fullmatch(title)):
        problems["title"] = TITLE_HINT
    texts = {"title": title}
    for name, maximum in (("first_name", MAX_NAME), ("last_name", MAX_NAME), ("house", MAX_HOUSE)):
        text, letters_changed, foreign = hmrc_text(getattr(typed, name))
        texts[name] = text
        if letters_changed:
            changed.append(name)
        if not text and not foreign and not letters_changed:
            missing.append(name)  # nothing typed but spaces and invisible characters
        problem = _text_problem(name, text, foreign, letters_changed, maximum, overseas)
        if problem:
            problems[name] = problem
    if title_changed:
        changed.insert(0, "title")
    postcode, problem, notes = _clean_postcode(typed.postcode, overseas)
    if not postcode:
        missing.append("postcode")
    if problem:
        problems["postcode"] = problem
    details = GiftAidDetails(postcode=postcode, **texts)
    # The schedule's own rules have the last word, so nothing the door lets in is refused later.
    for name, problem in _problems_by_field(details):
        problems.setdefault(name, problem)
    return Cleaned(details, problems, tuple(changed), notes, tuple(missing))


def hmrc_text(typed: str) -> tuple[str, bool, bool]:
    """`typed` in characters HMRC keeps, whether any letter had to change (a donor should see
    it), and whether it holds letters of a script other than Latin (which cannot be sent)."""
    kept: list[str] = []
    changed = foreign = False
    for ch in unicodedata.normalize("NFC", typed or ""):
        if ch.isspace():  # tabs, line breaks, no-break and other spaces
            kept.append(" ")
        elif ch in _APOSTROPHES:
            kept.append("'")
        elif ch in _DASHES:
            kept.append("-")
        elif _invisible(ch):
            continue
        elif not _HMRC_DELETES.match(ch):
            kept.append(ch)
        elif unicodedata.category(ch)[0] == "L" and "LATIN" not in unicodedata.name(ch, ""):
            foreign = True
        else:
            changed = True
            if unicodedata.category(ch)[0] in "LNP":  # Ł -> L, œ -> oe, ٣ -> 3, … -> ...
                kept.append(re.sub(r"[^\x20-\x7e]", "", anyascii(ch)))
            # Symbols, emoji and stray combining marks are simply left out.
    return re.sub(" {2,}", " ", "".join(kept)).strip(), changed, foreign


def _invisible(ch: str) -> bool:
    """Zero-width spaces and joiners, BOM, bidi controls, soft hyphens, control characters,
    variation selectors: nothing anyone sees, so nothing to show or send."""
    category = unicodedata.category(ch)
    return (
        category in ("Cc", "Cf")
        or ch == "\u034f"  # combining grapheme joiner
        or unicodedata.name(ch, "").startswith("VARIATION SELECTOR")
    )


def _clean_title(typed: str) -> tuple[str, bool, bool]:
    text, changed, foreign = hmrc_text(typed)
    letters = re.sub(r"[.\s]", "", text)  # "Dr." and "M r s" as people type them
    return _KNOWN_TITLES.get(letters.lower(), letters), changed, foreign


def _text_problem(name, text, foreign, letters_changed, maximum, overseas) -> str | None:
    house = name == "house"
    # Another script, or nothing readable left (only emoji, only punctuation).
    if foreign or ((text or letters_changed) and not re.search(r"[^\W_]", text)):
        if house:
            return "HMRC can only read Latin letters and numbers: please write it in those."
        return UNREADABLE_NAME
    if len(text) > maximum:
        if house and overseas:
            return (
                f"HMRC takes at most {MAX_HOUSE} characters for an address outside the UK "
                f"(this is {len(text)}): the house number, street and town will do."
            )
        initial = "; an initial will do" if name == "first_name" else ""
        return f"Use {maximum} characters or fewer (this is {len(text)}{initial})."
    if text.startswith(_FORMULA_START):
        return f"Start with a letter or number, not '{text[0]}'."
    return None


def _clean_postcode(typed: str, overseas: bool) -> tuple[str, str | None, tuple[str, ...]]:
    compact = re.sub(" ", "", hmrc_text(typed)[0]).upper()
    if overseas or compact == OVERSEAS_POSTCODE:
        return OVERSEAS_POSTCODE, None, ()
    if _BFPO.fullmatch(compact):
        return compact, BFPO_HINT, ()
    postcode = normalise_postcode(compact)
    if postcode is None:
        return compact, POSTCODE_HINT, ()
    place = _CROWN_DEPENDENCIES.get(postcode[:2]) if postcode[2].isdigit() else None
    if place is None:
        return postcode, None, ()
    note = (
        f"{place[0].upper()}{place[1:]} is not part of the UK for tax: add Gift Aid only if you "
        "pay UK Income Tax or Capital Gains Tax."
    )
    return postcode, None, (note,)


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
