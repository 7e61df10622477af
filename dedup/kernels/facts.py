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
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from numba import njit

from dedup.arrays import in_byte_range, is_ascii_word_byte, ragged_arange
from dedup.kernels.language import UNDETERMINED, same_language_possible
from dedup.kernels.scripts import NO_SPACE, has_no_space_script
from dedup.kernels.terms import ENGLISH_STOP_WORDS, background_frequency

# patterns open with the character they need, so the (slow) lookbehind runs only there
NUMBER = re.compile(r"\d(?<![\w.]\d)\d*(?:[.,]\d+)*")
FIGURE_MULTIPLIERS = "十百千万萬亿億兆"
"""Chinese and Japanese multipliers a figure may end with (3.5万: 35,000; 120億: 12 billion)."""
CJK_NUMBER = re.compile(rf"\d(?<![^\W{NO_SPACE}]\d)(?<!\.\d)\d*(?:[.,]\d+)*[{FIGURE_MULTIPLIERS}]?")
"""``NUMBER`` for text holding scripts written without spaces: a figure may
follow a character of those scripts (2024年3月: 2024 and 3, where \\w would
hide them) and keeps its multiplier. Full-width digits are ASCII by then
(NFKC, ``normalise``)."""
_ONE_PER_BILLION = 1e-9  # wordfreq's zipf_to_freq(0)
_MAX_ZIPF = 8.0  # above the Zipf value of the commonest English word ("the": 7.7)
# a capitalised word after a space that follows anything but a sentence end
NAME_INSIDE_SENTENCE = re.compile(r"[A-Z](?<=[^.!?:\s\"'(\[] [A-Z])(?:[\w'-]*\w)?")


_THOUSANDS = re.compile(rf"\d{{1,3}}(,\d{{3}})+[{FIGURE_MULTIPLIERS}]?")


def _folded_names(found: list[str]) -> list[str]:
    """``NAME_INSIDE_SENTENCE``'s matches case-folded, without a possessive
    "'s" (one call for them all, not one per name)."""
    return ("\n".join(found) + "\n").casefold().replace("'s\n", "\n").split("\n")[:-1] if found else []


@dataclass(frozen=True, slots=True)
class Facts:
    """A document's numbers and names, kept as sorted distinct xxh3-64 hashes
    (compact: every document in the window holds one)."""

    numbers: np.ndarray
    names: np.ndarray
    language: int = UNDETERMINED
    """Its language (``language.code_of``): documents in two languages are never one story."""


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
    return _MAX_ZIPF - round(math.log(background_frequency(term, _ONE_PER_BILLION), 10) + 9, 2)  # as wordfreq computes it


def extract_facts(text: str, salient_terms: int) -> FactTerms:
    """Numbers (thousands separators dropped) and names, case-folded, from
    normalised text (case kept).

    A name is a capitalised word, not a stopword, inside a sentence
    ("Droege", not a sentence-opening "Furthermore"); names are counted where
    they stand inside sentences. The salient terms rank names and numbers by
    count times ``rarity``, so "Droege" and "14.3" outrank "CEO" and "2025".
    """
    return chunk_facts([text], salient_terms)[0]


def chunk_facts(texts: list[str], salient_terms: int) -> list[FactTerms]:
    """``extract_facts`` of every text, for the whole chunk at once: the
    matches in ASCII texts are found with byte masks (``ascii_name_spans``,
    ``ascii_number_spans``; other texts are scanned with the regexes), then
    counted and ranked together (``_fact_terms``)."""
    plain = np.array([i for i, text in enumerate(texts) if text.isascii()], dtype=np.int64)
    data = np.frombuffer("\n".join(texts[i] for i in plain.tolist()).encode("ascii"), dtype=np.uint8)  # "\n" ends every match
    text_starts = np.cumsum([0] + [len(texts[i]) + 1 for i in plain.tolist()])
    others = np.setdiff1d(np.arange(len(texts)), plain).tolist()
    found: list[tuple[list[str], list[np.ndarray]]] = []
    for pattern, (starts, lengths) in ((NUMBER, ascii_number_spans(data)), (NAME_INSIDE_SENTENCE, ascii_name_spans(data))):
        matches, docs = _span_texts(data, starts, lengths), [plain[np.searchsorted(text_starts, starts, side="right") - 1]]
        for i in others:
            more = (CJK_NUMBER if pattern is NUMBER and has_no_space_script(texts[i]) else pattern).findall(texts[i])
            matches += more
            docs.append(np.full(len(more), i, dtype=np.int64))
        found.append((matches, docs))
    (numbers, number_docs), (names, name_docs) = found
    return _fact_terms(numbers, np.concatenate(number_docs), _folded_names(names), np.concatenate(name_docs), len(texts), salient_terms)


