"""Every email Plunge sends, made as the app makes it, for the tests of their HTML versions.

Where the app has a simple public path that queues the email (receipts, the participant's
notice, thank-you replies, refunds), the case goes through it and takes what it queued; the
others render the template through `outbox.render` with the context their call site passes.
A new email template needs a case here (tests/test_mail_html.py fails until it has one)."""

from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from app import outbox, totals
from app.extensions import db
from app.models import (
    Donation,
    DonationSource,
    DonationStatus,
    OutboxMessage,
    PageStatus,
    Role,
    SponsorPage,
    Totals,
    User,
    utcnow,
)
from app.models.stripe_records import Refund
from tests.accounts import password_hash
from tests.conftest import GIFT_AID_DECLARATION

# A donor's words with HTML in them: shown as typed, never run or fetched.
HOSTILE = 'Go on Aisha! <img src="https://tracker.example/p.gif"> <b>bold</b>'


@dataclass
class Email:
    """One rendered email: its subject, both bodies, and words both must carry."""

    name: str
    subject: str
    text: str
    html: str
    says: tuple[str, ...] = ()
    # Links that leave the site on purpose (a nudge's share links), each exactly as it is.
    outside_links: tuple[str, ...] = ()


def _rendered(name: str, subject: str, /, says=(), **context) -> Email:
    text, html = outbox.render(name, subject, **context)
    return Email(name, subject, text, html, tuple(says))


def _queued(name: str, to: str, says=(), outside_links=()) -> Email:
    """The last email queued to `to`, as it will be sent."""
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == to)
        .order_by(OutboxMessage.id.desc())
    ).first()
    return Email(
        name,
        message.subject,
        message.body_text,
        message.body_html,
        tuple(says),
        tuple(outside_links),
    )


def _event():
    from app.events.service import get_event

    return get_event()


def _url(path: str) -> str:
    return current_app.config["SITE_URL"] + path


def _page(slug: str = "aisha", name: str = "Aisha Rahman") -> SponsorPage:
    """A published page with a £300 target, Aisha's unless told (made on first use, in this
    session)."""
    page = db.session.scalar(select(SponsorPage).where(SponsorPage.slug == slug))
    if page is None:
        participant = User(
            email=f"{slug}@example.org",
            name=name,
            role=Role.PARTICIPANT,
            password_hash=password_hash(),
        )
        page = SponsorPage(
            participant=participant,
            slug=slug,
            title=f"{name} abseils",
            target_pence=30_000,
            status=PageStatus.PUBLISHED,
            approved_at=utcnow(),
        )
        db.session.add_all([participant, page])
        db.session.flush()
        totals.ensure_scope(page.totals_scope)
    return page


def _gift(page: SponsorPage | None = None, amount_pence: int = 2500, **fields) -> Donation:
    """A paid, Gift Aided online gift (£25 unless told) with the card fee covered, on Aisha's
    page unless told; paying it moves the page's total, as a webhook does."""
    values = {
        **GIFT_AID_DECLARATION,
        "gift_aid_declared_at": utcnow(),
        "fee_cover_pence": 58,
        "donor_name": "Fiona Campbell",
        "donor_email": "fiona@example.org",
        "message": HOSTILE,
        "source": DonationSource.ONLINE,
        **fields,
    }
    donation = Donation(sponsor_page=page or _page(), amount_pence=amount_pence, **values)
    with totals.tracking(donation):
        donation.status = DonationStatus.PAID
        donation.paid_at = utcnow()
    db.session.flush()
    return donation


def receipt() -> Email:
    from app.payments.fulfil import queue_thanks

    queue_thanks(_gift())
    db.session.flush()
    return _queued("receipt", "fiona@example.org", says=("Fiona Campbell", "Aisha Rahman"))


def new_donation() -> Email:
    from app.payments.fulfil import queue_thanks

    queue_thanks(_gift(anonymous=True))
    db.session.flush()
    return _queued("new_donation", "aisha@example.org", says=("Fiona Campbell", "Aisha Rahman"))


def thank_you_reply() -> Email:
    from app.pages.service import thank

    thank(_gift(), "Thank you Fiona, that means a lot!\nSee you at the top.")
    return _queued("thank_you_reply", "fiona@example.org", says=("Fiona Campbell", "Aisha"))


def refund() -> Email:
    from app.payments.reversals import record_cash_refund

    donation = _gift(source=DonationSource.OFFLINE, fee_cover_pence=0)
    record_cash_refund(donation, 1000)
    db.session.flush()
    return _queued("refund", "fiona@example.org", says=("Fiona Campbell",))


