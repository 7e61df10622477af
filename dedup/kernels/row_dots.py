"""Dot products of pairs of rows of a CSR matrix, compiled.

Candidate pairs come grouped by their first document (``i < j``, sorted),
each document in tens of them. So each first row is put once into a small
open-addressing hash table (column -> value), and each partner's entries are
looked up in it. The table has at least four slots per entry of the row (a
load of at most 1/4: a lookup probes about one slot), so a row of a few
hundred terms is a table of a few kB that stays in the L1 cache, whatever the
matrix's width. (A dense array as wide as the hashed term space misses the
caches on nearly every lookup; ``scipy.sparse`` gathers both sides' rows
into two new matrices and multiplies them into a third; a merge of the two
sorted index lists is held up by a chain of dependent loads and branches.)
Slots are found by Fibonacci hashing (the top bits of the column times
2^32/φ), so columns in arithmetic progression do not pile up.

The sums are numpy's: the compiled loop writes each pair's non-zero products
in column order, and ``np.add.reduceat`` adds them, as ``scipy``'s
``a.multiply(b).sum(axis=1)`` does. Float addition is not associative; this
keeps every score bit for bit what scipy made it.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix


def row_dots(matrix: csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """``matrix[i] · matrix[j]`` of each pair ``(i, j)``, float32 (fastest with the pairs grouped by ``i``)."""
    out = np.zeros(len(pairs), dtype=np.float32)
    if len(pairs) == 0:
        return out
    if not matrix.has_canonical_format:  # sorted column indices, none twice: what the lookups and the sums' order assume
        matrix = matrix.copy()  # the caller's matrix left as it is (threads may be reading it)
        matrix.sum_duplicates()
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data.astype(np.float32, copy=False)
    first, second = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    lengths = np.diff(indptr)
    products, counts = _products(indptr, indices, data, first, second, int(np.minimum(lengths[first], lengths[second]).sum()))
    nonempty = np.flatnonzero(counts)
    if len(nonempty):
        out[nonempty] = np.add.reduceat(products, (np.cumsum(counts) - counts)[nonempty])
    return out


_EMPTY = -1
"""A free slot of the hash table (no column is negative)."""
_FIBONACCI = 2654435769
"""2^32 / φ, rounded to odd: Fibonacci hashing's multiplier."""
_SMALLEST_TABLE_BITS = 10
"""The table's first size, 2^10 slots: rows of up to 256 entries; it grows for longer ones."""


@njit(nogil=True, cache=True)
def _slot(column, bits):  # type: ignore[no-untyped-def]
    """The home slot of ``column`` in a table of ``2**bits`` slots: the top ``bits`` of its 32-bit Fibonacci hash."""
    return ((column * _FIBONACCI) & 0xFFFFFFFF) >> (32 - bits)


@njit(nogil=True, cache=True)
def _products(indptr, indices, data, first, second, most):  # type: ignore[no-untyped-def]
    """The non-zero products of each pair's rows (columns both hold), in the
    second row's column order, one pair after another, and how many each pair
    has (``most``: at most their sum). A product is written for every entry
    of the second row and kept by moving on only when it is not zero."""
    products = np.empty(most + 1, dtype=np.float32)
    counts = np.zeros(len(first), dtype=np.int64)
    bits = _SMALLEST_TABLE_BITS
    keys = np.full(1 << bits, _EMPTY, dtype=np.int64)
    values = np.zeros(1 << bits, dtype=np.float32)
    current = -1
    at = 0
    for k in range(len(first)):
        row = first[k]
        if row != current:
            if current >= 0:  # empty the table: each of the last row's entries ends a run of taken slots that starts at or before its home
                for p in range(indptr[current], indptr[current + 1]):
                    h = _slot(indices[p], bits)
                    while keys[h] != _EMPTY:
                        keys[h] = _EMPTY
                        h = (h + 1) & ((1 << bits) - 1)
            while (1 << bits) < 4 * (indptr[row + 1] - indptr[row]):  # grow only: rows of all lengths follow each other
                bits += 1
                keys = np.full(1 << bits, _EMPTY, dtype=np.int64)
                values = np.zeros(1 << bits, dtype=np.float32)
            for p in range(indptr[row], indptr[row + 1]):
                h = _slot(indices[p], bits)
                while keys[h] != _EMPTY:
                    h = (h + 1) & ((1 << bits) - 1)
                keys[h] = indices[p]
                values[h] = data[p]
            current = row
        start = at
        for q in range(indptr[second[k]], indptr[second[k] + 1]):
            column = indices[q]
            h = _slot(column, bits)
            value = np.float32(0)
            while keys[h] != _EMPTY:
                if keys[h] == column:
                    value = values[h]
                    break
                h = (h + 1) & ((1 << bits) - 1)
            product = value * data[q]
            products[at] = product
            at += product != 0
        counts[k] = at - start
    return products[:at], counts
