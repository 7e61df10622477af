"""Term vectors: the words and facts of a document as hashed, weighted counts.

Made once per document while sketching (and kept in the state), so that the
paraphrase stage never tokenises text again. A term's column is its xxh3 hash
modulo ``FEATURES`` (2^22 columns: collisions among a feed's vocabulary are
rare and only merge two terms' counts). Alongside each term the vector keeps
its *background share*: the share of ordinary English documents expected to
hold it, from its frequency in general English (wordfreq), which the
paraphrase weighting adds to the feed's own document frequencies.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from wordfreq import word_frequency

FEATURES = 1 << 22
BACKGROUND_DOC_WORDS = 400


@dataclass(frozen=True, slots=True)
class TermVector:
    columns: np.ndarray
    """uint32 hashed term ids, ascending and distinct."""
    tf: np.ndarray
    """float32 sublinear term frequency, 1 + ln(count)."""
    background: np.ndarray
    """float32 share of ordinary English documents expected to hold the term."""


@lru_cache(maxsize=1 << 19)
def _term_entry(term: str) -> tuple[int, float]:
    column = xxhash.xxh3_64_intdigest(term.encode("utf-8", "surrogatepass")) % FEATURES
    share = -math.expm1(-word_frequency(term, "en") * BACKGROUND_DOC_WORDS)
    return column, share


def term_vector(terms: Iterable[str]) -> TermVector:
    """The vector of a bag of terms."""
    merged: dict[int, list[float]] = {}
    for term, count in Counter(terms).items():
        column, share = _term_entry(term)
        entry = merged.setdefault(column, [0.0, share])
        entry[0] += count
    columns = np.array(sorted(merged), dtype=np.uint32)
    counts = np.array([merged[c][0] for c in columns.tolist()], dtype=np.float32)
    return TermVector(
        columns=columns,
        tf=(1 + np.log(counts)).astype(np.float32) if len(counts) else counts,
        background=np.array([merged[c][1] for c in columns.tolist()], dtype=np.float32),
    )


def content_words(tokens: list[str]) -> list[str]:
    """Tokens that carry content: not stopwords, not single characters."""
    return [t for t in tokens if len(t) > 1 and t not in ENGLISH_STOP_WORDS]
