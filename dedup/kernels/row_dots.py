"""Dot products of pairs of rows of a CSR matrix, compiled.

Candidate pairs come grouped by their first document (``i < j``, sorted),
each document in tens of them. So each first row is scattered once into a
dense array as wide as the matrix, and each partner's entries are looked up
in it: one independent load per entry of the second row, no branch on the
data, no allocation per pair. (``scipy.sparse``, the obvious way, gathers
both sides' rows into two new matrices and multiplies them elementwise into a
third; a merge of the two sorted index lists is held up by a chain of
dependent loads and branches.)

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
    products, counts = _products(indptr, indices, data, first, second, int(np.minimum(lengths[first], lengths[second]).sum()), matrix.shape[1])
    nonempty = np.flatnonzero(counts)
    if len(nonempty):
        out[nonempty] = np.add.reduceat(products, (np.cumsum(counts) - counts)[nonempty])
    return out


@njit(nogil=True, cache=True)
def _products(indptr, indices, data, first, second, most, width):  # type: ignore[no-untyped-def]
    """The non-zero products of each pair's rows (columns both hold), in the
    second row's column order, one pair after another, and how many each pair
    has (``most``: at most their sum). A product is written for every entry
    of the second row and kept by moving on only when it is not zero."""
    products = np.empty(most + 1, dtype=np.float32)
    counts = np.zeros(len(first), dtype=np.int64)
    dense = np.zeros(width, dtype=np.float32)
    current = -1
    at = 0
    for k in range(len(first)):
        row = first[k]
        if row != current:
            if current >= 0:
                for p in range(indptr[current], indptr[current + 1]):
                    dense[indices[p]] = 0
            for p in range(indptr[row], indptr[row + 1]):
                dense[indices[p]] = data[p]
            current = row
        start = at
        for q in range(indptr[second[k]], indptr[second[k] + 1]):
            product = dense[indices[q]] * data[q]
            products[at] = product
            at += product != 0
        counts[k] = at - start
    return products[:at], counts
