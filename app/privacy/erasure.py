"""Erasing what the law lets us erase about one email address, in one transaction.

Donations stay as anonymised money records (their contribution to every total is checked to be
unchanged before anything is committed); Gift Aid declarations and claimed lines stay, as HMRC
requires (`rules.KEPT_ON_ERASURE`). An account is kept as an empty row ("Erased account", no
address, no password) because append-only histories name it; everything else about it goes.

Two organisers erasing the same person at once: the rows are locked before they are read (on
SQLite the write lock is taken at BEGIN), so the second waits, then finds nothing left and
says so. Nothing is ever half-done: one commit, or none."""

from dataclasses import dataclass

from sqlalchemy import delete, or_, select

from app import audit
from app.auth import sessions
from app.auth.service import normalise_email
from app.database import begin_write
from app.extensions import db
from app.mailing import consent
from app.models import (
    AfterEventDelivery,
    Donation,
    HistoryAction,
    OutboxMessage,
    PageStatus,
    PendingSignup,
    PlanningMember,
    PlanningReminders,
    PreviousSlug,
    RecoveryCode,
    Role,
    SafetyAnswer,
    SafetyHistory,
    SafetyRecord,
    SafetySignOff,
    SecondFactor,
    SponsorUpdate,
    StoredImage,
    User,
)
from app.models.sponsor_pages import SponsorPage
from app.privacy.records import matches, person_ref

ERASED_NAME = "Erased account"


class ErasureRefused(Exception):
    """Why an erasure was not done, in words for the person asking."""


class ContributionChanged(RuntimeError):
    """Anonymising a donation would have changed what it adds to a total: a bug, so refuse."""


@dataclass
class ErasureReport:
    """What one erasure did, for the screen and the history."""

    ref: str
    donations_anonymised: int = 0
    gift_aid_declarations_kept: int = 0
    emails_deleted: int = 0
    after_event_deliveries_deleted: int = 0
    consent_records_deleted: int = 0
    account_erased: bool = False
    safety_answers_deleted: int = 0
    page_unpublished: bool = False
    signups_deleted: int = 0

    @property
    def anything(self) -> bool:
        """True if the erasure changed anything (False: it had been erased already)."""
        return bool(
            self.donations_anonymised
            or self.emails_deleted
            or self.consent_records_deleted
            or self.account_erased
            or self.signups_deleted
        )

    def summary(self) -> str:
        """The counts, without the address, for the history."""
        if not self.anything:
            return f"person {self.ref}: nothing left to erase"
        return (
            f"person {self.ref}: {self.donations_anonymised} donations anonymised "
            f"({self.gift_aid_declarations_kept} Gift Aid declarations kept), "
            f"{self.emails_deleted} emails deleted "
            f"({self.after_event_deliveries_deleted} after-event deliveries), "
            f"{self.consent_records_deleted} consent records replaced by a no to all, "
            f"{self.safety_answers_deleted} safety answers deleted, "
            f"account {'erased' if self.account_erased else 'none'}"
            f"{', sponsor page unpublished' if self.page_unpublished else ''}"
        )


def refusal(user: User | None, actor: User | None) -> str | None:
    """Why this account may not be erased with these tools (None: it may)."""
    if user is None:
        return None
    if actor is not None and user.id == actor.id and user.role != Role.PARTICIPANT:
        return "You can't erase your own organiser account: ask another organiser."
    if user.role in (Role.ORGANISER, Role.INSTRUCTOR):
        return (
            "This is an organiser's or instructor's account. Their name is on sign-offs and "
            "money decisions: remove their access first, then erase what is left."
        )
    return None


def erase(address: str, actor: User | None, reason: str = "", own: bool = False) -> ErasureReport:
    """Erase what may be erased about `address` and commit; raises ErasureRefused (nothing
    changed) for a staff account. `own`: the person is deleting their own account."""
    address = normalise_email(address)
    report = ErasureReport(ref=person_ref(address))
    begin_write()
    # Lock first, read after: a second erasure waits here, then finds the rows already blank.
    user = db.session.scalar(select(User).where(matches(User.email, address)).with_for_update())
    why_not = refusal(user, actor)
    if why_not:
        db.session.rollback()
        raise ErasureRefused(why_not)
    donations = db.session.scalars(
        select(Donation)
        .where(matches(Donation.donor_email, address))
        .order_by(Donation.id)
        .with_for_update()
    ).all()
    for donation in donations:
        _anonymise(donation)
        report.donations_anonymised += 1
        report.gift_aid_declarations_kept += int(donation.gift_aid)
    report.after_event_deliveries_deleted = _delete_deliveries(address)
    report.emails_deleted = db.session.execute(
        delete(OutboxMessage).where(matches(OutboxMessage.to_address, address))
    ).rowcount
    report.consent_records_deleted = _forget_consents(address)
    report.signups_deleted = db.session.execute(
        delete(PendingSignup).where(matches(PendingSignup.email, address))
    ).rowcount
    if user is not None:
        _erase_account(user, actor, report)
    audit.record(
        "privacy.account_deleted" if own else "privacy.erased",
        actor=actor,
        subject_user=user,
        reason=reason,
        detail=report.summary(),
    )
    db.session.commit()
    return report


