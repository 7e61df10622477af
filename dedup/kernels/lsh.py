"""LSH candidates: banded MinHash signatures, vectorised.

A signature of ``P`` positions is cut into ``b`` bands of ``r`` rows
(``b * r <= P``). Two documents whose sets have Jaccard similarity ``s`` share at
least one band with probability ``1 - (1 - s^r)^b``, an S-curve whose steepest
point lies near ``(1/b)^(1/r)``. Given a target threshold ``t``, ``(b, r)`` are
chosen as datasketch's ``MinHashLSH`` chooses them: the pair minimising the
false-positive mass ``integral_0^t P(s) ds`` plus the false-negative mass
``integral_t^1 (1 - P(s)) ds`` (equal weights). ``P`` is a polynomial of
degree ``b * r <= P``, so Gauss-Legendre quadrature with ``P // 2 + 1`` nodes
integrates it exactly, for every ``(b, r)`` at once (datasketch integrates
each with scipy's ``quad``; importing it costs a run 0.2 s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from dedup.arrays import distinct_of_sorted, ragged_arange
from dedup.kernels.shingle import fmix64


def lsh_params(threshold: float, num_perm: int, bands: int | None = None, rows: int | None = None) -> tuple[int, int]:
    """``(bands, rows)`` for ``threshold``; explicit values override the derivation."""
    if bands is not None and rows is not None:
        if bands * rows > num_perm:
            raise ValueError(f"bands * rows = {bands * rows} exceeds num_perm = {num_perm}")
        return bands, rows
    best_bands, best_rows = _optimal_params(threshold, num_perm)
    if bands is not None:
        return bands, max(1, num_perm // bands)
    if rows is not None:
        return max(1, num_perm // rows), rows
    return best_bands, best_rows


def _optimal_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """The ``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the
    false-positive plus false-negative mass (the first, by bands then rows, on a tie)."""
    bands, rows = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=np.float64).T
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)  # exact for polynomials of degree up to num_perm

    def integral(probability: Callable[[np.ndarray], np.ndarray], low: float, high: float) -> np.ndarray:
        s = (high - low) / 2 * nodes + (high + low) / 2
        return (high - low) / 2 * (probability(s[None, :]) @ weights)

    def collision(s: np.ndarray) -> np.ndarray:  # P(s) of every (bands, rows), one row each
        return 1 - (1 - s ** rows[:, None]) ** bands[:, None]

    error = 0.5 * integral(collision, 0.0, threshold) + 0.5 * integral(lambda s: 1 - collision(s), threshold, 1.0)
    best = int(np.argmin(error))
    return int(bands[best]), int(rows[best])


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 keys, one hash per band of each signature."""
    n = signatures.shape[0]
    keys = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            key = np.full(n, band, dtype=np.uint64)
            for col in signatures[:, band * rows : (band + 1) * rows].T.astype(np.uint64):
                key = fmix64(key * np.uint64(0x100000001B3) + col)
            keys[:, band] = key
    return keys


BlockMap = Callable[[Callable[[int], Any], Sequence[int]], list[Any]]
"""Runs a function over blocks of work (bands, blocks of pairs), giving
their results in order: an engine's ``map_threads`` (numpy's sorts and
gathers, and the compiled kernels, release the GIL); the kernel holds no pool."""


def one_by_one(fn: Callable[[int], Any], blocks: Sequence[int]) -> list[Any]:
    """A ``BlockMap`` in this thread."""
    return [fn(block) for block in blocks]


def candidate_pairs(keys: np.ndarray, max_bucket: int, only: np.ndarray | None = None) -> np.ndarray:
    """``Buckets(keys, max_bucket).pairs(only)``."""
    return Buckets(keys, max_bucket).pairs(only)


class Buckets:
    """The LSH buckets of ``(n, bands)`` keys: rows sharing a band's key.

    Sorted once; ``pairs`` can then be asked for different rows."""

    def __init__(self, keys: np.ndarray, max_bucket: int, min_shared_bands: int = 1, map_blocks: BlockMap = one_by_one) -> None:
        self.n, self.max_bucket, self.min_shared_bands, self._map_blocks = keys.shape[0], max_bucket, min_shared_bands, map_blocks
        self._bands: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = map_blocks(lambda band: _band_buckets(keys[:, band]), range(keys.shape[1]))

    def pairs(self, only: np.ndarray | None = None) -> np.ndarray:
        """Distinct pairs ``(i, j)``, ``i < j``, of rows sharing a bucket.

        Within a bucket larger than ``max_bucket`` only pairs among its first
        ``max_bucket`` rows (plus each later row with the first) are taken.
        When ``only`` (a boolean mask) is given, pairs where neither row is
        marked are left out: an incremental run pairs new documents, not old
        with old. With ``min_shared_bands`` above 1, only pairs sharing a
        bucket in that many bands are taken: with ``r`` rows a band, a pair of
        Jaccard ``s`` shares at least ``k`` of ``b`` bands with probability
        ``1 - sum_{i<k} C(b, i) p^i (1 - p)^(b - i)``, ``p = s^r``, a steeper
        S-curve than one shared band gives (``1 - (1 - p)^b``): with one row
        a band, two documents sharing one common term of thirty-two rarely
        share five bands, two sharing a third of their facts mostly do.
        """
        # a pair (i, j), i < j, as i * n + j: half the memory of the pair, and sorting finds the repeats;
        # each band's codes are sorted on the threads, then joined a range of codes at a time (_found_between)
        codes: list[np.ndarray] = self._map_blocks(lambda band: self._band_codes(band, only), range(len(self._bands)))
        bounds = _code_ranges(codes, self.n)
        found = self._map_blocks(partial(self._found_between, codes, bounds), range(len(bounds) - 1))
        del codes  # each large array freed as soon as the next is made: the pairs are a copy of them
        joined = np.concatenate(found)
        del found
        return _pairs_of(joined, self.n)

    def _found_between(self, codes: list[np.ndarray], bounds: list[int], k: int) -> np.ndarray:
        """The pair codes from ``bounds[k]`` to ``bounds[k + 1] - 1`` shared in at least
        ``min_shared_bands`` bands, sorted: every band's codes in the range, a
        stable sort of them (a merge of sorted runs), then the distinct or repeated ones."""
        low, high = bounds[k], bounds[k + 1]
        every = np.concatenate([band[np.searchsorted(band, low) : np.searchsorted(band, high)] for band in codes])
        every.sort(kind="stable")
        return distinct_of_sorted(every) if self.min_shared_bands == 1 else _repeated(every, self.min_shared_bands)

    def _band_codes(self, band: int, only: np.ndarray | None) -> np.ndarray:
        """The pair codes of one band's buckets (``pairs``)."""
        order, starts, sizes = self._bands[band]
        if only is not None and len(starts):  # skip buckets without a marked row before enumerating their pairs
            running = np.r_[0, np.cumsum(only[order])]
            marked = running[starts + sizes] > running[starts]
            starts, sizes = starts[marked], sizes[marked]
        first, second = _bucket_pairs(order, starts, sizes, self.max_bucket)
        low, high = np.minimum(first, second), np.maximum(first, second)
        if only is not None:
            keep = only[low] | only[high]
            low, high = low[keep], high[keep]
        codes = low * self.n + high
        codes.sort()
        return codes


