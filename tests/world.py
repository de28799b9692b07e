"""A small, real world for tests that walk every route: an event, two participants with pages,
donations and updates, an organiser, and the tokens emailed links would carry.

Aisha's page is live, with a photo, an update and a thanked donation. Callum's page is a draft
with a donation of its own. Both were once at other addresses (aisha-rahman, callum-macleod),
which still lead to them. Sandra is the organiser, with no page."""

from dataclasses import dataclass
from io import BytesIO

from flask.testing import FlaskClient
from PIL import Image

from app.extensions import db
from app.models import Donation, DonationStatus, PreviousSlug, SponsorPage, SponsorUpdate, User

ROLES = ("visitor", "participant", "other participant", "organiser")
EMAILS = {
    "participant": "aisha@example.org",
    "other participant": "callum@example.org",
    "organiser": "sandra@example.org",
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

    def values(self) -> dict[str, object]:
        """Values for the placeholders in route tables: {slug}, {update_id}, ..."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "users"}

    def route_arguments(self) -> dict[str, object]:
        """Real values for the argument names the app's routes use (<slug>, <int:update_id>...),
        for walks over every rule in the URL map."""
        return {
            "slug": self.slug,
            "filename": self.photo,
            "update_id": self.update_id,
            "donation_id": self.donation_id,
            "token": self.reset_token,
            "page_id": self.page_id,
            "item_id": self.item_id,
            "user_id": self.user_id,
            "fmt": "csv",
        }


def _jpeg() -> BytesIO:
    out = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "JPEG")
    out.seek(0)
    return out


def build_world(make) -> World:
    """Put the world in the database of `make.app` (an app with a configured event)."""
    from app.auth import service as auth_service
    from app.donations.service import resume_token
    from app.models import PendingSignup
    from app.organiser.gift_aid_fix import ask_link
    from app.pages import photos
    from app.safety import checklist

    aisha_page = make.participant("Aisha Rahman", "aisha")
    callum_page = make.participant("Callum MacLeod", "callum", published=False)
    organiser = make.user()
    donation = make.donation(2500, page_id=aisha_page, donor_name="Fiona", message="Go Aisha!")
    other_donation = make.donation(1500, page_id=callum_page, donor_name="Morag")
    pending = make.donation(1000, page_id=aisha_page, status=DonationStatus.PENDING)
    # A Gift Aid declaration with half a postcode: on the attention list, with the donor's link.
    unclaimable = make.donation(2000, donor_name="Morag", gift_aid=True, gift_aid_postcode="G12")
    with make.app.test_request_context():
        page = db.session.get(SponsorPage, aisha_page)
        page.photo_filename = photos.store(photos.clean_jpeg(_jpeg()))
        page.photo_alt = "Aisha in a helmet"
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
        db.session.commit()
        first_item = checklist.items()[0].id
        aisha = db.session.get(User, page.participant_id)
        users = {
            "participant": aisha.id,
            "other participant": db.session.get(SponsorPage, callum_page).participant_id,
            "organiser": organiser,
        }
        return World(
            users=users,
            slug="aisha",
            draft_slug="callum",
            old_slug="aisha-rahman",
            old_draft_slug="callum-macleod",
            photo=page.photo_filename,
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
        )


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
