"""Facts of a document: the numbers and names that tell one story from another.

Near-copies of a template (next month's jobless figures, another town's
bushfire) share most words but not their numbers and names; rewrites of one
story share their numbers and names but few words. Both stages use these
facts, and ``same_story_possible`` is the one rule on how facts and publication times
decide whether two documents can be the same story.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from dedup.terms import ENGLISH_STOP_WORDS, english_frequency

# patterns open with the character they need, so the (slow) lookbehind runs only there
NUMBER = re.compile(r"\d(?<![\w.]\d)\d*(?:[.,]\d+)*")
_ONE_PER_BILLION = 1e-9  # wordfreq's zipf_to_freq(0)
_MAX_ZIPF = 8.0  # above the Zipf value of the commonest English word ("the": 7.7)
# a capitalised word after a space that follows anything but a sentence end
NAME_INSIDE_SENTENCE = re.compile(r"[A-Z](?<=[^.!?:\s\"'(\[] [A-Z])(?:[\w'-]*\w)?")


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def _number_counts(text: str) -> Counter[str]:
    """Each number's count; "1,500" and "1500" are one number, "14.3" keeps its
    point (a match always ends with a digit: nothing to strip)."""
    counts = Counter(NUMBER.findall(text))
    for raw in [raw for raw in counts if "," in raw and _THOUSANDS.fullmatch(raw)]:
        counts[raw.replace(",", "")] += counts.pop(raw)
    return counts


def _name_counts(text: str) -> Counter[str]:
    """Each name's count, case-folded, without a possessive "'s" (the matches
    are case-folded together: one call, not one per name)."""
    found = NAME_INSIDE_SENTENCE.findall(text)
    if not found:
        return Counter()
    counts = Counter(("\n".join(found) + "\n").casefold().replace("'s\n", "\n").split("\n")[:-1])
    for key in [key for key in counts if len(key) <= 1 or key in ENGLISH_STOP_WORDS]:
        del counts[key]
    return counts


@dataclass(frozen=True, slots=True)
class Facts:
    """A document's numbers and names, kept as sorted distinct xxh3-64 hashes
    (compact: every document in the window holds one)."""

    numbers: np.ndarray
    names: np.ndarray


@dataclass(frozen=True, slots=True)
class FactTerms:
    """The numbers and names of one document as text, while it is sketched."""

    numbers: list[str]
    names: list[str]
    salient: list[str]
    """The most telling names and numbers (the paraphrase fingerprint)."""


@lru_cache(maxsize=1 << 18)
def rarity(term: str) -> float:
    """How rare ``term`` is in English: 8 minus its Zipf frequency (wordfreq's
    ``zipf_frequency``: the log10 of its frequency per billion words, at least
    one per billion, to two decimals)."""
    return _MAX_ZIPF - round(math.log(english_frequency(term, _ONE_PER_BILLION), 10) + 9, 2)  # as wordfreq computes it


def extract_facts(text: str, salient_terms: int) -> FactTerms:
    """Numbers (thousands separators dropped) and names, case-folded, from
    normalised text (case kept).

    A name is a capitalised word, not a stopword, inside a sentence
    ("Droege", not a sentence-opening "Furthermore"); names are counted where
    they stand inside sentences. The salient terms rank names and numbers by
    count times ``rarity``, so "Droege" and "14.3" outrank "CEO" and "2025".
    """
    numbers = _number_counts(text)
    names = _name_counts(text)
    weighted = {term: count * rarity(term) for term, count in (names + numbers).items()}
    ranked = sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))
    return FactTerms(numbers=sorted(numbers), names=sorted(names), salient=[term for term, _ in ranked[:salient_terms]])


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / min(|a|, |b|) of two sorted distinct hash arrays: a summary
    keeps few of the facts but adds none."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / min(len(a), len(b))


def same_story_possible(
    a: Facts,
    b: Facts,
    published_a: datetime | None,
    published_b: datetime | None,
    window_hours: float,
    min_agreement: float,
    undated_needs_numbers: bool,
) -> bool:
    """Can two similar documents be the same story, given their facts and dates?

    Published within ``window_hours`` of each other: yes, facts may be revised
    (a new death toll, a new quote). Further apart: only if both the numbers
    and the names agree (overlap at least ``min_agreement``; a document without
    any counts as agreeing), since the same template weeks later about another
    place, person or month is another story. Undated: the numbers must agree
    when ``undated_needs_numbers`` (near-copies, where a changed figure is the
    only difference between template stories); otherwise yes.
    """
    numbers_ok = len(a.numbers) == 0 or len(b.numbers) == 0 or overlap(a.numbers, b.numbers) >= min_agreement
    if published_a is None or published_b is None:
        return numbers_ok or not undated_needs_numbers
    if abs((published_a - published_b).total_seconds()) <= window_hours * 3600:
        return True
    names_ok = len(a.names) == 0 or len(b.names) == 0 or overlap(a.names, b.names) >= min_agreement
    return numbers_ok and names_ok
