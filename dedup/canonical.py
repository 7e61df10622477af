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

from dedup.config import CanonicalConfig
from dedup.records import Document

_UNDATED = float("inf")


def _criterion_value(doc: Document, criterion: str, config: CanonicalConfig) -> Any:
    if criterion == "earliest_published":
        return doc.article.published.timestamp() if doc.article.published else _UNDATED
    if criterion == "source_priority":
        source = doc.article.source
        return config.source_priority.index(source) if source in config.source_priority else len(config.source_priority)
    if criterion == "longest_text":
        return -doc.sketch.words
    return doc.article.doc_id


def preference_key(doc: Document, config: CanonicalConfig) -> tuple[Any, ...]:
    """Sort key: the canonical of a cluster is the member with the smallest key."""
    return tuple(_criterion_value(doc, criterion, config) for criterion in config.order)


def canonical_reason(canonical: Document, runner_up: Document | None, config: CanonicalConfig) -> str:
    """Plain words for why ``canonical`` ranks ahead of the next member."""
    if runner_up is None:
        return "only member"
    for criterion in config.order:
        mine, theirs = _criterion_value(canonical, criterion, config), _criterion_value(runner_up, criterion, config)
        if mine == theirs:
            continue
        if criterion == "earliest_published":
            when = canonical.article.published
            return f"earliest published ({when.isoformat() if when else 'undated'})"
        if criterion == "source_priority":
            return f"preferred source ({canonical.article.source})"
        if criterion == "longest_text":
            return f"most complete text ({canonical.sketch.words} words vs {runner_up.sketch.words})"
        break
    return "first doc_id among equals"
