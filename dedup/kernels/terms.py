"""Term vectors: the words and facts of a document as hashed, weighted counts.

Made once per document while sketching (and kept in the state), so that the
paraphrase stage never tokenises text again. A term's column is its xxh3 hash
(the shingle stage's token hash) modulo ``FEATURES`` (2^22 columns: collisions among a feed's vocabulary are
rare and only merge two terms' counts). Alongside each term the vector keeps
its *background share*: the share of ordinary English documents expected to
hold it, from its frequency in general English (wordfreq), which the
paraphrase weighting adds to the feed's own document frequencies.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from wordfreq import get_frequency_dict, word_frequency

from dedup.arrays import Ragged, is_all_rows
from dedup.kernels.scripts import has_no_space_script, script_family
from dedup.kernels.shingle import hash_tokens

FEATURES = 1 << 22
BACKGROUND_DOC_WORDS = 400


@dataclass(slots=True)
class Terms:
    """The term vectors of many documents: row ``i``'s hashed term ids
    (``columns.row(i)``, uint32, ascending and distinct), with each id's
    sublinear term frequency ``1 + ln(count)`` and background share (share of
    ordinary English documents expected to hold the term) aligned in ``tf``
    and ``background``."""

    columns: Ragged
    tf: np.ndarray
    background: np.ndarray

    def __len__(self) -> int:
        return len(self.columns)

    def take(self, rows: np.ndarray) -> Terms:
        if is_all_rows(rows, len(self)):
            return self
        where, offsets = self.columns.positions(rows)
        return Terms(Ragged(np.asarray(self.columns.values[where]), offsets), np.asarray(self.tf[where]), np.asarray(self.background[where]))

    @staticmethod
    def concat(parts: list[Terms]) -> Terms:
        nonempty = [p for p in parts if len(p)]
        if len(nonempty) == 1:
            return nonempty[0]
        return Terms(Ragged.concat([p.columns for p in parts]), np.concatenate([p.tf for p in parts]), np.concatenate([p.background for p in parts]))


@dataclass(slots=True)
class TermCounts:
    """What IDF needs of a set of documents: how many hold each column, each
    column's background share (the largest, should two terms share the
    column), and how many documents there are. Gathered a block of documents
    at a time (``add``), so that their term occurrences are never all in memory."""

    df: np.ndarray
    """(FEATURES,) int64: documents holding each column."""
    background: np.ndarray
    """(FEATURES,) float32."""
    documents: int = 0

    @staticmethod
    def empty() -> TermCounts:
        return TermCounts(np.zeros(FEATURES, dtype=np.int64), np.zeros(FEATURES, dtype=np.float32))

    def add(self, terms: Terms) -> None:
        """Count the documents of ``terms`` in."""
        columns = terms.columns.values
        self.df += np.bincount(columns, minlength=FEATURES)
        np.maximum.at(self.background, columns, terms.background)
        self.documents += len(terms)


_PLAIN_WORD = re.compile(r"[a-z]+")


@cache
def _english_frequencies() -> dict[str, float]:
    return get_frequency_dict("en", "best")


def english_frequency(term: str, minimum: float = 0.0) -> float:
    """wordfreq's ``word_frequency(term, "en", minimum=minimum)``. A plain
    lower-case ASCII word is its own only token, so it is looked up in
    wordfreq's table directly and rounded as wordfreq rounds (to three
    significant digits): tokenising it, most of wordfreq's cost, would change
    nothing. Anything else goes through wordfreq."""
    if not _PLAIN_WORD.fullmatch(term):
        return word_frequency(term, "en", minimum=minimum)
    found = _english_frequencies().get(term)
    if found is None:
        return minimum
    unrounded = max(found, minimum)
    return round(unrounded, math.floor(-math.log(unrounded, 10)) + 3) if unrounded else 0.0


_SCRIPT_LANGUAGES = (("Hangul", ("ko",)), ("Kana", ("ja",)), ("Han", ("zh", "ja")))
"""The wordfreq lists a token of a script without spaces is looked up in, by
the first of these scripts it holds (Kana before Han: Japanese writes both;
Han alone may be Chinese or Japanese: the higher frequency counts)."""


@cache
def _frequencies(language: str) -> dict[str, float]:
    return get_frequency_dict(language, "best")


def background_frequency(term: str, minimum: float = 0.0) -> float:
    """A term's frequency in general text: ``english_frequency``, except for
    a token of a script written without spaces (a character bigram), which is
    looked up as it is in wordfreq's lists of the languages its script implies
    (Hangul: Korean, Kana: Japanese, Han: Chinese or Japanese; none for Thai), at least
    ``minimum``: wordfreq would segment it first, with tools it does not
    install (jieba, MeCab). A bigram that is no word there counts as rare."""
    if not has_no_space_script(term):
        return english_frequency(term, minimum)
    scripts = {script_family(c) for c in term}
    languages = next((codes for script, codes in _SCRIPT_LANGUAGES if script in scripts), ())
    return max([_frequencies(language).get(term, 0.0) for language in languages] + [minimum])


def background_share(term: str) -> float:
    """Share of ordinary ``BACKGROUND_DOC_WORDS``-word documents expected to
    hold ``term``, from its frequency in general text (``background_frequency``;
    English but for scripts written without spaces)."""
    return -math.expm1(-background_frequency(term) * BACKGROUND_DOC_WORDS)


_SHARES: dict[int, float] = {}
"""Memo of a term's hash (``hash_tokens``) -> its background share (one
wordfreq lookup per term). Keyed by hash, so that a known term's text need not
even be made; cleared when it holds ``_SHARES_LIMIT``."""
_SHARES_LIMIT = 2_000_000


def background_shares(hashes: np.ndarray, term: Callable[[int], str]) -> np.ndarray:
    """``background_share`` of each term (hash ``hashes[k]``, text ``term(k)``, asked only when not memoised), as float32."""
    shares = np.empty(len(hashes), dtype=np.float32)
    for k, key in enumerate(hashes.tolist()):
        share = _SHARES.get(key)
        if share is None:
            if len(_SHARES) >= _SHARES_LIMIT:
                _SHARES.clear()
            share = _SHARES[key] = background_share(term(k))
        shares[k] = share
    return shares


def _english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, read from their module alone:
    importing the ``sklearn`` package first costs most of a second (it loads
    scipy and its own utilities), a large share of a small incremental run."""
    package = importlib.util.find_spec("sklearn")
    assert package is not None and package.submodule_search_locations, "scikit-learn is a dependency"
    path = f"{package.submodule_search_locations[0]}/feature_extraction/_stop_words.py"
    spec = importlib.util.spec_from_file_location("dedup._sklearn_stop_words", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.ENGLISH_STOP_WORDS)


