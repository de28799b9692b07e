"""The checklist itself: the default list for an abseil, its rules, and organisers' edits."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import ChecklistItem, CompletedBy, ItemKind, SafetySettings, utcnow
from app.models.safety import SETTINGS_ID

GUARDIAN_AGE = 18  # the law's line for a parent or guardian's consent, not a setting

# Conditions that need medical advice before abseiling; `EXCLUDING` ones rule someone out.
CONDITIONS = {
    "heart": "A heart condition",
    "blood_pressure": "High blood pressure",
    "epilepsy": "Epilepsy, fainting or dizziness",
    "injury": "An injury to your neck, back, spine, legs or eyes",
    "asthma": "Asthma",
    "medication": "Prescribed medication",
    "surgery": "Recent surgery",
    "pregnancy": "Pregnancy",
}
EXCLUDING = {"pregnancy"}

PART, ORG = CompletedBy.PARTICIPANT, CompletedBy.ORGANISER
# (kind, who, on the day, label, wording)
DEFAULT_ITEMS = [
    (
        ItemKind.DATE_OF_BIRTH,
        PART,
        False,
        "Your date of birth",
        "We check that you are old enough on the day of the abseil. If you are under 18, you "
        "also need consent from a parent or guardian.",
    ),
    (
        ItemKind.EMERGENCY_CONTACT,
        PART,
        False,
        "Emergency contact",
        "This is someone we can phone on the day if you are hurt or unwell. Tell them you "
        "have named them.",
    ),
    (
        ItemKind.MEDICAL,
        PART,
        False,
        "Medical declaration",
        "Some health problems need a doctor's advice before you abseil. Tell us which of "
        "these you have now. If you are pregnant, you cannot take part this time.",
    ),
    (
        ItemKind.WEIGHT,
        PART,
        False,
        "Weight",
        "Harnesses and ropes are only safe up to a certain weight. So we ask everyone.",
    ),
    (
        ItemKind.CONFIRMATION,
        PART,
        False,
        "Risks of taking part",
        "Abseiling has a risk of personal injury or death. I could be hurt. I could die. I "
        "know about these risks. I accept them. I take responsibility for my own actions. I "
        "will do what the instructors tell me at all times. I will tell them at once if I feel "
        "unwell or unsure.",
    ),
    (
        ItemKind.CONFIRMATION,
        PART,
        False,
        "The event's terms",
        "I will arrive in time for the safety briefing. The instructors may stop me taking "
        "part at any time, to keep people safe. I will wear comfortable clothes. I will wear "
        "flat shoes that cover my feet. On the day, I will not drink alcohol. On the day, I "
        "will not take anything that could affect me.",
    ),
    (
        ItemKind.GUARDIAN,
        PART,
        False,
        "Parent or guardian's consent",
        "I am the parent or guardian of this participant. I have read the risks and the "
        "terms above. I give my consent for them to take part in the abseil.",
    ),
    (ItemKind.CHECK, ORG, False, "Identity and age checked", "Photo ID matches the name and age."),
    (
        ItemKind.CHECK,
        ORG,
        False,
        "Medical answers reviewed",
        "An organiser has read the medical declaration and followed up anything that needs it.",
    ),
    (ItemKind.CHECK, ORG, True, "Safety briefing attended", "Attended the whole briefing."),
    (
        ItemKind.CHECK,
        ORG,
        True,
        "Kit checked",
        "Closed flat footwear, long hair tied back, nothing loose in pockets or round the neck.",
    ),
    (
        ItemKind.CHECK,
        ORG,
        True,
        "Harness fitted by the instructor",
        "The instructor fitted and checked the harness and helmet.",
    ),
]


def settings() -> SafetySettings:
    """The checklist's rules, created with the defaults on first use."""
    found = db.session.get(SafetySettings, SETTINGS_ID)
    if found is None:
        found = SafetySettings(
            id=SETTINGS_ID, min_age=16, weight_limit_kg=120, on_the_day_hours_before=2
        )
        db.session.add(found)
        db.session.flush()
    return found


def ensure_checklist() -> bool:
    """Create the default list for an abseil if there is none yet; True if it was created."""
    settings()
    if db.session.scalar(select(func.count()).select_from(ChecklistItem)):
        return False
    for position, (kind, who, on_the_day, label, wording) in enumerate(DEFAULT_ITEMS, 1):
        db.session.add(
            ChecklistItem(
                kind=kind,
                completed_by=who,
                on_the_day=on_the_day,
                label=label,
                wording=wording,
                position=position,
                required=True,
            )
        )
    db.session.flush()
    return True


def items() -> list[ChecklistItem]:
    """The current list, in order (removed items keep their answers but are not asked)."""
    ensure_checklist()
    query = select(ChecklistItem).where(ChecklistItem.removed_at.is_(None))
    return list(db.session.scalars(query.order_by(ChecklistItem.position, ChecklistItem.id)))


def update_settings(min_age: int, weight_limit_kg: int, on_the_day_hours_before: int = 2) -> None:
    """Change the minimum age, the weight limit, or when on-the-day items open."""
    rules = settings()
    rules.min_age, rules.weight_limit_kg = min_age, weight_limit_kg
    rules.on_the_day_hours_before = on_the_day_hours_before
    db.session.commit()


def add_item(label: str, wording: str, completed_by: str, required: bool, on_the_day: bool):
    """Add an item at the end: a tick box for participants, or a check for organisers."""
    last = db.session.scalar(select(func.max(ChecklistItem.position))) or 0
    who = CompletedBy(completed_by)
    item = ChecklistItem(
        kind=ItemKind.CONFIRMATION if who == PART else ItemKind.CHECK,
        completed_by=who,
        label=label,
        wording=wording,
        required=required,
        on_the_day=on_the_day and who == ORG,
        position=last + 1,
    )
    db.session.add(item)
    db.session.commit()
    return item


def edit_item(item: ChecklistItem, *, ask_again: bool = False, **fields) -> None:
    """Reword or re-rule an item. New wording is a new version: answers keep the wording they
    were given to, and count still unless the organiser asks everyone to answer again."""
    reworded = fields.get("label", item.label) != item.label or (
        fields.get("wording", item.wording) != item.wording
    )
    who = CompletedBy(fields.pop("completed_by", item.completed_by))
    if item.kind in (ItemKind.CONFIRMATION, ItemKind.CHECK) and who != item.completed_by:
        item.completed_by = who
        item.kind = ItemKind.CONFIRMATION if who == PART else ItemKind.CHECK
        reworded = True
    for name, value in fields.items():
        setattr(item, name, value)
    if item.completed_by == PART:
        item.on_the_day = False
    if reworded:
        item.version += 1
        if ask_again:
            item.answers_valid_from = item.version
    db.session.commit()


def move_item(item: ChecklistItem, direction: str) -> None:
    """Swap an item with its neighbour above ("up") or below ("down")."""
    current = items()
    index = next(i for i, other in enumerate(current) if other.id == item.id)
    other_index = index - 1 if direction == "up" else index + 1
    if 0 <= other_index < len(current):
        current[index], current[other_index] = current[other_index], current[index]
        for position, each in enumerate(current, 1):
            each.position = position
    db.session.commit()


def remove_item(item: ChecklistItem) -> None:
    """Stop asking an item; answers and history about it are kept."""
    item.removed_at = utcnow()
    db.session.commit()
