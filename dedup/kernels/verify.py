"""Verify: LSH candidates checked against the true shingle sets.

A candidate pair is a near-copy when the Jaccard similarity of its shingle
sets reaches ``near_copy.threshold`` (light edits, re-wrapped copies), or when
the smaller document's shingles lie in the larger at ``near_copy.containment``
(a truncated lede is contained in its original), and its facts and dates allow
it to be one story (``same_story_possible``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from dedup.config import Config
from dedup.kernels.facts import same_story_possible
from dedup.kernels.sketch import Sketch


@dataclass(frozen=True, slots=True)
class Edge:
    """A verified similarity between documents ``a`` < ``b`` (indices)."""

    a: int
    b: int
    kind: str
    """"near-copy" or "paraphrase"."""
    score: float
    """Jaccard (near-copy) or paraphrase score."""


def set_similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger) of two sorted,
    distinct hash arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (len(a) + len(b) - common), common / min(len(a), len(b))


def is_near_copy(a: Sketch, b: Sketch, config: Config) -> tuple[bool, float, float]:
    """(near-copy by similarity alone, Jaccard, containment)."""
    near = config.near_copy
    jaccard, containment = set_similarity(a.shingles, b.shingles)
    contained = min(len(a.shingles), len(b.shingles)) >= near.min_containment_shingles and containment >= near.containment
    return jaccard >= near.threshold or contained, jaccard, containment


def verify_near_copies(pairs: np.ndarray, sketches: Mapping[int, Sketch], published: Sequence[datetime | None], config: Config) -> list[Edge]:
    """Verified near-copy edges among candidate ``pairs`` (rows ``(i, j)``, i < j;
    ``sketches`` holds at least the documents in a pair)."""
    story = config.story
    edges = []
    for i, j in pairs.tolist():
        similar, jaccard, _ = is_near_copy(sketches[i], sketches[j], config)
        if similar and same_story_possible(
            sketches[i].facts, sketches[j].facts, published[i], published[j], story.window_hours, story.min_fact_agreement, undated_needs_numbers=True
        ):
            edges.append(Edge(i, j, "near-copy", jaccard))
    return edges
