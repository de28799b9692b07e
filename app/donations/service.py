"""Taking a donation: a pending record first, then Stripe Checkout, then thanks."""

import contextlib
import secrets
import time
from datetime import timedelta

from flask import abort, current_app, url_for
from flask import session as browser_session
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app import payments
from app.database import begin_write
from app.donations.forms import OTHER, PRESETS_PENCE, DonationForm
from app.donations.gift_aid import (
    DECLARATION_VERSION,
    GiftAidDetails,
    own_page_flag,
    sponsorship_version,
)
from app.events.service import get_event, public_pages_clause
from app.extensions import db
from app.mailing import consent
from app.models import (
    ConsentRecord,
    Donation,
    DonationSource,
    DonationStatus,
    Event,
    SponsorPage,
    Team,
    utcnow,
)
from app.money import fee_to_cover
from app.pages.service import moved_to, renamed_page
from app.payments import facts
from app.payments.fulfil import apply_session, remember_session


class CheckoutExpired(Exception):
    """The form was sent again after its payment page had timed out: start afresh."""


class CheckoutInProgress(Exception):
    """The same form is being sent to Stripe by another request right now."""


class ResumeLinkExpired(Exception):
    """A "back to the form" link older than any Checkout Session it could have come from."""


NO_DETAILS = GiftAidDetails(title="", first_name="", last_name="", house="", postcode="")
# A request that claimed a donation's checkout and then died (a crashed worker) holds the
# claim no longer than this; the retry then sends the very same request to Stripe.
CLAIM_LIFETIME = timedelta(minutes=2)
# How long a second submit of the same form waits for the first to get its session.
CLAIM_WAIT_SECONDS = 8.0
# A resume link lives in browser history and at Stripe; it need outlast its Checkout Session
# (open for CHECKOUT_LIFETIME) only by a donor slow to press "Back".
RESUME_LINK_LIFETIME = payments.CHECKOUT_LIFETIME + timedelta(minutes=30)
# Only a donation still waiting for payment may show its details again through its link.
RESUMABLE = (DonationStatus.PENDING, DonationStatus.EXPIRED)
# How many of this browser's latest donations it may see the donor's details of, on thanks.
RECENT_IN_BROWSER = 5


def public_page_or_404(slug: str | None) -> SponsorPage | None:
    """The sponsor page being donated to (None for the event itself); 404 if not public.
    A public page's old address redirects to its current one."""
    if slug is None:
        return None
    page = db.session.scalar(
        select(SponsorPage).where(SponsorPage.slug == slug.lower(), public_pages_clause())
    )
    if page is None:
        renamed = renamed_page(slug)
        if renamed is not None and renamed.is_public:
            moved_to(renamed)
        abort(404)
    return page


def new_form(event: Event, data=None, **prefill) -> DonationForm:
    """The donation form with the event's limits; a fresh attempt key for a fresh form."""
    form = DonationForm(
        formdata=data,
        min_pence=event.min_donation_pence,
        max_pence=event.max_donation_pence,
        **prefill,
    )
    if not form.attempt_key.data:
        form.attempt_key.data = new_attempt_key()
    return form


def new_attempt_key() -> str:
    """A fresh key for a freshly filled-in form."""
    return secrets.token_urlsafe(24)


def fee_for(event: Event, amount_pence: int | None) -> int | None:
    """The exact extra that covers the card fee on `amount_pence`, by the event's formula."""
    if not amount_pence:
        return None
    return fee_to_cover(amount_pence, event.fee_basis_points, event.fee_fixed_pence)


def record_pending(
    form: DonationForm, page: SponsorPage | None, event: Event, team: Team | None = None
) -> Donation:
    """Save the donation as pending (not counted), once per filled-in form. Its amount and
    page are fixed from the first save: the same form sent again with a different amount is a
    new donation (with a fresh attempt key), so no payment page ever changes its price."""
    # This request has been reading since it began; on SQLite a read that turns into a write
    # fails at once ("database is locked") if a webhook wrote meanwhile, so write afresh.
    begin_write()
    donation = _by_attempt(form.attempt_key.data)
    if donation is not None and not _same_gift(donation, form, page, event, team):
        form.attempt_key.data = new_attempt_key()
        donation = None
    if donation is not None and (donation.stripe_session_id or donation.checkout_claimed_at):
        db.session.commit()
        return donation  # already on its way to Stripe: a retry must not change it
    if donation is None:
        donation = Donation(source=DonationSource.ONLINE, attempt_key=form.attempt_key.data[:64])
        db.session.add(donation)
    _fill(donation, form, page, event)
    donation.team = team
    _record_consent(donation, bool(form.keep_in_touch.data))
    try:
        db.session.commit()
    except IntegrityError:
        # The same form submitted twice at once: the other request saved it first.
        db.session.rollback()
        return record_pending(form, page, event, team)
    return donation


