"""Canonical: which member of a story stands for it, and why.

Members are ranked by ``canonical.order``, a list of criteria applied in turn
until one decides: ``earliest_published`` (undated documents rank last),
``source_priority`` (position in ``canonical.source_priority``; sources not
listed rank last), ``representative`` (the member whose facts the rest of its
story shares most densely: ``representativeness``), ``longest_text`` (most
words after boilerplate removal: the most complete copy), and ``doc_id``
(ascending; always present, so the ranking is total and deterministic).

The pipeline sorts all documents once by the criteria that are a document's
own (all but ``representative``, which depends on the story and is known only
once the stories are); ``story_canonicals`` then ranks each story's members
by the whole order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from dedup.arrays import Ragged
from dedup.config import CanonicalConfig

RANKED_COLUMNS = ["doc_id", "published", "source", "words"]
"""The document fields the ranking reads."""
STORY_CRITERION = "representative"
"""The criterion that depends on the story, not on the document alone."""
PER_WORDS = 100
"""``representativeness`` counts shared facts per this many words."""


def _criterion_expression(criterion: str, config: CanonicalConfig) -> pl.Expr:
    """A column whose ascending order is the criterion's preference (nulls last)."""
    if criterion == "earliest_published":
        return pl.col("published")
    if criterion == "source_priority":
        priority = {source: k for k, source in enumerate(config.source_priority)}
        return pl.col("source").replace_strict(priority, default=len(priority), return_dtype=pl.Int64).fill_null(len(priority))
    if criterion == "longest_text":
        return -pl.col("words")
    return pl.col("doc_id")


def preference_order(documents: pl.DataFrame, config: CanonicalConfig) -> np.ndarray:
    """Row indices of ``documents`` (with ``RANKED_COLUMNS``) from the most to
    the least preferred, by every criterion but ``representative``."""
    keys = [_criterion_expression(criterion, config) for criterion in config.order if criterion != STORY_CRITERION]
    return documents.select(keys).with_row_index("_rank").sort(pl.exclude("_rank"), nulls_last=True, maintain_order=True)["_rank"].to_numpy()


def representativeness(story: np.ndarray, words: np.ndarray, facts: list[Ragged]) -> np.ndarray:
    """How densely each document holds the facts the rest of its story holds too.

    For a member m of a story of k members, each of its facts f (numbers and
    names, ``facts``: one ``Ragged`` of hashes per kind, a row per document)
    counts the share of the other members holding it, (c_f - 1) / (k - 1);
    the sum is taken per ``PER_WORDS`` words, with a length under the story's
    median counted as the median:

        score(m) = PER_WORDS * sum_{f in m} (c_f - 1) / (k - 1) / max(words_m, median words)

    A rewrite whose words carry little that the others confirm scores low:
    padding around the shared facts, a caption, a related-stories list. A
    summary is not preferred for being short.
    ``story`` labels each document's story (any integers); a member of a
    one-document story scores 0."""
    n = len(story)
    frame = pl.DataFrame({"story": story, "words": words})
    stats = frame.join(frame.group_by("story").agg(pl.len().alias("k"), pl.col("words").median().alias("median")), on="story", how="left", maintain_order="left")
    members = stats["k"].to_numpy()
    shared = np.zeros(n, dtype=np.float64)
    for kind in facts:
        doc = np.repeat(np.arange(n), np.diff(kind.offsets).astype(np.int64))
        order = np.lexsort((kind.values, story[doc]))
        key_story, key_value = story[doc][order], kind.values[order]
        opens = np.r_[True, (key_story[1:] != key_story[:-1]) | (key_value[1:] != key_value[:-1])] if len(order) else np.empty(0, dtype=bool)
        run = np.cumsum(opens) - 1
        count = np.bincount(run)[run]  # c_f of each fact occurrence
        others = members[doc[order]] - 1
        share = np.divide(count - 1, others, out=np.zeros(len(order)), where=others > 0)
        shared += np.bincount(doc[order], weights=share, minlength=n)
    length = np.maximum(stats["words"].to_numpy(), stats["median"].to_numpy()).astype(np.float64)
    return PER_WORDS * np.divide(shared, length, out=np.zeros(n), where=length > 0)


