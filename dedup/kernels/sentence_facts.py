"""A sentence's figures and names, and which of them another text lacks: the facts of a variant diff (``diff``).

A figure is a number as a reader quotes it ("$29 billion", "49%",
"28-year-old", an ISO date), keyed by its number; a name is a capitalised word
inside a sentence (``facts.NAME_INSIDE_SENTENCE``), case-folded. A fact of one
text is *missing* from the other when that text holds its number, or each of
its name's words, nowhere (``missing_facts``). Each sentence's content words
(``Sentence.words``) are what ``diff.similarities`` compares.

Every sentence a variant changes is read, so this is the diff's costliest
per-sentence work: the ASCII paths translate bytes at C speed, and facts are
plain tuples.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from functools import partial
from operator import itemgetter
from typing import NamedTuple

from dedup.kernels.facts import NAME_INSIDE_SENTENCE
from dedup.kernels.scripts import NO_SPACE
from dedup.kernels.terms import ENGLISH_STOP_WORDS

_NO_SPACE_CHARACTER = re.compile(rf"[{NO_SPACE}]")
_WORD = re.compile(r"\w+")
_FIGURE_NUMBER = re.compile(r"\d(?<![\w.]\d)\d*(?:[.,]\d+)*(?:(?<=\d{4})-\d\d-\d\d\b)?")
"""A figure's number: ``facts.NUMBER``, or an ISO date (2025-06-13). (It opens
with a digit, so the regex engine scans for digits; a currency sign and a scale
are read around it by ``_CURRENCY`` and ``_SCALE``.)"""
_CURRENCY = re.compile(r"[$\u20ac\u00a3\u00a5\u20b9]\s?$")
_SCALE = re.compile(r"\s?%|\s?(?:percent|per cent|trillion|billion|million|thousand|bn|crore|lakh)\b|-year-old", re.IGNORECASE)
"""What follows a number in a figure as a reader quotes it ("$29 billion", "49%", "28-year-old")."""
_NUMBER_BYTES = bytes(c if chr(c) in "0123456789.,-" else 32 for c in range(256))
_WORD_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 95 else 32 for c in range(256))
"""ASCII bytes to what a text's number and (case-folded) word sets are read from, at C speed."""
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*(?:-\d\d-\d\d\b)?")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
TITLE_CASE_LETTERS = 5
TITLE_CASE_WORDS = 3
"""A sentence is in title case (a headline) when its words of at least
``TITLE_CASE_LETTERS`` letters, ``TITLE_CASE_WORDS`` or more, are all capitalised."""
STEM_CHARS = 6
"""Words compare by their first this many letters, a crude stem ("invest", "investment", "investing")."""


