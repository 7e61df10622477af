"""Stages near_copy, paraphrase and cluster: candidates, verified edges, near-copy groups, stories and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix

from dedup.arrays import distinct_indices, index_in
from dedup.config import Config
from dedup.engine.base import Engine
from dedup.kernels.cluster import exact_copies, name_stories, near_copy_groups, story_clusters
from dedup.kernels.facts import same_story_possible
from dedup.kernels.lsh import band_keys, candidate_pairs, lsh_params
from dedup.kernels.pair_model import FEATURES as PAIR_FEATURES
from dedup.kernels.pair_model import PairModel
from dedup.kernels.paraphrase import (
    PairContext,
    ParaphraseVectors,
    ParaphraseWeights,
    ScoredPairs,
    pairs_to_verify,
    score_candidates,
)
from dedup.kernels.verify import Edge, near_copies, verify_near_copies
from dedup.progress import Progress, Timings
from dedup.schema import EDGES_SCHEMA
from dedup.store.window import Window, scan_blocks


@dataclass
class Matched:
    """The window's near-copy groups and stories, with the edges found."""

    group: np.ndarray
    """Each document's near-copy group: the rank of its leader."""
    story: np.ndarray
    """Each document's story: the rank of its first (most preferred) document."""
    event: np.ndarray
    """Each document's event: the rank of its first document."""
    representative: np.ndarray
    """Which documents represent their exact copies (the first of each text hash)."""
    edges: pl.DataFrame
    """The candidate-matched edges to keep (``schema.EDGES_SCHEMA``)."""
    weights: ParaphraseWeights | None
    scored: pl.DataFrame | None = None
    """When asked for (``dedup train``): each scored paraphrase candidate's
    documents (``a``, ``b``) and features (``pair_model.FEATURES``)."""
    candidate_pairs: dict[str, int] = field(default_factory=dict)
    """Pairs this run verified, by kind (``near_copy``: LSH's over exact-copy
    representatives; ``paraphrase``: over near-copy leaders; ``paraphrase_scored``:
    those of them scored, at most about ``paraphrase.max_candidates`` a document), for run.json:
    how they grow with the window and with text shared between stories is what the matching costs."""


def _stored_between_old(window: Window, stored: pl.DataFrame) -> pl.DataFrame:
    """The stored edges between two of the window's old documents, with their
    ranks (``rank_a``, ``rank_b``), when the previous run's decisions hold (none else)."""
    if window.fresh.all() or stored.height == 0:
        return pl.DataFrame(schema=EDGES_SCHEMA | {"rank_a": pl.Int64, "rank_b": pl.Int64})
    a, b = window.ranks_of(stored["a_key"]), window.ranks_of(stored["b_key"])
    known = (a >= 0) & (b >= 0)
    known[known] = ~window.new[a[known]] & ~window.new[b[known]]
    return stored.with_columns(pl.Series("rank_a", a), pl.Series("rank_b", b)).filter(pl.Series(known))


def _kept_edges(between_old: pl.DataFrame, kind: str, eligible: np.ndarray) -> list[Edge]:
    """The stored edges of ``kind`` (``_stored_between_old``) whose documents are both still ``eligible``."""
    mine = between_old.filter(pl.col("kind") == kind)
    a, b = mine["rank_a"].to_numpy(), mine["rank_b"].to_numpy()
    keep = eligible[a] & eligible[b]
    lo, hi = np.minimum(a, b)[keep].tolist(), np.maximum(a, b)[keep].tolist()
    return [Edge(i, j, kind, score) for i, j, score in zip(lo, hi, mine["score"].filter(pl.Series(keep)).to_list())]


