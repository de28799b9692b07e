"""Readability of a page as people read it: the visible text of <main>, tags stripped, each
heading, paragraph, list item, label, legend and button read as its own sentence (a heading
or a label with no full stop is still one idea, not the start of a long sentence)."""

from dataclasses import dataclass
from html.parser import HTMLParser

import textstat

# Elements that start a new piece of text.
BLOCKS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "li",
    "label",
    "legend",
    "button",
    "summary",
    "th",
    "td",
    "dt",
    "dd",
    "caption",
    "div",
    "section",
    "article",
    "form",
    "fieldset",
    "ul",
    "option",
}
HIDDEN = {"script", "style", "template", "select"}


class _MainText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth_main = 0
        self.hidden = 0
        self.pieces: list[str] = []
        self.current: list[str] = []

    def _flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.pieces.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "main":
            self.depth_main += 1
        if tag in HIDDEN or "visually-hidden" in (attributes.get("class") or ""):
            self.hidden += 1 if tag not in ("input", "br") else 0
        if tag in BLOCKS or tag == "br":
            self._flush()

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self._flush()
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag == "main":
            self._flush()
            self.depth_main -= 1

    def handle_data(self, data):
        if self.depth_main and not self.hidden:
            self.current.append(data)


def visible_text(html: str) -> list[str]:
    """The pieces of text in <main>, in order."""
    parser = _MainText()
    parser.feed(html)
    parser._flush()
    return parser.pieces


def as_sentences(pieces: list[str]) -> str:
    """The pieces as prose: a piece with no closing punctuation gets a full stop."""
    return " ".join(p if p[-1] in ".!?:" else p + "." for p in pieces)


@dataclass(frozen=True)
class Scores:
    """What the test holds a page to."""

    reading_ease: float
    words_per_sentence: float
    longest_sentence: int
    longest: str

    def __str__(self) -> str:
        return (
            f"Flesch reading ease {self.reading_ease:.0f}, {self.words_per_sentence:.1f} words a "
            f"sentence, longest {self.longest_sentence} words: {self.longest!r}"
        )


def scores(html: str) -> Scores:
    """Flesch reading ease, average and longest sentence length of a page's visible text."""
    text = as_sentences(visible_text(html))
    sentences = [s for s in _split(text) if s.strip()]
    lengths = [(textstat.lexicon_count(s), s) for s in sentences]
    longest = max(lengths) if lengths else (0, "")
    return Scores(
        reading_ease=textstat.flesch_reading_ease(text),
        words_per_sentence=textstat.words_per_sentence(text),
        longest_sentence=longest[0],
        longest=longest[1],
    )


def _split(text: str) -> list[str]:
    import re

    return re.split(r"(?<=[.!?])\s+", text)