class _HashSet:
    """A fixed set of 64-bit hashes with vectorised membership: each member
    alone in its slot ``(h >> shift) & mask`` of a table (a bit field of the
    hash that no two members share, searched for once), so a lookup is one
    gather and one comparison instead of a binary search."""

    def __init__(self, members: np.ndarray) -> None:
        members = np.unique(members)
        for bits in range(max(int(len(members)).bit_length(), 1), 25):
            for shift in range(0, 65 - bits):
                slots = (members >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
                if len(np.unique(slots)) == len(members):
                    self._shift, self._mask = np.uint64(shift), np.uint64((1 << bits) - 1)
                    # an empty slot holds a value whose own slot is another, so no hash can match it
                    self._table = (~np.arange(1 << bits, dtype=np.uint64) & self._mask) << self._shift
                    self._table[slots] = members
                    return
        raise ValueError("no collision-free bit field for these hashes")

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        return self._table[(hashes >> self._shift) & self._mask] == hashes


ENGLISH_STOP_WORDS = _english_stop_words()
_STOP_HASHES = _HashSet(hash_tokens(sorted(ENGLISH_STOP_WORDS)))


def content_mask(token_hashes: np.ndarray) -> np.ndarray:
    """Which tokens carry content: not English stopwords."""
    return ~_STOP_HASHES.contains(token_hashes)
