"""The short reference printed on every sheet of a paper sponsorship form: `P-7K3Q-2` is
series `7K3`, sheet 2, with a check character (`Q`) over both, so a slip of the pen or the
keyboard is caught before a sheet is matched to the wrong participant."""

import re
import secrets

# No 0/O, 1/I/L, U/V pairs to confuse when handwritten or read aloud.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 3
MAX_SHEETS = 99
_SHAPE = re.compile(rf"P-?([A-Z0-9]{{{CODE_LENGTH}}})([A-Z0-9])-?([0-9]{{1,2}})")


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


def reference(code: str, sheet: int) -> str:
    """The reference printed on sheet `sheet` of series `code`."""
    return f"P-{code}{check_character(code, sheet)}-{sheet}"


class ReferenceError(ValueError):
    """A reference that cannot be read; the message says what to check."""


def parse(typed: str) -> tuple[str, int]:
    """(series code, sheet number) from a reference as typed or scanned: case and spaces
    forgiven; a wrong check character refused."""
    text = re.sub(r"[\s\u2010-\u2015]", "", typed or "").upper()
    match = _SHAPE.fullmatch(text)
    if not match:
        raise ReferenceError("Type the reference printed at the top of the sheet, like P-7K3Q-2.")
    code, check, sheet_text = match.groups()
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
    return code, sheet
