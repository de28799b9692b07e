"""The subject access download: everything `records.find` holds about an address, as plain
names and values (times in UK time), for JSON and for the readable HTML page. Nothing of anyone
else's: a participant's page comes with its own text, not its donors."""

from typing import Any

from app import audit
from app.extensions import db
from app.mailing import consent
from app.models import (
    AfterEventDelivery,
    AfterEventMessage,
    AuditEntry,
    ChecklistItem,
    ConsentRecord,
    Donation,
    GiftAidClaimLine,
    OutboxMessage,
    User,
)
from app.money import format_pence
from app.privacy.records import PersonRecords
from app.timefmt import format_datetime


def _when(value) -> str | None:
    return format_datetime(value) if value is not None else None


def _donation(d: Donation) -> dict[str, Any]:
    item = {
        "reference": d.id,
        "made": _when(d.created_at),
        "paid": _when(d.paid_at),
        "status": d.status.value,
        "how": d.source.value,
        "to": d.sponsor_page.title if d.sponsor_page else "The event",
        "amount": format_pence(d.amount_pence),
        "card_fee_covered": format_pence(d.fee_cover_pence or 0),
        "refunded": format_pence(d.refunded_pence or 0),
        "name": d.donor_name,
        "email": d.donor_email,
        "message": d.message,
        "message_hidden_by_organisers": d.message_hidden_at is not None,
        "shown_as_anonymous": d.anonymous,
        "amount_hidden": d.hide_amount,
        "reply_from_participant": d.thank_you,
    }
    if d.gift_aid or d.gift_aid_first_name:
        item["gift_aid_declaration"] = {
            "declared": d.gift_aid,
            "wording_version": d.gift_aid_declaration_version,
            "declared_at": _when(d.gift_aid_declared_at),
            "title": d.gift_aid_title,
            "first_name": d.gift_aid_first_name,
            "last_name": d.gift_aid_last_name,
            "house_name_or_number": d.gift_aid_house,
            "postcode": d.gift_aid_postcode,
            "confirmed_sponsorship_rules": d.gift_aid_confirmed_sponsorship,
            "sponsorship_wording_version": d.gift_aid_sponsorship_version,
        }
    return item


def _claim_line(line: GiftAidClaimLine) -> dict[str, Any]:
    return {
        "donation_reference": line.donation_id,
        "claim": line.claim_id,
        "claim_status": line.claim.status.value,
        "submitted_to_hmrc_on": line.claim.submitted_on.isoformat()
        if line.claim.submitted_on
        else None,
        "kept_until": line.claim.keep_until.isoformat() if line.claim.keep_until else None,
        "as_sent": f"{line.title} {line.first_name} {line.last_name}, {line.house}, "
        f"{line.postcode}".strip(),
        "amount": format_pence(line.amount_pence),
        "gift_aid": format_pence(line.gift_aid_pence),
    }


def as_document(records: PersonRecords, event_name: str) -> dict[str, Any]:
    """The subject access download: plain names and values, times in UK time. Safety answers
    are decrypted here (EncryptedJSON through app/safety/crypto.py): only organisers who gave
    their password recently reach this."""
    user = records.account
    document: dict[str, Any] = {
        "about": records.address,
        "event": event_name,
        "account": None,
        "signups_not_confirmed": [
            {"name": p.name, "email": p.email, "started": _when(p.created_at)}
            for p in records.pending_signups
        ],
        "donations": [_donation(d) for d in records.donations],
        "gift_aid_claim_lines": [_claim_line(line) for line in records.claim_lines],
        "consents": _consents(records),
        "emails_you_said_yes_or_no_to": [_consent_record(r) for r in records.consent_records],
        "message_after_the_event": [_delivery(d) for d in records.after_event_deliveries],
        "emails_sent": [
            {
                "to": m.to_address,
                "subject": m.subject,
                "queued": _when(m.created_at),
                "sent": _when(m.sent_at),
                "text": m.body_text,
            }
            for m in records.messages
        ],
        "history": [
            {"when": _when(e.created_at), "what": _describe(e), "reason": e.reason}
            for e in records.history
        ],
    }
    if user is not None:
        document["account"] = _account(user, records)
    return document


def _describe(entry: AuditEntry) -> str:
    return audit.describe(entry)


def _account(user: User, records: PersonRecords) -> dict[str, Any]:
    page = user.sponsor_page
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role.value,
        "created": _when(user.created_at),
        "second_factor": bool(getattr(user, "second_factor", None)),
        "sponsor_page": None
        if page is None
        else {
            "title": page.title,
            "address": f"/p/{page.slug}",
            "story": page.story,
            "status": page.status.value,
            "target": format_pence(page.target_pence),
            "updates": [{"posted": _when(u.created_at), "text": u.body} for u in page.updates],
        },
        "safety_answers": [
            {
                "item": a.item.label,
                "wording_seen": a.wording_seen,
                "answered": _when(a.answered_at),
                "answer": a.data,
            }
            for a in records.safety_answers
        ],
        "safety_checks_signed_off": [
            {"item": _item_label(s.item_id), "signed_off": _when(s.signed_at), "note": s.note}
            for s in records.safety_sign_offs
        ],
        "safety_history": [
            {"when": _when(h.at), "what": h.action.value, "item": h.item_label, "note": h.note}
            for h in records.safety_history
        ],
        "checked_in": _when(records.safety_record.checked_in_at) if records.safety_record else None,
        "planning_groups": [m.group.name for m in records.planning_groups],
        "planning_responses": [
            {"decision": r.decision_id, "said": r.stance.value, "comment": r.comment}
            for r in records.planning_responses
        ],
    }


def _item_label(item_id: int) -> str:
    item = db.session.get(ChecklistItem, item_id)
    return item.label if item else ""


def _consent_record(entry: ConsentRecord) -> dict[str, Any]:
    """One yes or no, with the words it answered; the organiser who typed a paper form in is
    someone else's data, so only that one did is said."""
    kind = consent.KINDS.get(entry.kind)
    label = kind.label if kind else "every email that is not a receipt or about the account"
    return {
        "about": label,
        "said": "yes" if entry.given else "no",
        "when": _when(entry.recorded_at),
        "how": entry.source,
        "wording_version": entry.wording_version,
        "wording": consent.wording(entry.wording_version).replace("{label}", label),
        "donation_reference": entry.donation_id,
        "typed_in_by_an_organiser": entry.recorded_by_id is not None,
    }


def _delivery(delivery: AfterEventDelivery) -> dict[str, Any]:
    message = db.session.get(AfterEventMessage, delivery.message_id)
    copy = db.session.get(OutboxMessage, delivery.outbox_message_id)
    return {
        "to": delivery.email,
        "subject": message.subject if message else "",
        "queued": _when(copy.created_at) if copy else None,
        "sent": _when(copy.sent_at) if copy else None,
    }


def _consents(records: PersonRecords) -> list[dict[str, Any]]:
    consents = [
        {
            "what": "Gift Aid declaration",
            "donation_reference": d.id,
            "wording_version": d.gift_aid_declaration_version,
            "given": _when(d.gift_aid_declared_at),
        }
        for d in records.gift_aid_donations
    ]
    record = records.safety_record
    if record is not None and record.consent_withdrawn_at is not None:
        consents.append(
            {
                "what": "Consent to use health information",
                "withdrawn": _when(record.consent_withdrawn_at),
            }
        )
    return consents
