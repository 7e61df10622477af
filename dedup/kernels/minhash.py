"""MinHash signatures, vectorised, bit-for-bit those of datasketch's ``affine32`` scheme.

For a set of 32-bit element hashes ``h`` and ``P`` permutations ``(a_i, b_i)``
(``a_i`` odd, drawn by datasketch from ``numpy.random.RandomState(seed)``), the
signature is ``s_i = min over h of (a_i * fmix32(h) + b_i) mod 2^32``. Two
signatures agree at position ``i`` with probability equal to the Jaccard
similarity of the sets, so the share of equal positions estimates it with
standard error ``sqrt(J(1-J)/P)``.

Because the permutations are datasketch's, drawn as it draws them, a
signature built here can be wrapped as
``datasketch.LeanMinHash(seed=seed, hashvalues=sig, scheme="affine32")`` and
compared or indexed with datasketch directly (tested).
"""

from __future__ import annotations

import numpy as np

SCHEME = "affine32"
_DOCS_PER_BLOCK = 16  # documents per vectorised block: keeps the (P x elements) buffer within the CPU cache


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch pre-mixes element hashes with it)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``datasketch.MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations``:
    odd multipliers ``a`` and offsets ``b`` from ``numpy.random.RandomState(seed)``,
    drawn as datasketch draws them. Importing datasketch would cost a run
    0.2 s (it loads scipy.integrate), a twentieth of a 10,000-document run."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class MinHasher:
    """Computes ``num_perm``-position signatures for many sets at once."""

    def __init__(self, num_perm: int, seed: int) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self._a, self._b = permutations(num_perm, seed)

    def signatures(self, sets: list[np.ndarray]) -> np.ndarray:
        """Signatures of ``sets`` (each an array of uint32 element hashes) as a
        ``(len(sets), num_perm)`` uint32 array. An empty set gives all 2^32-1,
        as an empty datasketch MinHash does."""
        lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        values = np.concatenate(sets) if sets else np.empty(0, np.uint32)
        return self.signatures_of(values, np.concatenate([[0], np.cumsum(lengths)]))

    def signatures_of(self, values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``signatures`` of the sets ``values[offsets[i]:offsets[i + 1]]``."""
        n = len(offsets) - 1
        out = np.full((self.num_perm, n), np.iinfo(np.uint32).max, dtype=np.uint32)
        lengths = np.diff(offsets)
        filled = np.flatnonzero(lengths)
        if len(filled) == 0:
            return out.T.copy()
        lengths, starts = lengths[filled], offsets[filled] - offsets[filled[0]]
        ends = starts + lengths
        mixed = fmix32(values[offsets[filled[0]] : offsets[filled[-1] + 1]].astype(np.uint32, copy=False))
        a, b = self._a[:, None], self._b[:, None]
        blocks = [(first, min(first + _DOCS_PER_BLOCK, len(filled))) for first in range(0, len(filled), _DOCS_PER_BLOCK)]
        # one buffer for every block: a fresh (num_perm x elements) temporary per block costs more in page faults than in arithmetic
        buffer = np.empty((self.num_perm, max(int(ends[last - 1] - starts[first]) for first, last in blocks)), dtype=np.uint32)
        with np.errstate(over="ignore"):
            for first, last in blocks:
                begin, end = starts[first], ends[last - 1]
                block = buffer[:, : end - begin]  # (num_perm, elements): rows stay contiguous for reduceat
                np.multiply(a, mixed[None, begin:end], out=block)
                block += b
                out[:, filled[first:last]] = np.minimum.reduceat(block, starts[first:last] - begin, axis=1)
        return out.T.copy()
