"""The short reference printed on every sheet of a paper sponsorship form: `P-7K3Q-2` is
series `7K3`, sheet 2, with a check character (`Q`) over both, so a slip of the pen or the
keyboard is caught before a sheet is matched to the wrong participant.

The first letter says whose sheets they are: `P-` a participant's, `T-` a team's (`T-7K3Q-2`).
Codes are unique across both, so a reference typed with the wrong letter finds its series
and is refused for what it is (`sheets.find`), never opened as the other kind's sheet."""

import re
import secrets
from typing import NamedTuple

# No 0/O, 1/I/L, U/V pairs to confuse when handwritten or read aloud.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 3
MAX_SHEETS = 99
PARTICIPANT, TEAM = "P", "T"
KINDS = (PARTICIPANT, TEAM)
_SHAPE = re.compile(rf"([PT])-?([A-Z0-9]{{{CODE_LENGTH}}})([A-Z0-9])-?([0-9]{{1,2}})")


def new_code() -> str:
    """A random series code (the caller makes sure it is not taken)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def check_character(code: str, sheet: int) -> str:
    """Luhn mod N over the code and the sheet number: any one character wrong, or two
    neighbours swapped, gives a different check character."""
    values = [ALPHABET.index(ch) for ch in code] + [int(d) for d in str(sheet)]
    total, factor, n = 0, 2, len(ALPHABET)
    for value in reversed(values):
        addend = factor * value
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def reference(code: str, sheet: int, kind: str = PARTICIPANT) -> str:
    """The reference printed on sheet `sheet` of series `code`: `P-` for a participant's
    sheets, `T-` for a team's."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of sheet {kind!r}")
    return f"{kind}-{code}{check_character(code, sheet)}-{sheet}"


class Parsed(NamedTuple):
    """A reference read back: its series code, sheet number, and whose sheets (P or T)."""

    code: str
    sheet: int
    kind: str = PARTICIPANT

    @property
    def is_team(self) -> bool:
        """A team's sheet (`T-`)."""
        return self.kind == TEAM


class ReferenceError(ValueError):
    """A reference that cannot be read; the message says what to check."""


def parse(typed: str) -> Parsed:
    """(series code, sheet number, kind) from a reference as typed or scanned: case and spaces
    forgiven; a wrong check character refused, the same for team (`T-`) and participant
    (`P-`) sheets."""
    text = re.sub(r"[\s\u2010-\u2015]", "", typed or "").upper()
    match = _SHAPE.fullmatch(text)
    if not match:
        raise ReferenceError(
            "Type the reference printed at the top of the sheet, like P-7K3Q-2 "
            "(or T-7K3Q-2 on a team's sheet)."
        )
    kind, code, check, sheet_text = match.groups()
    sheet = int(sheet_text)
    if any(ch not in ALPHABET for ch in code) or not 1 <= sheet <= MAX_SHEETS:
        raise ReferenceError(
            "That is not a Plunge sheet reference: check each character against the sheet."
        )
    if check != check_character(code, sheet):
        raise ReferenceError(
            "That reference has a typing slip (its check letter does not match): "
            "check each character against the sheet."
        )
    return Parsed(code, sheet, kind)
