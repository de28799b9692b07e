"""A believable demo event for `make run` and for looking around: nothing here is real."""

import random
from datetime import timedelta

from werkzeug.security import generate_password_hash

from app import totals
from app.donations.gift_aid import DECLARATION_VERSION, sponsorship_version
from app.donations.offline import PAPER_DECLARATION
from app.events import service
from app.extensions import db
from app.models import (
    Donation,
    DonationSource,
    DonationStatus,
    PageStatus,
    Role,
    SponsorPage,
    User,
    utcnow,
)
from app.money import fee_to_cover
from app.timefmt import parse_london

DEMO_PASSWORD = "abseil-demo-2027"

PARTICIPANTS = [
    ("Aisha Rahman", "aisha", "Aisha goes over the edge", 40_000),
    ("Callum MacLeod", "callum", "70 metres for the carers' group", 50_000),
    ("Morag Fraser", "morag", "Scared of heights, doing it anyway", 30_000),
    ("Tomasz Nowak", "tomasz", "Tomasz drops in for social work", 25_000),
    ("Eilidh Campbell", "eilidh", "Eilidh's big abseil", 30_000),
    ("Jamie Reid", "jamie", "Jamie vs the tower", 20_000),
    ("Priya Shah", "priya", "Priya abseils for service users' voices", 35_000),
    ("Rory Stewart", "rory", "Rory rope-drop", 25_000),
]

DONORS = [
    "Mum and Dad",
    "Fiona",
    "Uncle Dougie",
    "The Thursday book group",
    "Sam K",
    "Gran",
    "Lewis",
    "Hannah & Ben",
    "Mrs Patterson",
    "Kirsty",
    "Team at the Co-op",
    "Ali",
    "Neil",
    "Ewan",
    "Catriona",
    "Flatmates",
    "Joanne",
    "Dr Okafor",
]

MESSAGES = [
    "Good luck, you'll smash it!",
    "Rather you than me!",
    "So proud of you.",
    "For a cause that matters. Go well.",
    "Don't look down!",
    "",
    "Thank you for doing this for all of us at the group.",
    "",
    "Brilliant cause.",
]


def seed_demo(rng: random.Random | None = None) -> str:
    """Create the demo event, its organiser and participants, pages and donations."""
    rng = rng or random.Random(2027)
    now = utcnow()
    service.configure_event(
        commit=False,  # all of the demo, or none of it
        name="Over the Edge: the 70-metre abseil",
        starts_at=parse_london("2027-04-17 10:00"),
        venue="Queen Margaret Tower, Glasgow",
        description=(
            "Social-work students from the university and members of the Service User and "
            "Carer Group are abseiling 70 metres down the tower to replace the £5,000 annual "
            "grant the group lost this year.\n\n"
            "Spectators are welcome in the quad from 9:30am. Participants are briefed, "
            "harnessed and checked by qualified instructors before anyone goes over the edge."
        ),
        where_money_goes=(
            "The grant paid for the group's travel to teach on the social-work degree, "
            "for carers' respite so they can take part, and for the annual conference where "
            "service users shape what students learn. £5,000 keeps all of that going for a year."
        ),
        above_target_text=(
            "Anything raised above £5,000 goes into next year's fund, so the group is not "
            "left waiting on a grant again."
        ),
        contact_email="abseil@example.org",
        charity_name="Glasgow Service User and Carer Group",
        charity_number="SC049999",
        charity_is_scottish=True,
    )
    password_hash = generate_password_hash(DEMO_PASSWORD)
    db.session.add(
        User(
            email="organiser@example.org",
            name="Sandra Organiser",
            role=Role.ORGANISER,
            password_hash=password_hash,
        )
    )
    donations = 0
    for name, slug, title, target in PARTICIPANTS:
        participant = User(
            email=f"{slug}@example.org",
            name=name,
            role=Role.PARTICIPANT,
            password_hash=password_hash,
        )
        page = SponsorPage(
            participant=participant,
            slug=slug,
            title=title,
            target_pence=target,
            story=f"I'm {name.split()[0]}, and on the day I'll be abseiling 70 metres.",
            status=PageStatus.PUBLISHED,
            approved_at=now,
        )
        db.session.add_all([participant, page])
        db.session.flush()
        totals.ensure_scope(page.totals_scope)
        for _ in range(rng.randint(4, 11)):
            _demo_donation(rng, page.id, now)
            donations += 1
    for _ in range(4):
        _demo_donation(rng, None, now)
        donations += 1
    # One Gift Aid declaration HMRC would refuse (half a postcode), so the organisers' "Gift
    # Aid needs attention" list has something to show, with its ready email to the donor.
    _demo_donation(
        rng,
        None,
        now,
        source=DonationSource.ONLINE,
        gift_aid=True,
        gift_aid_declaration_version=DECLARATION_VERSION,
        gift_aid_confirmed_sponsorship=True,
        gift_aid_sponsorship_version=sponsorship_version(False),
        gift_aid_declared_at=now,
        gift_aid_first_name="Morag",
        gift_aid_last_name="MacLeod",
        gift_aid_house="7",
        gift_aid_postcode="G12",
        donor_email="morag@example.org",
    )
    donations += 1
    db.session.flush()
    _demo_teams(rng, now)
    from app.safety.demo import seed_safety

    seed_safety(password_hash)
    db.session.commit()
    return (
        f"Seeded the demo event with {len(PARTICIPANTS)} participants and {donations} donations.\n"
        f"Log in as organiser@example.org, instructor@example.org or aisha@example.org, "
        f"password {DEMO_PASSWORD}."
    )