def refund_failed() -> Email:
    donation = _gift()
    record = Refund(
        id="re_3PqHelpersTest",
        donation_id=donation.id,
        amount_pence=2500,
        status="failed",
        failure_reason="expired_or_canceled_card",
        created_at=utcnow(),
        donor_told_at=utcnow(),
    )
    return _rendered(
        "refund_failed",
        f"A refund did not go through: donation PLG-{donation.id:06d}",
        says=("Fiona Campbell", "re_3PqHelpersTest", "expired or canceled card"),
        donation=donation,
        refund=record,
        amount="£25.00",
        event=_event(),
    )


def gift_aid_request() -> Email:
    from app.organiser.gift_aid_fix import ask_email

    donation = _gift(gift_aid_postcode="")
    email = ask_email(donation)
    return _rendered("gift_aid_request", email["subject"], says=("Fiona",), **email["context"])


def cash_report() -> Email:
    return _rendered(
        "cash_report",
        "Your cash of £42.50 isn't counted yet",
        says=("Aisha Rahman", "The envelope said £40 but held £42.50."),
        name="Aisha Rahman",
        amount="£42.50",
        confirmed=False,
        reason="The envelope said £40 but held £42.50.",
    )


def account_exists() -> Email:
    return _rendered(
        "account_exists",
        "You already have an account",
        login_url=_url("/login"),
        reset_url=_url("/reset"),
    )


def confirm_signup() -> Email:
    return _rendered(
        "confirm_signup",
        "Confirm your email address",
        says=("Callum Reid", "Sponsored Abseil 2027"),
        name="Callum Reid",
        confirm_url=_url("/signup/confirm/eyJhbGciOiJIUzI1NiJ9.abc-def_123"),
        hours=24,
    )


def password_reset() -> Email:
    return _rendered(
        "password_reset",
        "Reset your password",
        says=("Sandra Organiser", "30 minutes"),
        name="Sandra Organiser",
        reset_url=_url("/reset/eyJ1c2VyIjoxfQ.token"),
        minutes=30,
    )


def login_lockout() -> Email:
    return _rendered(
        "login_lockout",
        "Logging in to your account is paused",
        says=("Sandra Organiser", "12 minutes"),
        name="Sandra Organiser",
        reset_url=_url("/reset"),
        wait="12 minutes",
    )


def code_lockout() -> Email:
    return _rendered(
        "code_lockout",
        "Wrong codes for your account: change your password",
        says=("Sandra Organiser", "15 minutes"),
        name="Sandra Organiser",
        reset_url=_url("/reset"),
        wait="15 minutes",
    )


def organiser_invite() -> Email:
    return _rendered(
        "organiser_invite",
        "You're invited to help organise Sponsored Abseil 2027",
        says=("Priya Shah", "Sandra Organiser", "7 days"),
        name="Priya Shah",
        inviter="Sandra Organiser",
        event=_event(),
        accept_url=_url("/invite/eyJ1c2VyIjozfQ.token"),
        days=7,
    )


def planner_invite() -> Email:
    return _rendered(
        "planner_invite",
        "Help us plan Sponsored Abseil 2027",
        says=("Morag Bell", "Sandra Organiser", "7 days"),
        name="Morag Bell",
        inviter="Sandra Organiser",
        event=_event(),
        accept_url=_url("/planning/invite/eyJ1c2VyIjo0fQ.token"),
        days=7,
    )


def planning_reminder() -> Email:
    decisions = [
        SimpleNamespace(title="Which charity gets the extra", taken_alone=False, decide_by=None),
        SimpleNamespace(title="Date of the event", taken_alone=True, decide_by=None),
        SimpleNamespace(
            title="T-shirt colours", taken_alone=False, decide_by=date.today() + timedelta(7)
        ),
    ]
    return _rendered(
        "planning_reminder",
        "Your say is needed on the event plans",
        says=("Morag Bell", "Which charity gets the extra", "Date of the event", "T-shirt"),
        name="Morag Bell",
        waiting=[SimpleNamespace(decision=d) for d in decisions],
        planning_url=_url("/planning"),
        stop_url=_url("/planning/reminders/eyJwIjo0fQ.token"),
    )


def safety_reminder() -> Email:
    return _rendered(
        "safety_reminder",
        "Your safety checklist: a few things still to do",
        says=("Aisha Rahman", "Emergency contact", "Health questions"),
        name="Aisha Rahman",
        missing=["Emergency contact", "Health questions"],
        url=_url("/safety"),
        event=_event(),
    )


