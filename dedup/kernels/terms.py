"""Term vectors: the words and facts of a document as hashed, weighted counts.

Made once per document while sketching (and kept in the state), so that the
paraphrase stage never tokenises text again. A term's column is its xxh3 hash
(the shingle stage's token hash) modulo ``config.TERM_FEATURES``. Alongside each term the vector keeps
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
from wordfreq import available_languages, cB_to_freq, get_frequency_dict, get_frequency_list, top_n_list, word_frequency

from dedup.arrays import Ragged, is_all_rows
from dedup.config import BACKGROUND_DOC_WORDS, TERM_FEATURES
from dedup.kernels.scripts import has_no_space_script, script_family
from dedup.kernels.shingle import hash_tokens


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
    """(TERM_FEATURES,) int64: documents holding each column."""
    background: np.ndarray
    """(TERM_FEATURES,) float32."""
    documents: int = 0

    @staticmethod
    def empty() -> TermCounts:
        return TermCounts(np.zeros(TERM_FEATURES, dtype=np.int64), np.zeros(TERM_FEATURES, dtype=np.float32))

    def add(self, terms: Terms) -> None:
        """Count the documents of ``terms`` in."""
        columns = terms.columns.values
        if len(columns) < TERM_FEATURES // 64:  # (a bincount writes all TERM_FEATURES counts: a small run's few are added where they fall)
            np.add.at(self.df, columns, 1)
        else:
            self.df += np.bincount(columns, minlength=TERM_FEATURES)
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


def _listed_frequencies(wanted: set[str], language: str) -> dict[str, float]:
    """wordfreq's frequency in ``language`` of each of ``wanted`` its list
    holds, as ``get_frequency_dict`` gives it (a word in two buckets: the
    later), found by one pass over the list's buckets: building that whole
    table takes half a second a language, a pass over it a thirtieth."""
    found: dict[str, float] = {}
    for index, bucket in enumerate(get_frequency_list(language, "best")):
        for word in wanted.intersection(bucket):
            found[word] = cB_to_freq(-index)
    return found


_WORDFREQ_LANGUAGES = frozenset(available_languages("best"))


def wordfreq_language(language: str | None) -> str | None:
    """``language`` (ISO 639) when wordfreq has a word list for it other than
    English's; None for English, an undetermined language or one it lacks,
    which are weighed as English."""
    return language if language in _WORDFREQ_LANGUAGES and language != "en" else None


def _lists_of(term: str, listed: str | None) -> tuple[str, ...] | None:
    """The wordfreq lists ``background_frequencies`` looks ``term`` up in (None: English's, by ``english_frequency``)."""
    if not has_no_space_script(term):
        return (listed,) if listed else None
    if any(c.isdigit() for c in term):  # a figure (3.5万) is in no word list
        return ()
    scripts = {script_family(c) for c in term}
    return next((codes for script, codes in _SCRIPT_LANGUAGES if script in scripts), ())


def background_frequencies(terms: list[str], language: str | None = None, minimum: float = 0.0) -> list[float]:
    """Each term's frequency in general text of ``language`` (a document's,
    ISO 639), at least ``minimum``: ``english_frequency`` for English, an
    undetermined language or one wordfreq has no list for; else its frequency
    in wordfreq's list of that language. A token of a script written without
    spaces (a character bigram) is looked up as it is in the lists of the
    languages its script implies, whatever the document's (Hangul: Korean,
    Kana: Japanese, Han: Chinese or Japanese; none for Thai): wordfreq would
    segment it first, with tools it does not install (jieba, MeCab). A
    bigram that is no word there, or a figure (3.5万), counts as rare. The
    lists are read once for all of ``terms``."""
    listed = wordfreq_language(language)
    lists = [_lists_of(term, listed) for term in terms]
    wanted: dict[str, set[str]] = {}
    for term, codes in zip(terms, lists):
        for code in codes or ():
            wanted.setdefault(code, set()).add(term)
    found = {code: _listed_frequencies(words, code) for code, words in wanted.items()}
    return [
        english_frequency(term, minimum) if codes is None else max([found[code].get(term, 0.0) for code in codes] + [minimum])
        for term, codes in zip(terms, lists)
    ]


def background_frequency(term: str, minimum: float = 0.0, language: str | None = None) -> float:
    """``background_frequencies`` of one term (a term of a script without
    spaces costs a pass over a word list: for many, ask for them at once)."""
    return background_frequencies([term], language, minimum)[0]


def background_share(term: str, language: str | None = None) -> float:
    """Share of ordinary ``BACKGROUND_DOC_WORDS``-word documents of
    ``language`` expected to hold ``term``, from its frequency in general
    text (``background_frequency``)."""
    return _share(background_frequency(term, language=language))


def _share(frequency: float) -> float:
    """Share of ``BACKGROUND_DOC_WORDS``-word documents expected to hold a
    word of this frequency: 1 - exp(-frequency * words)."""
    return -math.expm1(-frequency * BACKGROUND_DOC_WORDS)


_SHARES: dict[str | None, dict[int, float]] = {}
"""Memo, per ``wordfreq_language``, of a term's hash (``hash_tokens``) -> its
background share (one wordfreq lookup per term). Keyed by hash, so that a
known term's text need not even be made; a language's is cleared when it
holds ``_SHARES_LIMIT``."""
_SHARES_LIMIT = 2_000_000


def background_shares(hashes: np.ndarray, term: Callable[[int], str], language: str | None = None) -> np.ndarray:
    """``background_share`` in ``language`` of each term (hash ``hashes[k]``,
    text ``term(k)``, asked only when not memoised), as float32; the terms
    not memoised are looked up at once (``background_frequencies``)."""
    listed = wordfreq_language(language)
    memo = _SHARES.setdefault(listed, {})
    keys = hashes.tolist()
    missing = [k for k, key in enumerate(keys) if key not in memo]
    if missing:
        if len(memo) + len(missing) > _SHARES_LIMIT:
            memo.clear()
            missing = list(range(len(keys)))
        texts = [term(k) for k in missing]
        for k, frequency in zip(missing, background_frequencies(texts, listed)):
            memo[keys[k]] = _share(frequency)
    return np.fromiter(map(memo.__getitem__, keys), dtype=np.float32, count=len(keys))


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


@cache
def stop_words(language: str | None, count: int) -> frozenset[str]:
    """The stop words of ``language`` (ISO 639): scikit-learn's English list
    for English, an undetermined language or one wordfreq has no list for;
    else the words among the ``count`` most frequent entries of wordfreq's
    list of it (not its digits), which function words lead (die, der, und;
    в, и, на; في, من, على)."""
    listed = wordfreq_language(language)
    return frozenset(w for w in top_n_list(listed, count) if w.isalpha()) if listed else ENGLISH_STOP_WORDS


@cache
def _stop_hashes(language: str | None, count: int) -> _HashSet:
    return _HashSet(hash_tokens(sorted(stop_words(language, count))))


def language_content_mask(english: np.ndarray, token_hashes: np.ndarray, languages: list[str | None], token_language: np.ndarray, count: int) -> np.ndarray:
    """Which tokens carry content, each by the stop words (``stop_words(L, count)``)
    of its document's language ``languages[token_language[k]]``, given
    ``english``, the ``content_mask`` of all (kept where the language is weighed as English)."""
    mask = english
    for k, language in enumerate(languages):
        listed = wordfreq_language(language)
        if listed:
            rows = np.flatnonzero(token_language == k)
            mask = mask.copy() if mask is english else mask
            mask[rows] = ~_stop_hashes(listed, count).contains(token_hashes[rows])
    return mask
