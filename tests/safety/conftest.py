"""The cast of the safety tests: organisers, an instructor and participants on the default list."""

import pytest

from app.extensions import db
from app.models import Role, User
from app.safety import checklist
from tests.safety.helpers import Cast


@pytest.fixture
def cast(make) -> Cast:
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