def match(
    window: Window, stored_edges: pl.DataFrame, model: PairModel | None, config: Config, engine: Engine, timings: Timings, progress: Progress,
    keep_features: bool = False,
) -> Matched:  # fmt: skip
    """Find and verify the edges of fresh documents, keep the stored ones, cluster.

    Near-copy candidates come from LSH over one representative of each set of
    exact copies; paraphrase candidates from LSH over the fact fingerprints of
    one leader per near-copy group. Pairs between documents matched by an
    earlier run keep that run's decision (the stored edges).
    """
    n, ranks = len(window), window.ranks
    ids, doc_keys = window.documents["doc_id"], window.documents["doc_key"]
    published = window.documents["published"].to_list()
    stored = _stored_between_old(window, stored_edges)
    with timings.stage("near_copy"), progress.task("near-copies", 1) as advance:
        first = exact_copies(window.array("text_hash"))
        representative = first == ranks
        exact_edges = [Edge(int(first[i]), int(i), "near-copy", 1.0) for i in np.flatnonzero(~representative).tolist()]
        unique = np.flatnonzero(representative)
        fresh = (window.fresh | ~window.previous("representative", False))[unique]
        near = config.near_copy
        bands, rows = lsh_params(near.threshold, near.num_perm, near.bands, near.rows)
        keys = band_keys(window.array("signatures", unique), bands, rows)
        if near.lede_words:  # one more "band": the opening words, which truncated copies keep
            keys = np.column_stack([keys, window.array("lede_hash", unique)])
        pairs = unique[candidate_pairs(keys, near.max_bucket, None if fresh.all() else fresh)]
        counted = {"near_copy": len(pairs), "paraphrase": 0, "paraphrase_scored": 0}
        found_near = []
        for block in scan_blocks(pairs):
            found_near += verify_near_copies(block, shingle_similarity(window, block, config), window.facts, published, config)
        kept_near = _kept_edges(stored, "near-copy", representative)
        group = near_copy_groups(kept_near + found_near, first)
        advance(1)

    found_para: list[Edge] = []
    kept_para: list[Edge] = []
    weights: ParaphraseWeights | None = None
    scored: pl.DataFrame | None = None
    if config.paraphrase.enabled and n:
        with timings.stage("paraphrase"), progress.task("paraphrases", 1) as advance:
            leaders = np.flatnonzero(group == ranks)
            fresh = (window.fresh | ~window.previous("leader", False))[leaders]
            weights = ParaphraseWeights(window.term_counts("word_terms", leaders), window.term_counts("fact_terms", leaders), config.paraphrase.background_docs)
            facts = weights.fact_vectors(window.terms("fact_terms", leaders))  # small: documents have few facts
            candidates = pairs_to_verify(window.array("fact_signatures", leaders), fresh, facts, config, engine.map_threads)
            counted["paraphrase"] = len(candidates.pairs)
            involved = distinct_indices(candidates.pairs.ravel())
            docs = leaders[involved]
            vectors = ParaphraseVectors(lambda rows: word_vectors(window, weights, docs[rows]), facts[involved], engine.map_threads)
            candidates.pairs = index_in(involved, candidates.pairs)  # tens of millions of rows in a large window: only their local form is kept
            found = score_candidates(candidates, vectors, lambda rows: _pair_context(window, docs[rows]), model, config)
            counted["paraphrase_scored"] = found.scored
            window.release_pages()
            touching = fresh[involved]
            found_para = _paraphrase_edges(found, docs, touching, window, published, config)
            if keep_features:
                scored = _scored_frame(found, docs, ids)
            leader_mask = np.zeros(n, dtype=bool)
            leader_mask[leaders] = True
            kept_para = [e for kind in ("paraphrase", "event") for e in _kept_edges(stored, kind, leader_mask)]
            advance(1)
    with timings.stage("cluster"):
        story_edges = [e for e in kept_para + found_para if e.kind == "paraphrase"]
        story = story_clusters(group, exact_edges + kept_near + found_near + story_edges, config.story.min_link_fraction)
        event = story_clusters(story, kept_near + found_near + kept_para + found_para, config.event.min_link_fraction)
        matched = kept_near + found_near + kept_para + found_para
        a, b = [e.a for e in matched], [e.b for e in matched]
        edges = pl.DataFrame(
            {
                "a": ids.gather(a),
                "b": ids.gather(b),
                "a_key": doc_keys.gather(a),
                "b_key": doc_keys.gather(b),
                "kind": [e.kind for e in matched],
                "score": [e.score for e in matched],
            },
            schema=EDGES_SCHEMA,
        )
    return Matched(group, story, event, representative, edges, weights, scored, counted)