def _delete_deliveries(address: str) -> int:
    """The after-event message's rows for this address: like the copy of the email each points
    at, a record that an email was sent, which nothing requires us to keep. The message is
    sent once, so no row is needed to stop a second copy: the "all: no" left below does."""
    copies = select(OutboxMessage.id).where(matches(OutboxMessage.to_address, address))
    return db.session.execute(
        delete(AfterEventDelivery).where(
            or_(
                matches(AfterEventDelivery.email, address),
                AfterEventDelivery.outbox_message_id.in_(copies),
            )
        )
    ).rowcount


def _forget_consents(address: str) -> int:
    """Replace the address's consent history with one "all: no" (consent.erase), so nothing that
    is not a service message starts again; how many records went. An address erased already
    (its history is that one "no") is left as it is."""
    history = consent.history(address)
    if history and all(entry.source == "erasure" for entry in history):
        return 0
    return consent.erase(address)


def _anonymise(donation: Donation) -> None:
    before = donation.contribution()
    donation.donor_name = ""
    donation.donor_email = ""
    donation.message = ""
    donation.message_hidden_at = None
    donation.anonymous = True
    # The participant's reply names the donor, more often than not.
    donation.thank_you = ""
    if not donation.gift_aid:
        # Details typed without a declaration are not Gift Aid records: nothing keeps them.
        donation.gift_aid_title = donation.gift_aid_first_name = ""
        donation.gift_aid_last_name = donation.gift_aid_house = donation.gift_aid_postcode = ""
    if donation.contribution() != before:
        raise ContributionChanged(f"erasing donation {donation.id} would change the totals")


def _erase_account(user: User, actor: User | None, report: ErasureReport) -> None:
    report.account_erased = True
    user_id = user.id
    report.safety_answers_deleted = db.session.execute(
        delete(SafetyAnswer).where(SafetyAnswer.participant_id == user_id)
    ).rowcount
    db.session.execute(delete(SafetySignOff).where(SafetySignOff.participant_id == user_id))
    db.session.execute(delete(SafetyRecord).where(SafetyRecord.participant_id == user_id))
    if report.safety_answers_deleted:
        db.session.add(
            SafetyHistory(
                participant_id=user_id,
                action=HistoryAction.PURGED,
                actor_id=actor.id if actor else None,
                note="Answers deleted: the account was erased.",
            )
        )
    for model in (SecondFactor, RecoveryCode, PlanningMember, PlanningReminders):
        db.session.execute(delete(model).where(model.user_id == user_id))
    sessions.end_all(user)
    page = user.sponsor_page
    if page is not None:
        report.page_unpublished = page.status == PageStatus.PUBLISHED
        _empty_page(page)
    user.email = f"erased-{user_id}@erased.invalid"
    user.name = ERASED_NAME
    user.password_hash = ""
    user.login_lockout_mailed_at = user.code_lockout_mailed_at = None


def _empty_page(page: SponsorPage) -> None:
    """Unpublish the page and remove what the participant wrote on it; donations to it stay
    (money records), its totals with them, and it keeps its id so they still add up."""
    photo = page.photo_sha256
    page.status = PageStatus.DRAFT
    page.approved_at = None
    page.title = "Removed page"
    page.slug = f"removed-{page.id}"
    page.story = ""
    page.photo_sha256 = None
    page.old_photo_filename = None
    page.photo_alt = ""
    db.session.execute(delete(PreviousSlug).where(PreviousSlug.sponsor_page_id == page.id))
    db.session.execute(delete(SponsorUpdate).where(SponsorUpdate.sponsor_page_id == page.id))
    db.session.execute(
        Donation.__table__.update()
        .where(Donation.sponsor_page_id == page.id)
        .values(thank_you="", thanked_at=None)
    )
    if photo is not None:
        db.session.flush()
        still_used = db.session.scalar(
            select(SponsorPage.id).where(SponsorPage.photo_sha256 == photo).limit(1)
        )
        if still_used is None:
            db.session.execute(delete(StoredImage).where(StoredImage.sha256 == photo))
