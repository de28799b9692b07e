"""The picture for someone without a photo: their initials on a colour of their own.

The colour comes from the name, so it is the same on every page and in every share image,
and every colour is dark enough for white initials to pass WCAG AA (4.5:1)."""

import hashlib

from markupsafe import Markup, escape

# Dark, distinct hues; white text on each has a contrast ratio of at least 4.5:1.
PALETTE = (
    "#1a5fb4",
    "#26734d",
    "#a51d2d",
    "#6a3d9a",
    "#9c4a00",
    "#0b6e75",
    "#8a1d6b",
    "#3d5a80",
)


def initials(name: str) -> str:
    """Up to two letters: the first of the first and last words ("Aisha Rahman" -> "AR")."""
    words = [word for word in name.split() if word[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def colour(name: str) -> str:
    """The name's own colour from the palette (stable across processes, unlike hash())."""
    digest = hashlib.sha256(" ".join(name.lower().split()).encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def avatar_svg(name: str, size: int = 48) -> Markup:
    """Inline SVG of the initials, for beside a name; decorative, as the name is beside it."""
    return Markup(
        '<svg class="avatar" width="{size}" height="{size}" viewBox="0 0 48 48" '
        'aria-hidden="true" focusable="false"><rect width="48" height="48" rx="24" '
        'fill="{fill}"/><text x="24" y="24" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-size="19" font-weight="700" font-family="system-ui,sans-serif">{text}</text></svg>'
    ).format(size=size, fill=colour(name), text=escape(initials(name)))