def shingle_similarity(window: Window, pairs: np.ndarray, config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``verify.near_copies`` of pairs of the window's documents, read where their shingles lie."""
    similar, jaccard, containment = np.zeros(len(pairs), dtype=bool), np.zeros(len(pairs)), np.zeros(len(pairs))
    for first, second, rows, mine in window.segment_pairs(pairs):
        similar[mine], jaccard[mine], containment[mine] = near_copies(first.sketches.shingles, second.sketches.shingles, rows, config)
    window.release_pages()
    return similar, jaccard, containment


def _pair_context(window: Window, documents: np.ndarray) -> PairContext:
    """The facts, publication times and lengths of some of the window's documents."""
    published = window.documents["published"].gather(documents).dt.epoch("s").cast(pl.Float64).fill_null(np.nan).to_numpy()
    return PairContext(window.ragged("numbers", documents), window.ragged("names", documents), published, window.array("words", documents))


def _paraphrase_edges(found: ScoredPairs, docs: np.ndarray, touching: np.ndarray, window: Window, published: list[Any], config: Config) -> list[Edge]:
    """The model's story and event edges among ``found`` (pairs of ``docs``)
    with a document ``touching`` this run. Story edges keep the one rule on
    facts and time (``same_story_possible``): published further apart than
    ``story.window_hours``, the numbers and names must agree."""
    story = config.story
    edges = []
    for k in np.flatnonzero(found.story | found.event).tolist():
        a, b = found.pairs[k].tolist()
        if not (touching[a] or touching[b]):
            continue
        i, j = int(docs[a]), int(docs[b])
        one_story = bool(found.story[k]) and same_story_possible(
            window.facts(i), window.facts(j), published[i], published[j], story.window_hours, story.min_fact_agreement, undated_needs_numbers=False
        )
        edges.append(Edge(min(i, j), max(i, j), "paraphrase" if one_story else "event", float(found.scores[k])))
    return edges


def _scored_frame(found: ScoredPairs, docs: np.ndarray, ids: pl.Series) -> pl.DataFrame:
    """``Matched.scored``: the documents of each scored pair, by id, and its features."""
    frame = pl.DataFrame({"a": ids.gather(docs[found.pairs[:, 0]]), "b": ids.gather(docs[found.pairs[:, 1]]), "story_candidate": found.story_candidate})
    return frame.with_columns(pl.Series(name, found.features[:, k]) for k, name in enumerate(PAIR_FEATURES))


def word_vectors(window: Window, weights: ParaphraseWeights, documents: np.ndarray) -> csr_matrix:
    """The weighted word vectors of some of the window's documents."""
    return weights.word_vectors_of(partial(window.terms, "word_terms"), window.term_lengths("word_terms", documents), documents)


def story_and_event_ids(window: Window, matched: Matched) -> tuple[list[str], list[str]]:
    """Each document's story id and event id: an earlier run's id where the
    story (event) goes on, else one named after its founding document (``name_stories``)."""
    docs = window.documents
    founders = list(zip(docs["run"].to_list(), docs["path"].to_list(), docs["record"].fill_null(0).to_list(), docs["doc_id"].to_list()))
    names = name_stories(matched.story, founders, docs["doc_id"].to_list(), docs["cluster_id"].to_list())
    event_names = name_stories(matched.event, founders, docs["doc_id"].to_list(), docs["event_id"].to_list(), prefix="e")
    return [names[s] for s in matched.story.tolist()], [event_names[e] for e in matched.event.tolist()]