def _same_gift(donation: Donation, form: DonationForm, page, event: Event, team=None) -> bool:
    fee = fee_for(event, form.amount_pence) if form.cover_fee.data else 0
    return (
        donation.amount_pence == form.amount_pence
        and donation.fee_cover_pence == fee
        and donation.sponsor_page_id == (page.id if page else None)
        and donation.team_id == (team.id if team else None)
    )


def _fill(donation: Donation, form: DonationForm, page: SponsorPage | None, event: Event) -> None:
    gift_aid = bool(form.gift_aid.data)
    donation.sponsor_page = page
    donation.amount_pence = form.amount_pence
    donation.fee_cover_pence = fee_for(event, form.amount_pence) if form.cover_fee.data else 0
    donation.donor_name = form.donor_name.data.strip()
    donation.donor_email = form.donor_email.data.strip()
    donation.message = (form.message.data or "").strip()
    donation.anonymous = bool(form.anonymous.data)
    donation.hide_amount = bool(form.hide_amount.data)
    donation.gift_aid = gift_aid
    donation.gift_aid_declaration_version = DECLARATION_VERSION if gift_aid else ""
    donation.gift_aid_declared_at = utcnow() if gift_aid else None
    # As HMRC will read them (the form cleaned them and showed the donor any change).
    details = form.gift_aid_details() if gift_aid else NO_DETAILS
    donation.gift_aid_title = details.title
    donation.gift_aid_first_name = details.first_name
    donation.gift_aid_last_name = details.last_name
    donation.gift_aid_house = details.house
    donation.gift_aid_postcode = details.postcode
    donation.gift_aid_confirmed_sponsorship = gift_aid
    version = sponsorship_version(event.charity_pays_event_costs) if gift_aid else ""
    donation.gift_aid_sponsorship_version = version
    owner = page.participant if page is not None else None
    donation.gift_aid_flag = own_page_flag(
        version, donation.donor_email, owner.email if owner is not None else None
    )


def _record_consent(donation: Donation, ticked: bool) -> None:
    """A tick in "Tell me how the event goes" is a yes, kept with its words and time, once per
    donation (a resent form adds nothing). No tick is no change: it withdraws nothing."""
    if not ticked:
        return
    db.session.flush()
    if not consent_given_with(donation):
        consent.record(
            donation.donor_email,
            "event_news",
            True,
            wording_version=consent.TICK_VERSION,
            source="donation form",
            donation_id=donation.id,
        )


def consent_given_with(donation: Donation) -> bool:
    """Whether the donor said yes to the event's news on this donation's form."""
    return (
        db.session.scalar(
            select(ConsentRecord.id)
            .where(ConsentRecord.donation_id == donation.id, ConsentRecord.given.is_(True))
            .limit(1)
        )
        is not None
    )


def _by_attempt(attempt_key: str | None) -> Donation | None:
    if not attempt_key:
        return None
    return db.session.scalar(select(Donation).where(Donation.attempt_key == attempt_key[:64]))


def checkout_url(donation: Donation) -> str:
    """Create (or, on a retry, get back) the donation's Checkout Session; return its URL.

    Concurrent submits of one form are serialised by a claim on the donation: one request
    asks Stripe, the others wait for its session (or are told the form is on its way)."""
    if not donation.stripe_session_id and not _claim_checkout(donation):
        donation = _wait_for_session(donation.id)
    if donation.stripe_session_id:
        # Submitted again (a double click, the back button): the donor's session may be open.
        return _existing_session_url(donation.stripe_session_id)
    event = get_event()
    site = current_app.config["SITE_URL"]
    params = payments.checkout_params(
        donation,
        event,
        success_url=site + url_for("donations.thank_donor") + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=site + url_for("donations.resume_donation", token=resume_token(donation)),
    )
    try:
        session = payments.create_checkout_session(donation, params)
        found = facts.session(session)
    except (payments.PaymentsUnavailable, facts.Malformed):
        _release_claim(donation.id)
        raise payments.PaymentsUnavailable("no usable Checkout Session") from None
    begin_write()  # others wrote during the call to Stripe: see record_pending
    donation = db.session.get(Donation, donation.id, populate_existing=True)
    donation.stripe_session_id = found.id
    remember_session(donation, found)
    db.session.commit()
    return session.url


def _existing_session_url(session_id: str) -> str:
    session = payments.retrieve_checkout_session(session_id)
    if session is not None and session.status == "open":
        return session.url
    if session is not None and session.status == "complete":
        return url_for("donations.thank_donor", session_id=session.id)
    raise CheckoutExpired


