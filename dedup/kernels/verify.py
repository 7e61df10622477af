"""Verify: LSH candidates checked against the true shingle sets.

A candidate pair is a near-copy when the Jaccard similarity of its shingle
sets reaches ``near_copy.threshold`` (light edits, re-wrapped copies), or when
the smaller document's shingles lie in the larger at ``near_copy.containment``
(a truncated lede is contained in its original), and its facts and dates allow
it to be one story (``same_story_possible``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numba import njit

from dedup.arrays import Ragged
from dedup.config import Config
from dedup.kernels.facts import Facts, same_story_possible


@dataclass(frozen=True, slots=True)
class Edge:
    """A verified similarity between documents ``a`` < ``b`` (indices)."""

    a: int
    b: int
    kind: str
    """"near-copy" or "paraphrase"."""
    score: float
    """Jaccard (near-copy) or paraphrase score."""


def set_similarities(first_sets: Ragged, second_sets: Ragged, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Jaccard, containment of the smaller set in the larger, the smaller
    set's size) of each pair ``(i, j)``: row ``i`` of ``first_sets`` and row
    ``j`` of ``second_sets`` (sorted, distinct hashes a row; an empty row
    shares nothing). The common hashes are counted by merging the two sorted
    rows, compiled, where the rows lie (memory-mapped segments): nothing is
    copied or made per pair."""
    first, second = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    first_lengths = (first_sets.offsets[first + 1] - first_sets.offsets[first]).astype(np.int64)
    second_lengths = (second_sets.offsets[second + 1] - second_sets.offsets[second]).astype(np.int64)
    common = _common_counts(first_sets.values, first_sets.offsets, second_sets.values, second_sets.offsets, first, second).astype(np.float64)
    smaller = np.minimum(first_lengths, second_lengths)
    jaccard = np.divide(common, first_lengths + second_lengths - common, out=np.zeros(len(pairs)), where=smaller > 0)
    containment = np.divide(common, smaller, out=np.zeros(len(pairs)), where=smaller > 0)
    return jaccard, containment, smaller


@njit(nogil=True, cache=True)
def _common_counts(first_values, first_offsets, second_values, second_offsets, first, second):  # type: ignore[no-untyped-def]
    counts = np.zeros(len(first), dtype=np.int64)
    for k in range(len(first)):
        i, i_end = first_offsets[first[k]], first_offsets[first[k] + 1]
        j, j_end = second_offsets[second[k]], second_offsets[second[k] + 1]
        common = 0
        while i < i_end and j < j_end:
            if first_values[i] == second_values[j]:
                common += 1
                i += 1
                j += 1
            elif first_values[i] < second_values[j]:
                i += 1
            else:
                j += 1
        counts[k] = common
    return counts


def near_copies(first_shingles: Ragged, second_shingles: Ragged, pairs: np.ndarray, config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(near-copy by similarity alone, Jaccard, containment) of each pair's shingles (``set_similarities``)."""
    near = config.near_copy
    jaccard, containment, smaller = set_similarities(first_shingles, second_shingles, pairs)
    contained = (smaller >= near.min_containment_shingles) & (containment >= near.containment)
    return (jaccard >= near.threshold) | contained, jaccard, containment


def verify_near_copies(
    pairs: np.ndarray, similarity: tuple[np.ndarray, np.ndarray, np.ndarray], facts: Callable[[int], Facts], published: Sequence[datetime | None], config: Config
) -> list[Edge]:
    """Verified near-copy edges among candidate ``pairs`` (rows ``(i, j)``,
    i < j), given their ``near_copies`` (``similarity``) and each document's
    ``facts``: similar pairs whose facts and dates allow one story."""
    story = config.story
    similar, jaccard, _ = similarity
    edges = []
    for k in np.flatnonzero(similar).tolist():
        i, j = pairs[k].tolist()
        if same_story_possible(facts(i), facts(j), published[i], published[j], story.window_hours, story.min_fact_agreement, undated_needs_numbers=True):
            edges.append(Edge(i, j, "near-copy", float(jaccard[k])))
    return edges