def test_probe() -> Email:
    return _rendered("test_probe", "A test from Plunge", says=("Sam",), name="Sam")


def after_event() -> Email:
    from app.mailing import KINDS, unsubscribe_link
    from app.models import AfterEventMessage
    from app.organiser import after_event as message

    draft = AfterEventMessage(
        event_id=1,
        subject="How the abseil went",
        body="We did it! Thank you.\n\nYour money pays for a year of carers' meetings.",
    )
    db.session.add(draft)
    db.session.flush()
    return _rendered(
        "after_event",
        draft.subject,
        says=("We did it!", "a year of carers' meetings"),
        unsubscribe_url=unsubscribe_link("fiona@example.org", "event_news"),
        unsubscribe_label=KINDS["event_news"].label,
        **message._context(draft, message.Recipient("fiona@example.org", "event_news")),
    )


def test_probe_news() -> Email:
    from app.mailing import KINDS, unsubscribe_link

    return _rendered(
        "test_probe_news",
        "Some news",
        says=("Sam",),
        name="Sam",
        unsubscribe_url=unsubscribe_link("sam@example.org", "participant_news"),
        unsubscribe_label=KINDS["participant_news"].label,
    )


def _share_links(page: SponsorPage) -> tuple[str, ...]:
    """The share links a nudge to this page carries, as app.nudges.service makes them: the
    only places a nudge links to outside the site."""
    from app.nudges import service
    from app.urls import absolute_url

    event = _event()
    url = absolute_url("pages.show_page", slug=page.slug)
    raised = db.session.scalar(select(Totals.raised_pence).where(Totals.scope == page.totals_scope))
    message = service.share_message(page, event, url, raised)
    return tuple(service.share_links(url, message, f"Sponsor me: {event.name}").values())


# What every nudge says about why it came and how to stop it.
_NUDGE_SAYS = (
    "You are getting this email because you have a sponsor page for Sponsored Abseil 2027.",
    "You can stop fundraising nudges (halfway, target reached, a quiet week) with one click, "
    "no log-in needed",
    "Or choose which you get here (you need to log in)",
)


def _nudged(name: str, page: SponsorPage, *says: str) -> Email:
    """The nudge just queued to the page's participant."""
    return _queued(
        name,
        page.participant.email,
        says=(page.participant.name, "Could you sponsor me?", *says, *_NUDGE_SAYS),
        outside_links=_share_links(page),
    )


def nudge_first_donation() -> Email:
    # A new page's first gift moves its total from nothing: the nudge is queued with it.
    page = _page("callum", "Callum Reid")
    _gift(page)
    return _nudged("nudge_first_donation", page, "The first gift is the hardest.")


def nudge_halfway() -> Email:
    # £150 of £300 in one gift passes the first donation and halfway: only halfway is sent.
    page = _page("morag", "Morag Bell")
    _gift(page, 15_000)
    return _nudged("nudge_halfway", page, "You're halfway there", "Carers Voice")


def nudge_target_reached() -> Email:
    page = _page("priya", "Priya Shah")
    _gift(page, 30_000)
    return _nudged("nudge_target_reached", page, "You did it", "raise your target")


def nudge_quiet_week() -> Email:
    # The timer's own function, on a page live for three weeks with nothing given. It commits
    # (see render_all), and it nudges only this page: the others went live today.
    from app.nudges import service

    page = _page("dee", "Dee Ng")
    now = utcnow()
    page.approved_at = now - timedelta(days=21)
    assert service.send_quiet_week(now) == 1
    return _nudged(
        "nudge_quiet_week", page, "It has been a quiet week on your page", "Saturday 17 April 2027"
    )


# Every template in templates/mail/ and the case that makes it. A new template goes here.
CASES = {
    case.__name__: case
    for case in (
        receipt,
        new_donation,
        thank_you_reply,
        refund,
        refund_failed,
        gift_aid_request,
        cash_report,
        account_exists,
        confirm_signup,
        password_reset,
        login_lockout,
        code_lockout,
        organiser_invite,
        planner_invite,
        planning_reminder,
        safety_reminder,
        test_probe,
        after_event,
        test_probe_news,
        nudge_first_donation,
        nudge_halfway,
        nudge_target_reached,
        nudge_quiet_week,
    )
}


def render_all(app) -> dict[str, Email]:
    """Every email, made in one request context as the app makes them; nothing is kept but
    what the quiet-week nudge's case commits (the timer's function commits its own work, and
    what the cases before it made): the tables are emptied after each test."""
    with app.test_request_context():
        emails = {name: case() for name, case in CASES.items()}
        db.session.rollback()
    return emails
