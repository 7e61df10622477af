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

import math
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from wordfreq import word_frequency

from dedup.shingle import hash_tokens

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


def background_share(term: str) -> float:
    """Share of ordinary ``BACKGROUND_DOC_WORDS``-word English documents
    expected to hold ``term``, from its frequency in general English."""
    return -math.expm1(-word_frequency(term, "en") * BACKGROUND_DOC_WORDS)


class _Shares(dict[str, float]):
    """Memo of term -> background share (one wordfreq lookup per term); bounded."""

    LIMIT = 2_000_000

    def __missing__(self, term: str) -> float:
        if len(self) >= self.LIMIT:
            self.clear()
        share = self[term] = background_share(term)
        return share


_SHARES = _Shares()


def background_shares(terms: list[str]) -> list[float]:
    """``background_share`` of each term, memoised."""
    return list(map(_SHARES.__getitem__, terms))


_STOP_HASHES = np.sort(hash_tokens(sorted(ENGLISH_STOP_WORDS)))


def content_mask(token_hashes: np.ndarray) -> np.ndarray:
    """Which tokens carry content: not English stopwords."""
    found = np.minimum(np.searchsorted(_STOP_HASHES, token_hashes), len(_STOP_HASHES) - 1)
    return _STOP_HASHES[found] != token_hashes
