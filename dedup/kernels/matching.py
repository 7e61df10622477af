"""difflib's matching blocks of two short sequences, compiled.

``SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()`` finds
the longest block of ``a`` equal to a block of ``b`` (ties: the one starting
earliest in ``a``, then in ``b``), then recursively the longest ones left of
it and right of it, and merges blocks that touch. Without junk and without
the popular-element heuristic (``autojunk=False``), the longest block in
``a[alo:ahi]``, ``b[blo:bhi]`` is the largest ``k`` of the recurrence

    k(i, j) = k(i - 1, j - 1) + 1 if a[i] == b[j] else 0,

taken at the first ``(i, j)`` in row order (``i`` ascending, then ``j``)
reaching it; difflib computes it with a dict of the previous row, here it is
two rows of an array. The sequences are token ids (``ids``): the words of a
sentence pair, numbered by first appearance.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def ids(a: list[str], b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as int64 ids, equal tokens equal ids."""
    numbering: dict[str, int] = {}
    number = numbering.setdefault
    return (
        np.array([number(token, len(numbering)) for token in a], dtype=np.int64),
        np.array([number(token, len(numbering)) for token in b], dtype=np.int64),
    )


@njit(cache=True)
def matching_blocks(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """difflib's ``get_matching_blocks`` of ``a`` and ``b``: rows ``(i, j,
    size)``, in order, touching blocks merged, ending with ``(len(a), len(b), 0)``."""
    found = np.empty((min(len(a), len(b)) + 1, 3), dtype=np.int64)
    count = 0
    queue = np.empty((len(a) + len(b) + 1, 4), dtype=np.int64)
    queue[0] = (0, len(a), 0, len(b))
    queued = 1
    previous = np.zeros(len(b) + 1, dtype=np.int64)  # k(i - 1, j - 1) at previous[j]
    current = np.zeros(len(b) + 1, dtype=np.int64)
    while queued:
        queued -= 1
        alo, ahi, blo, bhi = queue[queued]
        best_i, best_j, best = alo, blo, 0
        previous[blo : bhi + 1] = 0
        for i in range(alo, ahi):
            current[blo] = 0
            for j in range(blo, bhi):
                k = previous[j] + 1 if a[i] == b[j] else 0
                current[j + 1] = k
                if k > best:
                    best_i, best_j, best = i - k + 1, j - k + 1, k
            previous, current = current, previous
        if best:
            found[count] = (best_i, best_j, best)
            count += 1
            if alo < best_i and blo < best_j:
                queue[queued] = (alo, best_i, blo, best_j)
                queued += 1
            if best_i + best < ahi and best_j + best < bhi:
                queue[queued] = (best_i + best, ahi, best_j + best, bhi)
                queued += 1
    blocks = found[:count][np.argsort(found[:count, 0])]  # blocks do not overlap in a: sorted by i is difflib's sort
    merged = np.empty((count + 1, 3), dtype=np.int64)
    kept = 0
    i1, j1, k1 = 0, 0, 0
    for n in range(count):
        i2, j2, k2 = blocks[n]
        if i1 + k1 == i2 and j1 + k1 == j2:
            k1 += k2
        else:
            if k1:
                merged[kept] = (i1, j1, k1)
                kept += 1
            i1, j1, k1 = i2, j2, k2
    if k1:
        merged[kept] = (i1, j1, k1)
        kept += 1
    merged[kept] = (len(a), len(b), 0)
    return merged[: kept + 1]