def _claim_checkout(donation: Donation) -> bool:
    """Take the right to ask Stripe for this donation's session; False if another request
    holds it. One UPDATE, so two requests can never both win."""
    now = utcnow()
    begin_write()
    claimed = db.session.execute(
        update(Donation)
        .where(
            Donation.id == donation.id,
            Donation.stripe_session_id.is_(None),
            or_(
                Donation.checkout_claimed_at.is_(None),
                Donation.checkout_claimed_at < now - CLAIM_LIFETIME,
            ),
        )
        .values(checkout_claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _release_claim(donation_id: int) -> None:
    begin_write()
    db.session.execute(
        update(Donation)
        .where(Donation.id == donation_id)
        .values(checkout_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _wait_for_session(donation_id: int) -> Donation:
    """Wait for the request that holds the claim to record its session."""
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while True:
        donation = db.session.get(Donation, donation_id, populate_existing=True)
        db.session.commit()
        if donation.stripe_session_id:
            return donation
        if donation.checkout_claimed_at is None and _claim_checkout(donation):
            return donation  # the other request gave up (Stripe was unreachable): go ahead
        if time.monotonic() > deadline:
            raise CheckoutInProgress
        time.sleep(0.1)


def resume_token(donation: Donation) -> str:
    """A link back to a filled-in form, that only the donor's browser was given. Dated from
    when its Checkout Session opens, not from now: the link is part of the request sent to
    Stripe, and a retry must send the very same request (see create_checkout_session)."""
    opened = payments.checkout_expiry(donation) - int(payments.CHECKOUT_LIFETIME.total_seconds())
    signer = {"signer": _SignedAt, "signer_kwargs": {"at": opened}}
    return _resume_serializer(**signer).dumps(donation.id)


def donation_from_token(token: str) -> Donation | None:
    """The donation a resume link points to, or None if the link was tampered with; raises
    ResumeLinkExpired once it is older than RESUME_LINK_LIFETIME."""
    max_age = int(RESUME_LINK_LIFETIME.total_seconds())
    try:
        donation_id = _resume_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise ResumeLinkExpired from None
    except BadSignature:
        return None
    return db.session.get(Donation, donation_id) if isinstance(donation_id, int) else None


def _resume_serializer(**options) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="resume-donation", **options)


class _SignedAt(TimestampSigner):
    """Signs with a given time instead of now (checking a signature still uses now)."""

    def __init__(self, *args, at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.at = at

    def get_timestamp(self) -> int:
        """The time the signature says it was made."""
        return self.at


def resume_refused(donation: Donation) -> str | None:
    """Why a resume link may no longer bring back the donor's details ("complete" once paid or
    paying, "closed" otherwise), or None while the donation still waits for payment."""
    if donation.status in RESUMABLE:
        return None
    if donation.status in (DonationStatus.PAID, DonationStatus.PROCESSING):
        return "complete"
    return "closed"


def remember_in_browser(donation: Donation) -> None:
    """Note in this browser's session that it made the donation, so its thanks page (and only
    that browser's) may greet the donor by name."""
    recent = [i for i in browser_session.get("recent_donations", []) if i != donation.id]
    browser_session["recent_donations"] = [donation.id, *recent][:RECENT_IN_BROWSER]


def made_in_this_browser(donation: Donation) -> bool:
    """Whether this browser's session sent the form for the donation."""
    return donation.id in browser_session.get("recent_donations", [])


def prefill_from(donation: Donation) -> dict:
    """The form values a donor had typed, to bring them back after cancelling Checkout."""
    preset = str(donation.amount_pence)
    is_preset = donation.amount_pence in PRESETS_PENCE
    return {
        "amount_preset": preset if is_preset else OTHER,
        "other_amount": "" if is_preset else f"{donation.amount_pence / 100:.2f}",
        "cover_fee": donation.fee_cover_pence > 0,
        "donor_name": donation.donor_name,
        "donor_email": donation.donor_email,
        "message": donation.message,
        "anonymous": donation.anonymous,
        "hide_amount": donation.hide_amount,
        "keep_in_touch": consent_given_with(donation),
        "gift_aid": donation.gift_aid,
        "title": donation.gift_aid_title,
        "first_name": donation.gift_aid_first_name,
        "last_name": donation.gift_aid_last_name,
        "house": donation.gift_aid_house,
        "postcode": donation.gift_aid_postcode,
        "gift_aid_confirm": donation.gift_aid_confirmed_sponsorship,
    }


def event_or_404() -> Event:
    """The event; 404 before it is configured."""
    event = get_event()
    if event is None:
        abort(404)
    return event


def confirm_with_stripe(session_id: str) -> Donation | None:
    """Retrieve a Checkout Session from Stripe and apply it to its donation (the success page).
    The time it was paid is the charge's, from Stripe."""
    session = payments.retrieve_checkout_session(session_id)
    if session is None:
        return None
    try:
        found = facts.session(session)
    except facts.Malformed:
        return None
    begin_write()
    donation = apply_session(found, found.charged_at or utcnow())
    db.session.commit()
    return donation


def abandon(donation: Donation) -> None:
    """The donor came back from Checkout: close that session so it cannot be paid later.

    Best effort: if Stripe is unreachable, the session expires by itself within the hour."""
    if donation.status != DonationStatus.PENDING or not donation.stripe_session_id:
        return
    with contextlib.suppress(payments.PaymentsUnavailable):
        payments.expire_checkout_session(donation.stripe_session_id)
