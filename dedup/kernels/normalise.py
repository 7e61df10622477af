"""Normalise: canonical Unicode, quotes, dashes and spaces; boilerplate removed.

Case is kept here (names and sentence starts matter to the fact extractor and
the diffs); the shingle stage folds case.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

import xxhash

from dedup.config import NormaliseConfig
from dedup.kernels.scripts import word_gaps

_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
    }
)  # fmt: skip


def normalise_text(text: str) -> str:
    """NFKC, straight quotes, ASCII dashes, one space between words, one
    newline between non-empty lines."""
    if not text.isascii():  # every mapped character is non-ASCII, and NFKC leaves ASCII alone
        text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # most texts are ASCII without control characters: then every line is printable, known without asking each
    printable = text.isascii() and len(text.encode("ascii").translate(None, _ASCII_CONTROLS)) == len(text)
    lines = (_one_space(line, printable) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_ASCII_CONTROLS = bytes(c for c in range(32) if c != ord("\n")) + b"\x7f"


def _one_space(line: str, printable: bool) -> str:
    """``" ".join(line.split())``, without splitting a line that is so already:
    every whitespace character but the ASCII space is unprintable (``printable``:
    the line is known to be)."""
    if (printable or line.isprintable()) and "  " not in line and line[:1] != " " and line[-1:] != " ":
        return line
    return " ".join(line.split())


def line_key(line: str) -> int:
    """Case-folded hash of a line, for counting recurring lines across documents."""
    return xxhash.xxh3_64_intdigest(line.casefold().encode("utf-8", "surrogatepass"))


_NEVER = r"(?!)"


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching a line that matches any of ``patterns``."""
    return re.compile("|".join(f"(?:{p})" for p in patterns) or _NEVER, re.IGNORECASE)


class Boilerplate:
    """Removes boilerplate lines from normalised text.

    Three rules, in order: a line matching ``cut_after_patterns`` in the second
    half of a document ends the article there ("Related Posts", "Previous
    Article" and the headline lists below them); a line matching
    ``drop_line_patterns`` is dropped; a short line (at most
    ``recurring_line_max_words`` words, counted by ``scripts.word_gaps``) that occurs in at least
    ``recurring_line_min_docs`` documents of the feed is dropped. Long recurring
    lines are kept: in a news feed they are the story text of syndicated copies.
    """

    def __init__(self, config: NormaliseConfig, recurring: frozenset[int] = frozenset()) -> None:
        self.config = config
        self.drop = _any_of(config.drop_line_patterns)
        self.cut = _any_of(config.cut_after_patterns)
        self.recurring = recurring

    def short_line_keys(self, text: str) -> set[int]:
        """Keys of this document's short lines (input to ``recurring_lines``)."""
        limit = self.config.recurring_line_max_words
        return {line_key(line) for line in text.split("\n") if word_gaps(line) < limit}

    def strip(self, text: str) -> str:
        lines = text.split("\n")
        half = len(lines) // 2
        for index in range(max(half, 1), len(lines)):
            if self.cut.match(lines[index]):
                lines = lines[:index]
                break
        limit = self.config.recurring_line_max_words
        return "\n".join(
            line
            for line in lines
            if not self.drop.match(line)
            and not (self.recurring and word_gaps(line) < limit and line_key(line) in self.recurring)
        )


def recurring_lines(per_doc_keys: Iterable[set[int]], min_docs: int) -> frozenset[int]:
    """Line keys present in at least ``min_docs`` documents."""
    counts: Counter[int] = Counter()
    for keys in per_doc_keys:
        counts.update(keys)
    return frozenset(key for key, n in counts.items() if n >= min_docs)