class Sentence:
    """A sentence's comparable parts: content words (or, in a script without
    spaces, character pairs), its figures and names (``_Fact``), and their keys."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found = _facts_in(text)
        self.facts = {fact.key for fact in self.found}
        self._words: set[str] | None = None

    @property
    def words(self) -> set[str]:
        """Its ``_content_terms``, made when first asked (only a sentence compared with others needs them)."""
        if self._words is None:
            text = self.text
            if text.isascii():  # _WORD's words, case-folded, by byte translation (no script without spaces)
                self._words = {word[:STEM_CHARS] for word in text.encode("ascii").translate(_WORD_BYTES).decode("ascii").split() if word not in ENGLISH_STOP_WORDS}
            else:
                self._words = _content_terms(_WORD.findall(text))
        return self._words


class _Fact(NamedTuple):
    """A figure or a name word in a sentence: its key (a figure's number, a
    name's case-folded word) and where it stands."""

    key: str
    start: int
    end: int
    figure: bool


_fact = partial(tuple.__new__, _Fact)
"""``_Fact`` of a tuple, without the Python-level ``__new__`` of a named tuple (called for every figure and name)."""
_START = itemgetter(1)


def _content_terms(words: list[str]) -> set[str]:
    """A sentence's ``_WORD`` words case-folded, less stop words, by their first
    ``STEM_CHARS`` letters; a run of a script without spaces gives its character pairs."""
    folded = "\n".join(words).casefold()
    if not _NO_SPACE_CHARACTER.search(folded):
        return {word[:STEM_CHARS] for word in folded.split("\n") if word not in ENGLISH_STOP_WORDS} if words else set()
    terms = set()
    for word in folded.split("\n"):
        if _NO_SPACE_CHARACTER.search(word):
            terms.update(word[k : k + 2] for k in range(max(1, len(word) - 1)))
        elif word not in ENGLISH_STOP_WORDS:
            terms.add(word[:STEM_CHARS])
    return terms


def _facts_in(text: str) -> list[_Fact]:
    """The figures and names of a sentence, in order.

    A figure (``_FIGURE_NUMBER``) is keyed by its number without thousands separators
    ("1,500" and "1500" are one); a name is a ``facts.NAME_INSIDE_SENTENCE``
    word, case-folded, without a possessive "'s", not a stop word. A sentence
    in title case (``TITLE_CASE_WORDS``) has no names: its capitals are style, not names."""
    found = []
    for m in _FIGURE_NUMBER.finditer(text):
        start, end = m.span()
        currency = _CURRENCY.search(text, max(0, start - 2), start)
        scale = _SCALE.match(text, end)
        found.append(_fact((_plain_number(m[0]), currency.start() if currency else start, scale.end() if scale else end, True)))
    names = list(NAME_INSIDE_SENTENCE.finditer(text))
    if not names or _title_case(text.split()):
        return found
    figures = bool(found)
    for m in names:
        name = m[0]
        key = name.casefold().removesuffix("'s")
        name = name.removesuffix("'s")
        if len(key) > 1 and key not in ENGLISH_STOP_WORDS:
            found.append(_fact((key, m.start(), m.start() + len(name), False)))
    return sorted(found, key=_START) if figures else found


def _title_case(words: list[str]) -> bool:
    """Whether a sentence's words (split at spaces) of ``TITLE_CASE_LETTERS``
    characters or more, ``TITLE_CASE_WORDS`` or more of them, are all capitalised."""
    long_words = 0
    for word in words:
        if len(word) >= TITLE_CASE_LETTERS:
            if not word[0].isupper():
                return False
            long_words += 1
    return long_words >= TITLE_CASE_WORDS


def _plain_number(number: str) -> str:
    return number.replace(",", "") if "," in number and _THOUSANDS.fullmatch(number) else number


class _SpacedWords:
    """An ASCII text's words, case-folded (``_WORD_BYTES``), a space on either
    side of each: whether it holds a word is one substring search, and no set
    of its every word is built for the few names looked up."""

    __slots__ = ("spaced",)

    def __init__(self, spaced: str) -> None:
        self.spaced = spaced

    def __contains__(self, word: object) -> bool:
        return f" {word} " in self.spaced


def text_facts(sentences: list[str]) -> tuple[set[str], Container[str]]:
    """A text's numbers (any run of digits, "dollar14.3" too; thousands
    separators dropped) and words (case-folded), for asking whether a fact is anywhere in it."""
    text = "\n".join(sentences)
    if not text.isascii():
        return {_plain_number(n) for n in _DIGITS.findall(text)}, set(_WORD.findall(text.casefold()))
    data = text.encode("ascii")
    numbers = set()
    for token in data.translate(_NUMBER_BYTES).decode("ascii").split():
        for part in [token] if _ISO_DATE.fullmatch(token) else token.split("-"):
            if part := part.strip(".,"):
                numbers.add(_plain_number(part))
    return numbers, _SpacedWords(f" {data.translate(_WORD_BYTES).decode('ascii')} ")


def _missing(sentence: Sentence, numbers: set[str], words: Container[str]) -> list[str]:
    """The figures and names of ``sentence`` that the other text (its
    ``numbers`` and ``words``) lacks, as written: a figure not among its
    numbers; a name (adjacent name words are one: "Los Alamos") with a word
    not among its words ("AI-about" needs "ai" and "about")."""
    out = []
    for phrase in _phrases(sentence):
        lacking = phrase[0].key not in numbers if phrase[0].figure else any(not _has_words(words, fact.key) for fact in phrase)
        if lacking:
            out.append(sentence.text[phrase[0].start : phrase[-1].end].strip())
    return out


def _has_words(words: Container[str], key: str) -> bool:
    """Whether ``words`` hold each ``_WORD`` of ``key`` (a key of letters and digits alone is one word)."""
    return key in words if key.isalnum() else all(word in words for word in _WORD.findall(key))


def missing_facts(sentences: list[Sentence], at: list[int], other: Callable[[], tuple[set[str], Container[str]]]) -> dict[int, list[str]]:
    """``_missing`` of each of ``sentences`` (by its index ``at``) against the
    other text's ``text_facts`` (``other``: read only if a sentence has a fact)."""
    if not any(sentence.found for sentence in sentences):
        return {}
    numbers, words = other()
    return {k: _missing(sentence, numbers, words) for k, sentence in zip(at, sentences)}


def _phrases(sentence: Sentence) -> list[list[_Fact]]:
    """The sentence's facts as a reader names them: each figure alone, adjacent name words together."""
    phrases: list[list[_Fact]] = []
    for fact in sentence.found:
        previous = phrases[-1][-1] if phrases else None
        if previous and not fact.figure and not previous.figure and fact.start == previous.end + 1 and sentence.text[previous.end] == " ":
            phrases[-1].append(fact)
        else:
            phrases.append([fact])
    return phrases