def _fact_terms(numbers: list[str], number_docs: np.ndarray, names: list[str], name_docs: np.ndarray, n: int, salient_terms: int) -> list[FactTerms]:
    """The ``FactTerms`` of ``n`` documents from their ``NUMBER`` matches and
    ``_folded_names`` (each with its document's index).

    "1,500" and "1500" are one number; a letter or a stopword is no name.
    Each term gets an id in the order of its text, so that one sort of
    (document, weight, id) ranks every document's terms as sorting them by
    weight, then text, would; the rules run once per distinct term."""
    plain_number = {raw: raw.replace(",", "") if "," in raw and _THOUSANDS.fullmatch(raw) else raw for raw in set(numbers)}
    is_name = {name: len(name) > 1 and name not in ENGLISH_STOP_WORDS for name in set(names)}
    kept = np.fromiter(map(is_name.__getitem__, names), dtype=bool, count=len(names))
    terms = [plain_number[raw] for raw in numbers] + [name for name, keep in zip(names, kept.tolist()) if keep]
    vocabulary = sorted(set(terms))  # a number opens with a digit, a name with a letter: none is both
    position = {term: k for k, term in enumerate(vocabulary)}
    ids = np.fromiter(map(position.__getitem__, terms), dtype=np.int64, count=len(terms))
    docs = np.concatenate([number_docs, name_docs[kept]]).astype(np.int64)
    size = max(len(vocabulary), 1)
    keys, counts = np.unique(docs * size + ids, return_counts=True)  # by document, then text
    doc, term = keys // size, keys % size
    is_number = np.zeros(len(vocabulary), dtype=bool)
    is_number[ids[: len(numbers)]] = True
    weight = counts * np.array([rarity(t) for t in vocabulary], dtype=np.float64)[term]
    order = np.lexsort((term, -weight, doc))
    starts = np.searchsorted(doc, np.arange(n + 1))
    salient = order[np.arange(len(order)) - starts[doc[order]] < salient_terms]

    def per_document(rows: np.ndarray) -> list[list[str]]:
        texts = [vocabulary[k] for k in term[rows].tolist()]
        bounds = np.searchsorted(doc[rows], np.arange(n + 1)).tolist()
        return [texts[bounds[i] : bounds[i + 1]] for i in range(n)]

    number_rows = np.flatnonzero(is_number[term])
    name_rows = np.flatnonzero(~is_number[term])
    return [
        FactTerms(numbers=a, names=b, salient=c)
        for a, b, c in zip(per_document(number_rows), per_document(name_rows), per_document(salient))
    ]


def _byte_mask(characters: bytes) -> np.ndarray:
    mask = np.zeros(256, dtype=bool)
    mask[np.frombuffer(characters, dtype=np.uint8)] = True
    return mask


