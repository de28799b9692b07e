"""A second factor for organisers: a TOTP app (RFC 6238, pyotp) and ten single-use recovery
codes for a lost phone. Another organiser can reset it; the audit history keeps who did."""

import hashlib
import hmac
import secrets
from io import BytesIO

import pyotp
import segno
from flask import redirect, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select, update

from app import audit
from app.database import begin_write
from app.extensions import db
from app.models import RecoveryCode, SecondFactor, User, utcnow

RECOVERY_CODES = 10
# Recovery codes: 12 characters of Crockford-like base32 (60 bits), shown as xxxx-xxxx-xxxx.
CODE_ALPHABET = "abcdefghjkmnpqrstvwxyz23456789"
CODE_LENGTH = 12
# Codes from the step before and after now are accepted too: phones' clocks drift.
DRIFT_STEPS = 1
# While an organiser must enrol, these are the only pages they can reach.
OPEN_WHILE_ENROLLING = frozenset(
    {
        "static",
        "auth.logout",
        "auth.two_factor.enrol",
        "events.show_privacy",
        "events.show_accessibility",
    }
)


def confirmed(user: User) -> SecondFactor | None:
    """The user's second factor, once enrolment is finished."""
    factor = user.second_factor
    return factor if factor is not None and factor.confirmed_at is not None else None


def required_for(user: User) -> bool:
    """True if the event says this user, an organiser, must have a second factor."""
    if not user.is_organiser:
        return False
    from app.events.service import get_event

    event = get_event()
    return bool(event and event.organisers_need_second_factor)


def require_enrolment():
    """Before each request: an organiser who must have a second factor and has none is sent
    to set one up before anything else."""
    if request.endpoint in OPEN_WHILE_ENROLLING or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    if confirmed(user) is None and required_for(user):
        if request.htmx:
            return "", 204, {"HX-Redirect": url_for("auth.two_factor.enrol")}
        return redirect(url_for("auth.two_factor.enrol"), 303)
    return None


def pending_factor(user: User) -> SecondFactor:
    """The secret being enrolled: the same one until a code confirms it (a reload shows the
    same QR code), replaced once it is old (an hour)."""
    factor = user.second_factor
    fresh = factor is not None and (utcnow() - factor.created_at).total_seconds() < 3600
    if fresh and factor.confirmed_at is None:
        return factor
    begin_write()  # reads so far; a fresh write transaction (see app.database)
    factor = user.second_factor
    if factor is not None:
        db.session.delete(factor)
        db.session.flush()
    factor = SecondFactor(user=user, totp_secret=pyotp.random_base32(), created_at=utcnow())
    db.session.add(factor)
    db.session.commit()
    return factor


def _totp(factor: SecondFactor) -> pyotp.TOTP:
    return pyotp.TOTP(factor.totp_secret)


def provisioning_uri(factor: SecondFactor, user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    from app.events.service import get_event

    event = get_event()
    issuer = event.name if event else "Plunge"
    return _totp(factor).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(factor: SecondFactor, user: User) -> str:
    """The enrolment QR code as inline SVG markup (no script, no style attribute)."""
    out = BytesIO()
    segno.make(provisioning_uri(factor, user), error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        omitsize=True,
        border=4,
        light="#fff",
        scale=1,
        title="QR code to add this account to your authenticator app",
    )
    return out.getvalue().decode()


def spaced_secret(factor: SecondFactor) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    secret = factor.totp_secret
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def check_totp(factor: SecondFactor, code: str) -> bool:
    """True, once, for a code from the app: the step it belongs to is stored, so the same
    code (or an older one) is refused afterwards, even by a second request at the same time."""
    code = _digits(code)
    # isascii too: isdigit accepts other scripts' digits, which compare_digest refuses.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return False
    totp = _totp(factor)
    now = utcnow().timestamp()
    step = totp.timecode(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if candidate <= factor.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            claimed = db.session.execute(
                update(SecondFactor)
                .where(SecondFactor.user_id == factor.user_id)
                .where(SecondFactor.last_step < candidate)
                .values(last_step=candidate)
            )
            return claimed.rowcount == 1
    return False


def _hash_code(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working), in the caller's transaction.
    They are returned to be shown once; only their hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw)))
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True if `code` is one of the user's unused recovery codes; it is used up at once (a
    second use, or a second request at the same moment, is refused)."""
    if len(code) > 40 or not code.isascii():
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .where(RecoveryCode.code_hash == _hash_code(code))
        .where(RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return used.rowcount == 1


def codes_left(user: User) -> int:
    """How many recovery codes the user has not used."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id)
            .where(RecoveryCode.user_id == user.id)
            .where(RecoveryCode.used_at.is_(None))
        ).all()
    )


def check_code(user: User, code: str) -> str | None:
    """'app' or 'recovery' for a right code (committed, so it can't be used again), else None."""
    begin_write()  # the code is checked and used up in one write transaction
    factor = confirmed(user)
    if factor is None:
        db.session.rollback()
        return None
    kind = None
    if check_totp(factor, code):
        kind = "app"
    elif use_recovery_code(user, code):
        kind = "recovery"
    db.session.commit()
    return kind


def finish_enrolment(user: User, code: str) -> list[str] | None:
    """Confirm the pending secret with a code from the app: the factor is on, and the ten
    recovery codes are returned to be shown once. None if the code is wrong."""
    begin_write()
    factor = user.second_factor
    if factor is None or factor.confirmed_at is not None or not check_totp(factor, code):
        db.session.rollback()
        return None
    factor.confirmed_at = utcnow()
    codes = new_recovery_codes(user)
    audit.record("account.second_factor_on", actor=user, subject_user=user)
    db.session.commit()
    return codes


def reset(user: User, by: User) -> bool:
    """Another organiser resets a lost second factor: it and the recovery codes are gone, the
    account's sessions end, and the history says who did it. False if there was none."""
    begin_write()
    if user.second_factor is None:
        db.session.rollback()
        return False
    db.session.delete(user.second_factor)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    from app.auth import sessions

    sessions.end_all(user)
    audit.record("organiser.second_factor_reset", actor=by, subject_user=user)
    db.session.commit()
    return True
