"""Participants' words (story, updates, thank-you replies) as safe HTML: everything escaped,
paragraphs kept, and http(s) addresses turned into links that pass on no ranking or opener."""

import re

from markupsafe import Markup, escape

# An address runs to the next space, quote or angle bracket; any scheme but http(s) is text.
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
# Sentence punctuation after an address belongs to the sentence, not the address.
_TRAILING = ".,;:!?)]}*"
_BLANK_LINES = re.compile(r"\n\s*\n")


def linkify(text: str) -> Markup:
    """Escape `text` and turn each http(s) address in it into a link."""
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        trailing = len(url) - len(url.rstrip(_TRAILING))
        if trailing:
            url = url[:-trailing]
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow ugc noopener">{0}</a>').format(url))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs: blank lines split paragraphs, single newlines break lines."""
    normalised = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    blocks = [block.strip() for block in _BLANK_LINES.split(normalised) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(
            Markup("<br>\n").join(linkify(line) for line in block.split("\n"))
        )
        for block in blocks
    )
