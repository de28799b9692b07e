"""Helpers for the safety tests: the checklist's items, logging in as someone, answering every
section through the forms, and signing items off."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from app.events.service import configure_event, get_event
from app.extensions import db
from app.models import ItemKind, Role, User, utcnow
from app.safety import checklist, service
from tests.accounts import AuthActions

SECRET_CONTACT = "Zebedee Secretcontact"
SECRET_PHONE = "07700 900999"
SECRET_MEDICAL = "SECRET-MEDICAL-DETAILS"


@dataclass
class Cast:
    """The people in a safety test, by user id, and the checklist's items by name."""

    app: object
    organiser: int
    organiser2: int
    instructor: int
    aisha: int
    callum: int
    items: dict[str, int]

    def client(self, email: str | None) -> AuthActions:
        """A fresh client, logged in as `email` (None: a visitor)."""
        auth = AuthActions(self.app.test_client())
        if email:
            response = auth.login(email=email)
            assert response.status_code == 303, email
        return auth

    def item(self, label: str) -> int:
        """An item's id by (the start of) its label."""
        return next(i for name, i in self.items.items() if name.startswith(label))


def make_cast(make) -> Cast:
    """Two organisers, an instructor, and two participants on the default checklist."""
    organiser = make.user()
    organiser2 = make.user("Olu Organiser", "olu@example.org")
    instructor = make.user("Iain Instructor", "iain@example.org", Role.INSTRUCTOR)
    make.participant()
    make.participant("Callum MacLeod", "callum")
    with make.app.app_context():
        checklist.ensure_checklist()
        db.session.commit()
        items = {item.label: item.id for item in checklist.items()}
        ids = {u.email: u.id for u in db.session.query(User)}
    return Cast(
        make.app,
        organiser,
        organiser2,
        instructor,
        ids["aisha@example.org"],
        ids["callum@example.org"],
        items,
    )


def section_data(kind: ItemKind, dob: str = "1995-06-01", **overrides) -> dict:
    """Valid answers for a section, before the form prefix."""
    data = {
        ItemKind.DATE_OF_BIRTH: {"date_of_birth": dob},
        ItemKind.EMERGENCY_CONTACT: {
            "name": SECRET_CONTACT,
            "relationship": "brother",
            "phone": SECRET_PHONE,
        },
        ItemKind.MEDICAL: {"conditions": "asthma", "details": SECRET_MEDICAL, "consent": "y"},
        ItemKind.WEIGHT: {"within_limit": "yes"},
        ItemKind.CONFIRMATION: {"agree": "y"},
        ItemKind.GUARDIAN: {
            "name": "Grace Guardian",
            "relationship": "mother",
            "phone": "07700 900111",
            "signature": "Grace Guardian",
            "signed_on": date.today().isoformat(),
        },
    }[kind]
    return {**data, **overrides}


def answer(auth: AuthActions, item_id: int, data: dict, htmx: bool = False):
    """Post one section as the browser would, with its prefixed fields and CSRF token."""
    prefix = f"item-{item_id}"
    headers = {"HX-Request": "true"} if htmx else {}
    return auth.post(
        f"/safety/items/{item_id}",
        {f"{prefix}-{name}": value for name, value in data.items()},
        prefix=prefix,
        headers=headers,
    )


def answer_everything(cast: Cast, email: str, dob: str = "1995-06-01") -> AuthActions:
    """Log in as `email` and answer every participant section that applies."""
    auth = cast.client(email)
    with cast.app.app_context():
        items = [(i.id, i.kind) for i in checklist.items() if i.by_participant]
    for item_id, kind in items:
        response = answer(auth, item_id, section_data(kind, dob=dob))
        assert response.status_code == 303, kind
    return auth


@contextmanager
def on_the_day(app, starts_in: timedelta = timedelta(hours=1)):
    """Move the event to start `starts_in` from now (on-the-day items may be signed off from
    2 hours before), and back to its own date afterwards."""
    with app.app_context():
        starts_at = get_event().starts_at
        configure_event(starts_at=utcnow() + starts_in)
    try:
        yield
    finally:
        with app.app_context():
            configure_event(starts_at=starts_at)


def sign_everything(cast: Cast, person_id: int, organiser_id: int) -> None:
    """An organiser signs off, on the event day, every applicable item the board offers
    (through the service): nothing for someone not able to take part."""
    with on_the_day(cast.app), cast.app.test_request_context():
        organiser = db.session.get(User, organiser_id)
        person = db.session.get(User, person_id)
        status = service.status_of(person)
        for state in status.items:
            if state.applicable and state.answered and not status.unable:
                service.sign_off(organiser, person, state.item, "ok")


def status(cast: Cast, person_id: int):
    """A participant's status, read fresh."""
    with cast.app.test_request_context():
        return service.status_of(db.session.get(User, person_id))
