"""Every word printed on a paper sponsorship form, in one place, so another language could be
added beside English. The Gift Aid wording follows HMRC's model sponsorship form; a team's
form has the same declaration, naming the team where a participant's names the participant."""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Wording:
    """The printed words of a sponsorship form in one language."""

    heading: str
    sheet: str  # {number} {reference}
    participant: str
    participant_address: str
    event: str
    charity: str  # {name} {number}
    online: str
    declaration_heading: str
    declaration: str  # {charity}
    connected: str
    instructions: tuple[str, ...]
    columns: tuple[str, ...]
    footer: str


ENGLISH = Wording(
    heading="Sponsorship form",
    sheet="Sheet {number} · reference {reference}",
    participant="Sponsoring",
    participant_address="Participant's home address and postcode",
    event="Event",
    charity="For {name}, charity number {number}",
    online="Or sponsor online: scan the code or go to",
    declaration_heading="Gift Aid: add 25p to every £1 you give",
    declaration=(
        "If I have ticked the box headed 'Gift Aid', I confirm that I am a UK Income or Capital "
        "Gains taxpayer. I have read this statement and want {charity} to reclaim tax on the "
        "donation detailed below, given on the date shown. I understand that if I pay less "
        "Income Tax and/or Capital Gains Tax in the current tax year than the amount of Gift Aid "
        "claimed on all my donations it is my responsibility to pay any difference. I understand "
        "the charity will reclaim 25p of tax on every £1 that I give."
    ),
    connected=(
        "No Gift Aid if you get anything in return for your gift, on entry fees or deposits, or "
        "if you are the participant or connected to them (their spouse or civil partner, "
        "sibling, parent, grandparent, child or grandchild, or their spouses) and the charity "
        "pays any of the event's costs."
    ),
    instructions=(
        "One person per line: no joint gifts such as 'Mr and Mrs Smith'.",
        "Write your full name (at least your initial and surname) and your home address, "
        "not a work address.",
        "No ditto marks: write every line in full.",
        "Tick Gift Aid only if you are a UK taxpayer and the statement above is true for you.",
    ),
    columns=(
        "Full name (first name or initial, surname)",
        "Home address (house name or number, street)",
        "Postcode",
        "Amount pledged £",
        "Amount paid £",
        "Date paid",
        "Gift Aid? Tick",
    ),
    footer="Hand this sheet in with the money you collect. Reference {reference}.",
)

# A team's form: the same Gift Aid declaration and lines, the team named instead of one
# participant, and the connected-person rule read for every member of the team.
TEAM_ENGLISH = replace(
    ENGLISH,
    participant="Sponsoring the team",
    participant_address="Team captain's name, home address and postcode",
    connected=(
        "No Gift Aid if you get anything in return for your gift, on entry fees or deposits, or "
        "if you are a member of the team or connected to one (their spouse or civil partner, "
        "sibling, parent, grandparent, child or grandchild, or their spouses) and the charity "
        "pays any of the event's costs."
    ),
)

WORDINGS = {"en": ENGLISH}
TEAM_WORDINGS = {"en": TEAM_ENGLISH}
