"""Looking up, downloading and correcting what is held about a person, each use written to
the history (naming the person by `records.person_ref`, never by address)."""

import json

from flask import render_template
from sqlalchemy import select

from app import audit
from app.auth.service import normalise_email
from app.database import begin_write
from app.events.service import get_event
from app.extensions import db
from app.models import Donation, User
from app.privacy import records, subject_access
from app.privacy.records import matches, person_ref


class CorrectionRefused(Exception):
    """Why a correction was not made, in words for the organiser."""


def look_up(address: str) -> records.PersonRecords:
    """Everything held about `address`, the look-up recorded in the history (committed)."""
    begin_write()
    audit.record("privacy.viewed", detail=f"person {person_ref(address)}")
    db.session.commit()
    return records.find(address)


def download(address: str, kind: str) -> tuple[str, str]:
    """The subject access file for `address` ("json" or "html") and its media type, the
    download recorded in the history (committed)."""
    begin_write()
    audit.record("privacy.downloaded", detail=f"person {person_ref(address)} as {kind}")
    db.session.commit()
    found = records.find(address)
    event = get_event()
    document = subject_access.as_document(found, event.name if event else "")
    if kind == "json":
        return json.dumps(document, indent=2, ensure_ascii=False), "application/json"
    page = render_template("privacy/subject_access.html", document=document, event=event)
    return page, "text/html; charset=utf-8"


def correct(address: str, donation_id: int | None, name: str, new_email: str) -> str:
    """Correct the name and address on one donation of `address`'s, or on their account;
    commits, and returns the address the person is now found by."""
    new_email = normalise_email(new_email)
    begin_write()
    if donation_id is not None:
        donation = db.session.scalar(
            select(Donation)
            .where(Donation.id == donation_id, matches(Donation.donor_email, address))
            .with_for_update()
        )
        if donation is None:
            db.session.rollback()
            raise CorrectionRefused("That donation is not one of this person's.")
        donation.donor_name, donation.donor_email = name, new_email
        audit.record(
            "privacy.corrected",
            donation=donation,
            detail=f"person {person_ref(address)}: donor's name and email address",
        )
    else:
        user = db.session.scalar(select(User).where(matches(User.email, address)).with_for_update())
        if user is None:
            db.session.rollback()
            raise CorrectionRefused("This address has no account to correct.")
        taken = db.session.scalar(
            select(User.id).where(User.email == new_email, User.id != user.id)
        )
        if taken is not None:
            db.session.rollback()
            raise CorrectionRefused("Another account already has that email address.")
        user.name, user.email = name, new_email
        audit.record(
            "privacy.corrected",
            subject_user=user,
            detail=f"person {person_ref(address)}: account's name and email address",
        )
    db.session.commit()
    return new_email
