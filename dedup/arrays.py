"""Array helpers the stages share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by sorting: ``np.unique`` gives the same, but
    numpy 2's hash-based path for it is many times slower on large integer
    arrays with few repeats (shingles, pair codes)."""
    return distinct_of_sorted(np.sort(values))


def distinct_of_sorted(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of an already sorted array (sort a large fresh one
    in place, then call this: no second copy)."""
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def distinct_indices(indices: np.ndarray) -> np.ndarray:
    """``distinct(indices)`` of non-negative integers, as int64. Many indices
    (the documents of tens of millions of pairs) are marked in a mask of
    ``max + 1`` flags, in linear time: twenty times faster than sorting them."""
    if len(indices) == 0:
        return np.empty(0, dtype=np.int64)
    largest = int(indices.max())
    if len(indices) < largest // 8:  # few: the mask would cost more than a sort
        return distinct(indices).astype(np.int64, copy=False)
    marked = np.zeros(largest + 1, dtype=bool)
    marked[indices] = True
    return np.flatnonzero(marked)


def first_occurrences(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group of each value, index of each group's first value): the groups
    are the distinct values numbered in order of first appearance, so
    ``values[first][group] == values``. ``np.unique(values, return_index=True,
    return_inverse=True)`` gives the same in sorted order, by sorting every
    value; a hash table does it in one pass (many values, few distinct: a
    chunk's term hashes)."""
    return _first_occurrences(values.astype(np.uint64, copy=False))


@njit(nogil=True, cache=True)
def _first_occurrences(values):  # type: ignore[no-untyped-def]
    group = np.empty(len(values), dtype=np.int64)
    first = np.empty(len(values), dtype=np.int64)
    bits = 10
    slots = np.full(1 << bits, -1, dtype=np.int64)  # the group in each slot, -1: empty; open addressing, linear probing
    count = 0
    for k in range(len(values)):
        if 2 * (count + 1) > len(slots):  # kept at most half full: probes stay short
            bits += 1
            slots = np.full(1 << bits, -1, dtype=np.int64)
            for g in range(count):
                slot = _slot(values[first[g]], bits)
                while slots[slot] >= 0:
                    slot = (slot + 1) & (len(slots) - 1)
                slots[slot] = g
        value = values[k]
        slot = _slot(value, bits)
        while slots[slot] >= 0 and values[first[slots[slot]]] != value:
            slot = (slot + 1) & (len(slots) - 1)
        if slots[slot] < 0:
            slots[slot] = count
            first[count] = k
            count += 1
        group[k] = slots[slot]
    return group, first[:count].copy()


@njit(inline="always")
def _slot(value: np.uint64, bits: int) -> int:
    """Fibonacci hashing: the top ``bits`` bits of the value times 2^64 / phi (any values, not only well-mixed hashes)."""
    return np.int64((value * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


def index_in(values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The position in ``values`` (distinct non-negative integers) of each of
    ``queries`` (all among them), by a lookup table: a binary search of many
    unsorted queries in a large array is many times slower. Positions are
    32-bit where they fit (half the memory of millions of pairs)."""
    if len(values) == 0:
        return np.zeros(queries.shape, dtype=np.int64)
    table = np.empty(int(values.max()) + 1, dtype=np.int32 if len(values) < 2**31 else np.int64)
    table[values] = np.arange(len(values))
    return table[queries]


def ragged_arange(lengths: np.ndarray) -> np.ndarray:
    """``0 .. n-1`` for each ``n`` in ``lengths``, concatenated."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def in_byte_range(data: np.ndarray, first: str, count: int) -> np.ndarray:
    """Which bytes are one of the ``count`` characters from ``first`` on.
    Masks over the bytes of a chunk of texts are made of comparisons: a table
    lookup per byte costs ten times more."""
    return (data - np.uint8(ord(first))) < np.uint8(count)  # wraps below ``first``


def ascii_word_bytes(data: np.ndarray) -> np.ndarray:
    """Which ASCII bytes a str regex's ``\\w`` matches: letters, digits, "_"."""
    return in_byte_range(data | np.uint8(0x20), "a", 26) | in_byte_range(data, "0", 10) | (data == ord("_"))  # "| 0x20" folds A-Z onto a-z


@njit(inline="always")
def is_ascii_word_byte(byte: np.uint8) -> bool:
    """``ascii_word_bytes`` of one byte, for compiled loops."""
    folded = byte | 32  # A-Z onto a-z; no other byte lands there
    return (97 <= folded <= 122) or (48 <= byte <= 57) or byte == 95


def is_all_rows(rows: np.ndarray, n: int) -> bool:
    """Whether ``rows`` is ``0 .. n-1`` in order (taking them is a no-op)."""
    return len(rows) == n and (n == 0 or (rows[0] == 0 and rows[-1] == n - 1 and bool(np.all(np.diff(rows) == 1))))


@dataclass(slots=True)
class Ragged:
    """Variable-length rows in one flat array: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``.

    Moves many small arrays between processes, and to and from disk, as two."""

    values: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``values`` of the given rows' elements, in row order; their offsets)."""
        starts, ends = self.offsets[rows], self.offsets[np.asarray(rows) + 1]
        lengths = (ends - starts).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # output position k of a row that begins at offsets[r] holds values[starts[r] + k - offsets[r]]: one repeat, not two
        where = np.repeat(starts.astype(np.int64) - offsets[:-1], lengths)
        where += np.arange(len(where))
        return where, offsets

    def take(self, rows: np.ndarray) -> Ragged:
        """The given rows, in that order."""
        if is_all_rows(rows, len(self)):
            return self
        where, offsets = self.positions(rows)
        return Ragged(np.asarray(self.values[where]), offsets)

    @staticmethod
    def of(rows: list[np.ndarray], dtype: type) -> Ragged:
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        values = np.concatenate(rows).astype(dtype, copy=False) if rows else np.empty(0, dtype)
        return Ragged(values, np.concatenate([[0], np.cumsum(lengths)]))

    @staticmethod
    def concat(parts: list[Ragged]) -> Ragged:
        values = np.concatenate([p.values for p in parts])
        lengths = np.concatenate([np.diff(p.offsets) for p in parts])
        return Ragged(values, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def shared_counts(sets: Ragged, pairs: np.ndarray) -> np.ndarray:
    """How many values the rows of each pair ``(i, j)`` have in common (each
    row's values distinct): the rows of all pairs are sorted together by
    pair, then value, and a value met twice in one pair is shared."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    lengths = np.diff(sets.offsets)
    owner = np.concatenate([np.repeat(np.arange(len(pairs)), lengths[pairs[:, 0]]), np.repeat(np.arange(len(pairs)), lengths[pairs[:, 1]])])
    values = np.concatenate([sets.values[sets.positions(pairs[:, 0])[0]], sets.values[sets.positions(pairs[:, 1])[0]]])
    order = np.lexsort((values, owner))
    owner, values = owner[order], values[order]
    twice = (owner[1:] == owner[:-1]) & (values[1:] == values[:-1])
    return np.bincount(owner[1:][twice], minlength=len(pairs))
