"""Titles of text files: the headline a reader would see, and a leading date.

A ``.txt`` or ``.md`` article has no title field: its title is taken from its
opening lines. Saved web pages often open with what is not a headline: a
photo caption and its credit ("Gerry Miller|CNBC"), or a date line ("date
2025-06-13 New Delhi: ..."). ``text_title`` skips those, keeps the date as the
article's publication date, and takes the first sentence of the first line
left, cut at a word boundary. The title is always a piece of the text (the
pipeline does not add it to the text again).
"""

from __future__ import annotations

import re
from datetime import datetime

from dedup.kernels.diff import split_sentences

OPENING_LINES = 6
"""Captions, credits and date lines are looked for among this many first lines;
below them a line is the article's own."""
CREDIT_MAX_WORDS = 8
"""A photo credit is short ("Gerry Miller|CNBC", "Photo: AP"); a longer line naming an agency is prose."""
_LABELLED_CREDIT = re.compile(
    r"^(?:photo|image|picture|credit|illustration)s?\b\s*(?:by\b|:)|.*\b(?:getty images|ap photo|shutterstock|file photo)\b", re.IGNORECASE
)
"""A credit line wherever it stands: "Photo: AP", "Image by ...", or naming a picture agency."""
_NAME_CREDIT = re.compile(r"^(?!by\s)[^|/]*\w\s*(?:\||\s/\s)\s*\w[^|/]*$", re.IGNORECASE)
"""A name and an outlet between a bar or a spaced slash ("Gerry Miller|CNBC"):
a credit only after a caption line (a headline may end "| Reuters"; a byline opens with "By")."""
_CAPTION = re.compile(r"^(?:photo|image|picture|caption|pictured)\b\s*[:\-]", re.IGNORECASE)
"""A labelled caption line ("Photo: Wang speaks in Davos")."""
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_PATTERN = rf"(?:{_MONTHS}|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?)"
_LEADING_DATE = re.compile(
    r"^(?:(?:date|dated|published|posted|updated)(?:\s+on)?\s*:?\s*)?"  # an optional label
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"  # an optional weekday
    r"(?:(?P<iso>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)"
    rf"|(?P<mdy>{_MONTH_PATTERN}\s+\d{{1,2}},?\s+\d{{4}})"
    rf"|(?P<dmy>\d{{1,2}}\s+{_MONTH_PATTERN},?\s+\d{{4}}))"
    r"(?:\s*(?:[-|:,]\s*|\s|$))",
    re.IGNORECASE,
)
"""A date opening a line, with an optional label ("date", "Published:") and
weekday, then the rest of the line: ISO 8601 (with an optional time),
"June 13, 2025" or "13 June 2025"."""


def text_title(text: str, max_chars: int) -> tuple[str, str | None]:
    """The title of a text file's ``text`` and the ISO date it opens with (or None).

    Among the first ``OPENING_LINES`` non-empty lines (markdown heading marks
    dropped), credit lines, a caption followed by its credit, labelled captions
    and date lines are skipped; a date opening a line becomes the date, and the
    rest of its line, if any, is the title's line. The title is that line's
    first sentence, cut at the last space within ``max_chars`` (a text without
    spaces, such as Chinese, is cut at ``max_chars``)."""
    lines = [stripped for line in text.split("\n") if (stripped := line.strip().lstrip("#").strip())]
    published: str | None = None
    k = 0
    while k < min(len(lines), OPENING_LINES):
        line = lines[k]
        if _credit(line, after_caption=False) or _CAPTION.match(line):
            k += 1
            continue
        found = _LEADING_DATE.match(line)
        date = _date_of(found) if found else None
        if found and date:
            published = published or date
            rest = line[found.end() :].strip()
            if not rest:
                k += 1
                continue
            line = rest
        elif k + 1 < len(lines) and _credit(lines[k + 1], after_caption=True):  # a caption, then its credit
            k += 2
            continue
        return _cut(split_sentences(line, 1)[0], max_chars), published
    first = lines[k] if k < len(lines) else (lines[0] if lines else "")
    return _cut(split_sentences(first, 1)[0] if first else "", max_chars), published


def _credit(line: str, after_caption: bool) -> bool:
    """Whether ``line`` is a photo credit (a name and an outlet only ``after_caption``)."""
    if len(line.split()) > CREDIT_MAX_WORDS:
        return False
    return bool(_LABELLED_CREDIT.match(line) or (after_caption and _NAME_CREDIT.match(line)))


def _date_of(found: re.Match[str]) -> str | None:
    """The ISO date of a ``_LEADING_DATE`` match (a written date at midnight), or None if it is no calendar date."""
    if found["iso"]:
        try:
            return datetime.fromisoformat(found["iso"].replace("Z", "+00:00")).isoformat()
        except ValueError:
            return None
    written = re.sub(r"[.,]", "", found["mdy"] or found["dmy"]).split()
    day, month, year = (written[1], written[0], written[2]) if found["mdy"] else written
    month = month[:3].capitalize()
    try:
        return datetime.strptime(f"{day} {month} {year}", "%d %b %Y").date().isoformat()
    except ValueError:
        return None


def _cut(title: str, max_chars: int) -> str:
    """``title`` within ``max_chars``, cut after a whole word when it has spaces."""
    if len(title) <= max_chars:
        return title
    head = title[: max_chars + 1]
    return head[: head.rfind(" ")].rstrip() if " " in head else title[:max_chars]