def story_canonicals(
    documents: pl.DataFrame, story: np.ndarray, facts_of: Callable[[np.ndarray], list[Ragged]], config: CanonicalConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each document's canonical (an index), the runner-up of each document's
    story (-1 for a one-document story), and the ``representativeness`` scores
    used (0 where it was not needed).

    ``documents`` (``RANKED_COLUMNS``) are in ``preference_order``; ``story``
    gives each one's story by its first member's index. Members rank by the criteria before
    ``representative`` (ties: a tier), then by representativeness, then by
    position (the criteria after it). Only stories whose first tier holds two
    or more members need the scores; ``facts_of(rows)`` gives those rows' facts
    (numbers and names, as ``Ragged`` hashes)."""
    n = len(story)
    index = np.arange(n)
    scores = np.zeros(n, dtype=np.float64)
    tier = np.zeros(n, dtype=np.int64)
    if STORY_CRITERION in config.order and n:
        before = config.order[: config.order.index(STORY_CRITERION)]
        tier = _tiers(documents, before, config)
        top = tier == tier[story]
        contested = np.bincount(story[top], minlength=n) >= 2
        rows = np.flatnonzero(contested[story])
        if len(rows):
            scores[rows] = representativeness(story[rows], documents["words"].to_numpy()[rows], facts_of(rows))
    ranked = np.lexsort((index, -scores, tier, story))
    first = np.r_[True, story[ranked][1:] != story[ranked][:-1]] if n else np.empty(0, dtype=bool)
    starts = np.flatnonzero(first)
    canonical_of = np.zeros(n, dtype=np.int64)
    canonical_of[story[ranked[starts]]] = ranked[starts]
    after = starts + 1
    has_second = after < n
    has_second[has_second] = ~first[after[has_second]]
    runner_up_of = np.full(n, -1, dtype=np.int64)
    runner_up_of[story[ranked[starts[has_second]]]] = ranked[after[has_second]]
    return canonical_of[story], runner_up_of[story], scores


def _tiers(documents: pl.DataFrame, criteria: list[str], config: CanonicalConfig) -> np.ndarray:
    """A number per document (in preference order) that grows where one of ``criteria`` tells it from the one before."""
    if not criteria:
        return np.zeros(documents.height, dtype=np.int64)
    keys = documents.select([_criterion_expression(c, config).alias(str(k)) for k, c in enumerate(criteria)])
    changed = keys.select(pl.any_horizontal(pl.all().ne_missing(pl.all().shift(1)))).to_series().fill_null(False).to_numpy()
    return np.cumsum(changed).astype(np.int64)


def _criterion_value(doc: dict[str, Any], criterion: str, config: CanonicalConfig) -> Any:
    if criterion == "earliest_published":
        return doc["published"]
    if criterion == "source_priority":
        return config.source_priority.index(doc["source"]) if doc["source"] in config.source_priority else len(config.source_priority)
    if criterion == "longest_text":
        return doc["words"]
    if criterion == STORY_CRITERION:
        return doc[STORY_CRITERION]
    return doc["doc_id"]


def canonical_reason(canonical: dict[str, Any], runner_up: dict[str, Any] | None, config: CanonicalConfig) -> str:
    """Plain words for why ``canonical`` ranks ahead of the next member (rows
    with ``RANKED_COLUMNS`` and their ``representative`` score)."""
    if runner_up is None:
        return "only member"
    for criterion in config.order:
        if _criterion_value(canonical, criterion, config) == _criterion_value(runner_up, criterion, config):
            continue
        if criterion == "earliest_published":
            when = canonical["published"]
            return f"earliest published ({when.isoformat() if when else 'undated'})"
        if criterion == "source_priority":
            return f"preferred source ({canonical['source']})"
        if criterion == STORY_CRITERION:
            return (
                f"representative ({canonical[STORY_CRITERION]:.2f} facts shared with the rest of the story per {PER_WORDS} words, "
                f"vs {runner_up[STORY_CRITERION]:.2f} for {runner_up['doc_id']})"
            )
        if criterion == "longest_text":
            return f"most complete text ({canonical['words']} words vs {runner_up['words']})"
        break
    return "first doc_id among equals"
