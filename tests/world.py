"""A small, real world for tests that walk every route: an event, two participants with pages,
donations and updates, an organiser, and the tokens emailed links would carry.

Aisha's page is live, with a photo, an update and a thanked donation. Callum's page is a draft
with a photo and a donation of its own. Both were once at other addresses (aisha-rahman,
callum-macleod), which still lead to them. Sandra is the organiser, with no page, and a Gift
Aid claim started. Pat is a planner (invited only to plan: no donors, money or health data),
in "Service users and carers"; Sandra is in "Students". One decision is open, one was taken
alone by Sandra and waits to be reported back. Aisha captains the team "Summit seekers"
(/t/summit); an organiser hid the team "Quiet ones" (/t/quiet)."""

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from flask.testing import FlaskClient
from PIL import Image

from app.extensions import db
from app.models import (
    Donation,
    DonationStatus,
    GiftAidClaim,
    PreviousSlug,
    Role,
    SponsorPage,
    SponsorUpdate,
    User,
)

ROLES = ("visitor", "participant", "other participant", "organiser", "planner")
EMAILS = {
    "participant": "aisha@example.org",
    "other participant": "callum@example.org",
    "organiser": "sandra@example.org",
    "planner": "pat@example.org",
}


@dataclass(frozen=True)
class World:
    """Real ids, slugs and tokens for URLs, and who is who."""

    users: dict[str, int]
    slug: str
    draft_slug: str
    old_slug: str
    old_draft_slug: str
    photo: str
    draft_photo: str
    update_id: int
    donation_id: int
    other_donation_id: int
    pending_donation_id: int
    resume_token: str
    gift_aid_token: str
    reset_token: str
    signup_token: str
    page_id: int
    item_id: int
    user_id: int
    claim_id: int
    decision_id: int
    alone_decision_id: int
    group_id: int
    planner_id: int
    planner_invite_token: str
    reminders_token: str
    unsubscribe_token: str
    team_slug: str = "summit"
    hidden_team_slug: str = "quiet"

    def values(self) -> dict[str, object]:
        """Values for the placeholders in route tables: {slug}, {update_id}, ..."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "users"}

    def route_arguments(self) -> dict[str, object]:
        """Real values for the argument names the app's routes use (<slug>, <int:update_id>...),
        for walks over every rule in the URL map."""
        return {
            "slug": self.slug,
            "sha256": self.photo,
            "update_id": self.update_id,
            "donation_id": self.donation_id,
            "token": self.reset_token,
            "page_id": self.page_id,
            "item_id": self.item_id,
            "user_id": self.user_id,
            "claim_id": self.claim_id,
            "decision_id": self.decision_id,
            "group_id": self.group_id,
            "fmt": "csv",
        }


def _jpeg(color: str) -> BytesIO:
    out = BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "JPEG")
    out.seek(0)
    return out


def build_world(make) -> World:
    """Put the world in the database of `make.app` (an app with a configured event)."""
    from app.auth import service as auth_service
    from app.donations.service import resume_token
    from app.images import service as images
    from app.mailing.links import unsubscribe_token
    from app.models import PendingSignup
    from app.organiser.gift_aid_fix import ask_link
    from app.pages import photos
    from app.safety import checklist

    aisha_page = make.participant("Aisha Rahman", "aisha")
    callum_page = make.participant("Callum MacLeod", "callum", published=False)
    organiser = make.user()
    planner = make.user("Pat Planner", EMAILS["planner"], role=Role.PLANNER)
    donation = make.donation(2500, page_id=aisha_page, donor_name="Fiona", message="Go Aisha!")
    other_donation = make.donation(1500, page_id=callum_page, donor_name="Morag")
    pending = make.donation(1000, page_id=aisha_page, status=DonationStatus.PENDING)
    # A Gift Aid declaration with half a postcode: on the attention list, with the donor's link.
    unclaimable = make.donation(2000, donor_name="Morag", gift_aid=True, gift_aid_postcode="G12")
    with make.app.test_request_context():
        page = db.session.get(SponsorPage, aisha_page)
        page.photo = images.store(photos.clean_jpeg(_jpeg("teal")))
        page.photo_alt = "Aisha in a helmet"
        draft = db.session.get(SponsorPage, callum_page)
        draft.photo = images.store(photos.clean_jpeg(_jpeg("orange")))
        draft.photo_alt = "Callum on the tower"
        update = SponsorUpdate(sponsor_page=page, body="Training at the wall tonight.")
        db.session.add(update)
        signup = PendingSignup(email="new@example.org", name="New Person", password_hash="x")
        db.session.add(signup)
        db.session.add_all(
            [
                PreviousSlug(sponsor_page_id=aisha_page, slug="aisha-rahman"),
                PreviousSlug(sponsor_page_id=callum_page, slug="callum-macleod"),
            ]
        )
        checklist.ensure_checklist()
        _teams_world(page)
        # A Gift Aid claim started for last month, not yet submitted (none of the world's
        # donations has a declaration, so it has no lines).
        claim = GiftAidClaim(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30))
        db.session.add(claim)
        db.session.commit()
        first_item = checklist.items()[0].id
        planning = _planning_world(organiser, planner)
        aisha = db.session.get(User, page.participant_id)
        users = {
            "participant": aisha.id,
            "other participant": db.session.get(SponsorPage, callum_page).participant_id,
            "organiser": organiser,
            "planner": planning["planner_id"],
        }
        return World(
            users=users,
            slug="aisha",
            draft_slug="callum",
            old_slug="aisha-rahman",
            old_draft_slug="callum-macleod",
            photo=page.photo_sha256,
            draft_photo=draft.photo_sha256,
            update_id=update.id,
            donation_id=donation,
            other_donation_id=other_donation,
            pending_donation_id=pending,
            resume_token=resume_token(db.session.get(Donation, pending)),
            gift_aid_token=ask_link(db.session.get(Donation, unclaimable)).rsplit("/", 1)[1],
            reset_token=auth_service._serializer("reset").dumps(
                {"user": aisha.id, "fp": aisha.password_fingerprint}
            ),
            signup_token=auth_service._serializer("signup").dumps(signup.id),
            page_id=aisha_page,
            item_id=first_item,
            user_id=aisha.id,
            claim_id=claim.id,
            unsubscribe_token=unsubscribe_token("fiona@example.org", "event_news"),
            **planning,
        )


def _teams_world(captain: SponsorPage) -> None:
    from app.teams import service as teams

    teams.create_team("Summit seekers", captain=captain, slug="summit")
    quiet = teams.create_team("Quiet ones", slug="quiet")
    teams.set_hidden(quiet, True)


def _planning_world(organiser_id: int, planner_id: int) -> dict:
    """Two groups with Sandra and Pat in them, an unused planner's invitation, two decisions."""
    from app.planning import people, reminders, service

    users = {uid: db.session.get(User, uid) for uid in (organiser_id, planner_id)}
    carers = people.add_group("Service users and carers", "")
    students = people.add_group("Students", "")
    people.set_groups(users[planner_id], {carers.id})
    people.set_groups(users[organiser_id], {students.id})
    invited = people.invite_planner(
        "Quinn Invited", "quinn@example.org", set(), users[organiser_id]
    )
    token = people.make_token(
        "planner-invite", {"user": invited.id, "fp": invited.password_fingerprint}
    )
    decision = service.propose(users[organiser_id], "Which tower?", "Two are free.", "", None)
    alone = service.record_alone(
        users[organiser_id], "The date", "17 April", "The tower is free then.", "No time.", False
    )
    return {
        "decision_id": decision.id,
        "alone_decision_id": alone.id,
        "group_id": carers.id,
        "planner_id": planner_id,
        "planner_invite_token": token,
        "reminders_token": reminders.link_token(planner_id),
    }


def log_in_as(client: FlaskClient, world: World, role: str) -> None:
    """Give `client` the session a log-in as `role` would (no password hashing: fast): a
    server-side session, just started, fresh from this client's address and browser."""
    if role == "visitor":
        return
    from app.auth import sessions
    from app.extensions import login_manager

    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        token = sessions.start(db.session.get(User, world.users[role]))
        identifier = login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier
