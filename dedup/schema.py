"""Every frame's schema, in one place: the articles read, the results a run
keeps per document, the state's documents and edges, and the reports
(docs/reports.md describes the reports' columns)."""

from __future__ import annotations

import polars as pl

# The documents a run clusters (store.window, store.state)
ARTICLE_SCHEMA = {
    "doc_id": pl.String, "doc_key": pl.UInt64, "path": pl.String, "record": pl.Int64, "title": pl.String, "url": pl.String, "source": pl.String,
    "published": pl.Datetime("us", "UTC"), "flags": pl.List(pl.String), "encoding": pl.String, "run": pl.Int64, "seen_at": pl.Datetime("us", "UTC"), "words": pl.Int64,
}  # fmt: skip
RESULT_SCHEMA = {
    "cluster_id": pl.String, "event_id": pl.String, "group_id": pl.String, "canonical_doc_id": pl.String, "canonical_run": pl.Int64, "in_canonical_group": pl.Boolean,
    "match": pl.String, "jaccard": pl.Float64, "containment": pl.Float64, "paraphrase_score": pl.Float64,
    "representative": pl.Boolean, "leader": pl.Boolean,
}  # fmt: skip
"""A run's results per document, kept for the next run: its story, its event and its
report row, and whether it was its exact copies' representative and its
near-copy group's leader (whose candidate pairs were then matched)."""

ARTICLE_FIELDS = {name: ARTICLE_SCHEMA[name] for name in ("doc_id", "path", "record", "title", "url", "source", "published", "flags", "encoding")}
"""What the feed says of a document: the fields a reader gives each article
(``ARTICLE_SCHEMA`` less what a run adds as it takes the article in: its
``doc_key``, the ``run``, when it was seen, its length in words)."""

WINDOW_SCHEMA = ARTICLE_SCHEMA | RESULT_SCHEMA | {"rank": pl.Int64, "segment_index": pl.Int64, "segment_row": pl.Int64, "new": pl.Boolean, "fresh": pl.Boolean}
"""The documents a run matches (``store.window.Window``), one row each, sorted
by ``rank``: their canonical preference, 0 first. Stages name documents by
rank (a candidate pair is two ranks; a story's id is named after its first
rank), and find each one's sketch and text by ``segment_index`` (into the
window's segments) and ``segment_row``; ``doc_key`` is the fixed-width key
that stored data (edges) joins on. ``new``: brought by this run; ``fresh``:
its candidate pairs are matched this run (the new documents, or all when the
previous run's decisions cannot be kept). The ``RESULT_SCHEMA`` columns hold
the previous run's results, null for new documents."""

# The state (store.state)
EDGES_SCHEMA = {"a": pl.String, "b": pl.String, "a_key": pl.UInt64, "b_key": pl.UInt64, "kind": pl.String, "score": pl.Float64}
"""Verified edges between documents (by ``doc_id``, and by ``doc_key`` to join on) found by candidate
matching: near-copies between exact copies' representatives and paraphrases
between near-copy group leaders. A later run keeps them and matches only pairs
with a new document (exact-copy edges are rebuilt every run from text hashes)."""

STATE_DOCUMENTS_SCHEMA = ARTICLE_SCHEMA | RESULT_SCHEMA | {"segment": pl.String, "segment_row": pl.Int64}
"""The state's documents: fields, where their sketch is, the last run's results."""

# The reports (reports.builders)
CHANGED = pl.Struct(
    {
        "canonical": pl.String, "variant": pl.String, "similarity": pl.Float64, "edited": pl.Boolean,
        "words_removed": pl.List(pl.String), "words_added": pl.List(pl.String), "facts_removed": pl.List(pl.String), "facts_added": pl.List(pl.String),
    }
)  # fmt: skip
DOCUMENTS_SCHEMA = {
    "doc_id": pl.String, "cluster_id": pl.String, "event_id": pl.String, "group_id": pl.String, "is_canonical": pl.Boolean, "match": pl.String,
    "jaccard": pl.Float64, "containment": pl.Float64, "paraphrase_score": pl.Float64,
    "title": pl.String, "source": pl.String, "url": pl.String, "published": pl.Datetime("us", "UTC"),
    "path": pl.String, "record": pl.Int64, "words": pl.Int64, "language": pl.String, "encoding": pl.String, "flags": pl.List(pl.String),
}  # fmt: skip
CLUSTERS_SCHEMA = {
    "cluster_id": pl.String, "event_id": pl.String, "canonical_doc_id": pl.String, "canonical_reason": pl.String, "size": pl.Int64,
    "near_copy_groups": pl.Int64, "sources": pl.List(pl.String), "first_published": pl.Datetime("us", "UTC"),
    "last_published": pl.Datetime("us", "UTC"), "title": pl.String,
    "previous_canonical_doc_id": pl.String, "canonical_changed": pl.Boolean,
}  # fmt: skip
EVENTS_SCHEMA = {
    "event_id": pl.String, "stories": pl.Int64, "documents": pl.Int64, "first_published": pl.Datetime("us", "UTC"),
    "last_published": pl.Datetime("us", "UTC"), "label": pl.String, "cluster_ids": pl.List(pl.String),
}  # fmt: skip
VARIANTS_SCHEMA = {
    "doc_id": pl.String, "cluster_id": pl.String, "canonical_doc_id": pl.String, "match": pl.String,
    "jaccard": pl.Float64, "containment": pl.Float64, "paraphrase_score": pl.Float64, "summary": pl.String, "sentences_same": pl.Int64,
    "sentences_added": pl.List(pl.String), "sentences_removed": pl.List(pl.String), "sentences_changed": pl.List(CHANGED),
    "facts_added": pl.List(pl.String), "facts_removed": pl.List(pl.String),
}  # fmt: skip
REJECTED_SCHEMA = {"path": pl.String, "record": pl.Int64, "reason": pl.String}
DIFF_COLUMNS = ["summary", "sentences_same", "sentences_added", "sentences_removed", "sentences_changed", "facts_added", "facts_removed"]
DIFF_KEY_SCHEMA = {"doc_id": pl.String, "run": pl.Int64, "canonical_doc_id": pl.String, "canonical_run": pl.Int64}
DIFFS_SCHEMA = DIFF_KEY_SCHEMA | {name: VARIANTS_SCHEMA[name] for name in DIFF_COLUMNS}
"""Each variant's diff with the versions of the two documents it compares
(a document's ``run``): the state keeps them, so that a later run diffs only
the pairs it has not seen."""
