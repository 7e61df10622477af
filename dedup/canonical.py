"""Canonical: which member of a cluster stands for it, and why.

Documents are ranked by ``canonical.order``, a list of criteria applied in
turn until one decides: ``earliest_published`` (undated documents rank
last), ``source_priority`` (position in ``canonical.source_priority``; sources
not listed rank last), ``longest_text`` (most words after boilerplate
removal: the most complete copy), and ``doc_id`` (ascending; always present,
so the ranking is total and deterministic). The pipeline sorts all documents
by this ranking once; the first member of each cluster is its canonical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from dedup.config import CanonicalConfig

RANKED_COLUMNS = ["doc_id", "published", "source", "words"]
"""The document fields the ranking reads."""


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
    """Row indices of ``documents`` (with ``RANKED_COLUMNS``) from the most to the least preferred."""
    keys = [_criterion_expression(criterion, config) for criterion in config.order]
    return documents.select(keys).with_row_index("_rank").sort(pl.exclude("_rank"), nulls_last=True, maintain_order=True)["_rank"].to_numpy()


def _criterion_value(doc: dict[str, Any], criterion: str, config: CanonicalConfig) -> Any:
    if criterion == "earliest_published":
        return doc["published"]
    if criterion == "source_priority":
        return config.source_priority.index(doc["source"]) if doc["source"] in config.source_priority else len(config.source_priority)
    if criterion == "longest_text":
        return doc["words"]
    return doc["doc_id"]


def canonical_reason(canonical: dict[str, Any], runner_up: dict[str, Any] | None, config: CanonicalConfig) -> str:
    """Plain words for why ``canonical`` ranks ahead of the next member (rows with ``RANKED_COLUMNS``)."""
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
        if criterion == "longest_text":
            return f"most complete text ({canonical['words']} words vs {runner_up['words']})"
        break
    return "first doc_id among equals"
