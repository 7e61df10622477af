"""Shingle: word tokens hashed with xxhash, combined into word n-gram hashes.

Each distinct token is hashed once with xxh3-64; a shingle of ``k`` consecutive
words is a position-weighted sum of its token hashes (mod 2^64), mixed with the
MurmurHash3 finalizer and cut to 32 bits. All shingles of a document are
computed at once with numpy: no per-shingle Python loop.
"""

from __future__ import annotations

import re

import numpy as np
import xxhash

from dedup.arrays import distinct

TOKEN = re.compile(r"\w+(?:[.,']\w+)*")
_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                         0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB], dtype=np.uint64)  # fmt: skip


def tokenize(text: str) -> list[str]:
    """Case-folded word and number tokens ("14.3", "1,500" and "don't" stay whole)."""
    return TOKEN.findall(text.casefold())


class _TokenHashes(dict[str, int]):
    """Memo of token -> xxh3-64 (UTF-8): news vocabulary repeats, so most
    lookups are dictionary hits. Bounded: cleared when it grows past a limit."""

    LIMIT = 2_000_000

    def __missing__(self, token: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[token] = xxhash.xxh3_64_intdigest(token.encode("utf-8", "surrogatepass"))
        return value


_TOKEN_HASHES = _TokenHashes()


def hash_tokens(tokens: list[str]) -> np.ndarray:
    """xxh3-64 of each token (UTF-8), as uint64."""
    return np.fromiter(map(_TOKEN_HASHES.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: spreads every input bit over the output."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def shingle_values(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """The 32-bit hash of the ``k``-gram at each position (``n - k + 1`` of them)."""
    combined = np.zeros(max(len(token_hashes) - k + 1, 0), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            combined += token_hashes[offset : len(combined) + offset] * _MULTIPLIERS[offset]
        return (fmix64(combined) >> np.uint64(32)).astype(np.uint32)


def shingle_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """Sorted, distinct 32-bit hashes of the word ``k``-grams.

    A document shorter than ``k`` words gives one shingle of all its words.
    """
    if len(token_hashes) == 0:
        return np.empty(0, dtype=np.uint32)
    return distinct(shingle_values(token_hashes, min(k, len(token_hashes))))
