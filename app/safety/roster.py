"""The day's roster for organisers: the only export that carries health data and contacts."""

import csv
import io
from dataclasses import dataclass

from flask import Response

from app.models import ItemKind, SafetyRecord
from app.safety.status import PersonStatus, participants, statuses
from app.teams.service import team_names_by_participant
from app.timefmt import format_datetime

COLUMNS = [
    "Name",
    "Emergency contact",
    "Emergency phone",
    "Medical flags",
    "Parent or guardian",
    "Guardian phone",
    "Cleared",
    "Checked in",
    "Team",
]


@dataclass
class RosterRow:
    """One participant's line on the roster."""

    status: PersonStatus
    emergency: str
    emergency_phone: str
    medical: str
    guardian: str
    guardian_phone: str
    checked_in: str
    team: str = ""

    @property
    def record(self) -> SafetyRecord | None:
        """Their check-in record."""
        return self.status.record

    def cells(self) -> list[str]:
        """The row as text, in COLUMNS order."""
        return [
            self.status.user.name,
            self.emergency,
            self.emergency_phone,
            self.medical,
            self.guardian,
            self.guardian_phone,
            "Yes" if self.status.cleared else "No",
            self.checked_in,
            self.team,
        ]


def _answer(status: PersonStatus, kind: ItemKind) -> dict | None:
    state = status.item(kind)
    return state.answer.data if state and state.answer else None


def _medical(status: PersonStatus) -> str:
    if status.consent_withdrawn and _answer(status, ItemKind.MEDICAL) is None:
        return "Consent withdrawn"
    answer = _answer(status, ItemKind.MEDICAL)
    if answer is None:
        return "Not answered"
    conditions = status.medical_conditions
    return "; ".join(conditions) + f" ({answer.get('details', '')})" if conditions else "None"


def row(status: PersonStatus, team: str = "") -> RosterRow:
    """The roster line for one participant (and their team's name, if any)."""
    contact = _answer(status, ItemKind.EMERGENCY_CONTACT) or {}
    guardian_state = status.item(ItemKind.GUARDIAN)
    guardian = _answer(status, ItemKind.GUARDIAN) or {}
    if guardian_state is None or not guardian_state.applicable:
        guardian_text = "Not needed" if status.age is not None else "Age not given"
    elif guardian:
        guardian_text = f"{guardian['name']} ({guardian['relationship']})"
    else:
        guardian_text = "MISSING"
    record = status.record
    checked_in = ""
    if record and record.checked_in_at:
        who = record.checked_in_by.name if record.checked_in_by else ""
        checked_in = f"{format_datetime(record.checked_in_at, '%-I:%M%p')} by {who}"
    return RosterRow(
        status=status,
        emergency=f"{contact['name']} ({contact['relationship']})" if contact else "Not given",
        emergency_phone=contact.get("phone", ""),
        medical=_medical(status),
        guardian=guardian_text,
        guardian_phone=guardian.get("phone", ""),
        checked_in=checked_in,
        team=team,
    )


def rows() -> list[RosterRow]:
    """Everyone taking part, by name."""
    teams = team_names_by_participant()
    return [row(s, teams.get(s.user.id, "")) for s in statuses(participants())]


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_response(roster: list[RosterRow]) -> Response:
    """The roster as a CSV download that is never cached."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in roster:
        writer.writerow([_safe_cell(cell) for cell in line.cells()])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="safety-roster.csv"',
            "Cache-Control": "no-store",
        },
    )