# (team, its address, captain's page, other members' pages, the team's story)
TEAMS = [
    ("Carers' group", "carers-group", "callum", ["priya", "rory"],
     "Members of the Service User and Carer Group, going over the edge for the group itself."),
    ("Social work class of 2027", "social-work-2027", "tomasz", ["morag", "eilidh"],
     "Second-year social-work students, abseiling for the people who teach us most."),
]  # fmt: skip


def _demo_teams(rng: random.Random, now) -> None:
    """Two teams; pages' money moves into them as members join, and each has a team gift."""
    from app.teams import membership
    from app.teams import service as teams

    for name, slug, captain, others, story in TEAMS:
        pages = {p.slug: p for p in db.session.query(SponsorPage)}
        team = teams.create_team(name, captain=pages[captain], slug=slug, story=story)
        team.target_pence = 150_000
        for other in others:
            membership.join(pages[other], team, by_organiser=True)
        _demo_donation(rng, None, now, team_id=team.id)


def _demo_donation(rng: random.Random, page_id: int | None, now, **details) -> None:
    amount = rng.choice([1000, 1000, 1500, 2000, 2000, 2500, 3000, 5000, 5000, 10000])
    offline = rng.random() < 0.15
    gift_aid = rng.random() < 0.5
    # Online declarations as the donation form stores them; offline ones from paper forms.
    declaration = (PAPER_DECLARATION if offline else DECLARATION_VERSION) if gift_aid else ""
    sponsorship = (PAPER_DECLARATION if offline else sponsorship_version(False)) if gift_aid else ""
    donation = Donation(
        sponsor_page_id=page_id,
        source=DonationSource.OFFLINE if offline else DonationSource.ONLINE,
        amount_pence=amount,
        donor_name=rng.choice(DONORS),
        donor_email="donor@example.org",
        message=rng.choice(MESSAGES),
        anonymous=rng.random() < 0.1,
        hide_amount=rng.random() < 0.1,
        fee_cover_pence=fee_to_cover(amount, 150, 20) if not offline and rng.random() < 0.3 else 0,
        gift_aid=gift_aid,
        gift_aid_declaration_version=declaration,
        gift_aid_confirmed_sponsorship=gift_aid,
        gift_aid_sponsorship_version=sponsorship,
        gift_aid_declared_at=now if gift_aid else None,
        gift_aid_first_name=rng.choice(["Fiona", "Lewis", "Hannah", "Neil"]) if gift_aid else "",
        gift_aid_last_name=rng.choice(["Campbell", "O'Neill", "Smith-Jones"]) if gift_aid else "",
        gift_aid_house=str(rng.randint(1, 120)) if gift_aid else "",
        gift_aid_postcode=rng.choice(["G12 8QQ", "EH1 1YZ", "G3 6AA"]) if gift_aid else "",
        created_at=now - timedelta(hours=rng.randint(1, 400)),
    )
    for name, value in details.items():
        setattr(donation, name, value)
    with totals.tracking(donation):
        donation.status = DonationStatus.PAID
        donation.paid_at = donation.created_at + timedelta(minutes=2)
