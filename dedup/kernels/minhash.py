"""MinHash signatures, compiled, bit-for-bit those of datasketch's ``affine32`` scheme.

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
from numba import njit

SCHEME = "affine32"


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
        out = np.full((len(offsets) - 1, self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        _fill_signatures(fmix32(values.astype(np.uint32, copy=False)), offsets.astype(np.int64), self._a, self._b, out)
        return out


@njit(nogil=True, cache=True)
def _fill_signatures(mixed, offsets, a, b, out):  # type: ignore[no-untyped-def]
    """Row ``i`` of ``out``: the minimum of ``(a * m + b) mod 2^32`` over the
    mixed hashes ``m`` of set ``i``, each permutation a column (the loop over
    them compiles to vector instructions)."""
    for row in range(len(offsets) - 1):
        signature = out[row]
        for k in range(offsets[row], offsets[row + 1]):
            value = np.uint64(mixed[k])
            for p in range(len(a)):
                signature[p] = min(signature[p], np.uint32((np.uint64(a[p]) * value + np.uint64(b[p])) & np.uint64(0xFFFFFFFF)))