_NUMBER_SEPARATOR = _byte_mask(b".,")
_BEFORE_NO_NUMBER = _byte_mask(b"0123456789_.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")  # NUMBER's lookbehind: \w or a point
# NAME_INSIDE_SENTENCE's lookbehind: no name follows one of these and a space (\s: what Python's str regexes count as ASCII whitespace)
_BEFORE_NO_NAME = _byte_mask(b".!?:\"'([ \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
# (tables serve the few positions found; masks over a whole chunk are comparisons)


def ascii_number_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of ``NUMBER.findall``'s matches in ASCII bytes: a
    match opens at a digit not after a word byte or a point, and runs over
    digits and single separators between digits, to a digit. A digit inside
    an earlier match (the 5 of "1,500") shares that match's end, and is
    dropped."""
    digits = np.flatnonzero(in_byte_range(data, "0", 10))
    if len(digits) == 0:
        return digits, digits
    gaps = np.diff(digits)
    joined = (gaps == 1) | ((gaps == 2) & _NUMBER_SEPARATOR[data[digits[:-1] + 1]])  # digit k and digit k + 1 are one run
    run_last = np.flatnonzero(np.r_[~joined, True])  # index (in ``digits``) of each run's last digit
    opens = np.flatnonzero((digits == 0) | ~_BEFORE_NO_NUMBER[data[digits - 1]])
    starts = digits[opens]
    ends = digits[run_last[np.searchsorted(run_last, opens)]] + 1
    first = np.ones(len(starts), dtype=bool)
    first[1:] = ends[:-1] <= starts[1:]
    return starts[first], (ends - starts)[first]


def ascii_name_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of ``NAME_INSIDE_SENTENCE.findall``'s matches in
    ASCII bytes: a match opens at a capital after a space after anything but
    a sentence end, a quote, a bracket or a space, and runs over word bytes,
    apostrophes and hyphens to the last word byte. One compiled pass."""
    return _name_spans(data, _BEFORE_NO_NAME)


@njit(nogil=True, cache=True)
def _name_spans(data, before_no_name):  # type: ignore[no-untyped-def]
    n = len(data)
    starts = np.empty(n // 3 + 1, dtype=np.int64)  # a name takes a byte and the space and another byte before it
    lengths = np.empty(n // 3 + 1, dtype=np.int64)
    count = 0
    i = 2
    while i < n:
        if 65 <= data[i] <= 90 and data[i - 1] == 32 and not before_no_name[data[i - 2]]:
            end = i + 1
            while end < n and (is_ascii_word_byte(data[end]) or data[end] == 39 or data[end] == 45):
                end += 1
            while not is_ascii_word_byte(data[end - 1]):  # the run's last apostrophes and hyphens are not the name's
                end -= 1
            starts[count], lengths[count] = i, end - i
            count += 1
            i = end
        else:
            i += 1
    return starts[:count].copy(), lengths[:count].copy()


def _span_texts(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> list[str]:
    """The ASCII text of each span, decoded at once (the spans hold no "\n")."""
    if len(starts) == 0:
        return []
    within = ragged_arange(lengths)
    joined = np.full(int(lengths.sum()) + len(lengths) - 1, ord("\n"), dtype=np.uint8)
    joined[np.repeat(np.cumsum(lengths + 1) - lengths - 1, lengths) + within] = data[np.repeat(starts, lengths) + within]
    return joined.tobytes().decode("ascii").split("\n")


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
    """Can two similar documents be the same story, given their languages, facts and dates?

    Not in two languages (translation is not matched: a shared figure is no story).
    Published within ``window_hours`` of each other: yes, facts may be revised
    (a new death toll, a new quote). Further apart: only if both the numbers
    and the names agree (overlap at least ``min_agreement``; a document without
    any counts as agreeing), since the same template weeks later about another
    place, person or month is another story. Undated: the numbers must agree
    when ``undated_needs_numbers`` (near-copies, where a changed figure is the
    only difference between template stories); otherwise yes.
    """
    if not same_language_possible(a.language, b.language):
        return False
    numbers_ok = len(a.numbers) == 0 or len(b.numbers) == 0 or overlap(a.numbers, b.numbers) >= min_agreement
    if published_a is None or published_b is None:
        return numbers_ok or not undated_needs_numbers
    if abs((published_a - published_b).total_seconds()) <= window_hours * 3600:
        return True
    names_ok = len(a.names) == 0 or len(b.names) == 0 or overlap(a.names, b.names) >= min_agreement
    return numbers_ok and names_ok