CODE_RANGES = 16
"""Ranges of pair codes ``Buckets.pairs`` joins apart, side by side: the
pairs of every band, repeats included, are the stage's largest arrays, and
joined whole they would take their size again, and half of it for the sort's
buffer; joined a range at a time, about ``1 / CODE_RANGES`` of it a thread."""


def _code_ranges(codes: list[np.ndarray], n: int) -> list[int]:
    """Bounds of up to ``CODE_RANGES`` ranges of pair codes (each band's
    sorted ``codes``, all below ``n * n``) holding about as many codes each:
    the largest band's codes at even steps."""
    largest = max(codes, key=len, default=np.empty(0, dtype=np.int64))
    steps = largest[(np.arange(1, CODE_RANGES) * len(largest)) // CODE_RANGES] if len(largest) else largest
    return [0, *np.unique(steps).tolist(), n * n]


def _band_buckets(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One band's buckets of more than one row: the rows in order of their keys
    (each bucket's in row order), where each bucket starts, and its size."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    return order, starts[sizes > 1], sizes[sizes > 1]


def distinct_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """The distinct rows of ``(i, j)`` pairs of indices below ``n``, sorted."""
    return _pairs_of(_sorted_distinct(pairs[:, 0].astype(np.int64) * n + pairs[:, 1]), n)


def pairs_not_in(pairs: np.ndarray, sorted_pairs: np.ndarray, n: int) -> np.ndarray:
    """The rows of ``pairs`` not among ``sorted_pairs`` (distinct, sorted by
    ``i * n + j``, as ``Buckets.pairs`` and ``distinct_pairs`` give them): a
    binary search of each code, many times faster than hashing both sides."""
    codes = pairs[:, 0].astype(np.int64) * n + pairs[:, 1]
    known = sorted_pairs[:, 0].astype(np.int64) * n + sorted_pairs[:, 1]
    if len(known) == 0:
        return pairs
    found = known[np.minimum(np.searchsorted(known, codes), len(known) - 1)] == codes
    return pairs[~found]


def _sorted_distinct(codes: np.ndarray) -> np.ndarray:
    """``distinct(codes)``, sorting ``codes`` in place (a fresh array: no copy of what may be the stage's largest)."""
    codes.sort()
    return distinct_of_sorted(codes)


def _repeated(codes: np.ndarray, times: int) -> np.ndarray:
    """The distinct values found at least ``times`` times in sorted ``codes``
    (``np.unique`` with counts would copy the stage's largest array first)."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.empty(0, dtype=np.int64)
    counts = np.diff(np.r_[starts, len(codes)])
    return codes[starts[counts >= times]]


def _pairs_of(codes: np.ndarray, n: int) -> np.ndarray:
    """The pairs of ``codes`` (``i * n + j``), 32-bit where the indices fit (half the memory of tens of millions of pairs)."""
    pairs = np.empty((len(codes), 2), dtype=np.int32 if n < 2**31 else np.int64)
    np.floor_divide(codes, n, out=pairs[:, 0], casting="unsafe")  # written straight into the column: no 64-bit temporaries
    np.remainder(codes, n, out=pairs[:, 1], casting="unsafe")
    return pairs


def _bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (as two arrays of rows) of each bucket ``order[start : start + size]``: all pairs
    among its first ``max_bucket`` rows, then each later row with the first."""
    heads = np.minimum(sizes, max_bucket)
    # every row at position p < head pairs with the rows at p+1 .. head-1
    position = ragged_arange(heads)
    first = np.repeat(starts, heads) + position
    partners = np.repeat(heads, heads) - 1 - position
    second = np.repeat(first + 1, partners) + ragged_arange(partners)
    capped = sizes > max_bucket
    rest = sizes[capped] - max_bucket
    tail_first = np.repeat(starts[capped], rest)
    tail_second = np.repeat(starts[capped] + max_bucket, rest) + ragged_arange(rest)
    return order[np.r_[np.repeat(first, partners), tail_first]].astype(np.int64), order[np.r_[second, tail_second]].astype(np.int64)
