"""Stages canonical, diff and report: each story's canonical, each variant's match kind, scores and diff, as report frames."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import polars as pl

from dedup.arrays import distinct, distinct_indices, index_in
from dedup.config import Config, DiffConfig
from dedup.engine.base import Engine
from dedup.kernels.canonical import (
    RANKED_COLUMNS,
    STORY_CRITERION,
    canonical_reason,
    story_canonicals,
)
from dedup.kernels.diff import diff_pairs
from dedup.kernels.language import name_of
from dedup.kernels.paraphrase import ParaphraseVectors
from dedup.progress import Progress, Timings
from dedup.records import Rejection
from dedup.reports import builders as report
from dedup.reports.variants import DiffColumns, diff_columns, diffs_frame
from dedup.reports.views import ranked
from dedup.schema import DIFF_KEY_SCHEMA, DIFFS_SCHEMA
from dedup.stages.match import Matched, shingle_similarity, word_vectors
from dedup.store.window import Window, scan_blocks


def build_reports(
    window: Window, matched: Matched, cluster_ids: list[str], event_ids: list[str], rejections: list[Rejection], previous_canonicals: dict[str, str],
    previous_diffs: pl.DataFrame | None, config: Config, engine: Engine, timings: Timings, progress: Progress,
) -> tuple[report.Reports, dict[str, np.ndarray]]:  # fmt: skip
    """Canonicals, match kinds, scores and diffs, as report frames; and the
    per-document results the state keeps (``schema.RESULT_SCHEMA``).

    A variant whose canonical (and being in its near-copy group or not) is as
    in the previous run keeps that run's row; the others are compared afresh.
    ``previous_diffs`` (``DIFFS_SCHEMA``, from the state) holds diffs
    already made: a variant whose pair of document versions is among them is
    not diffed again."""
    docs, ranks = window.documents, window.ranks
    ids, runs = docs["doc_id"].to_numpy(), docs["run"].to_numpy()
    group = matched.group
    with timings.stage("canonical"):
        canon, runner_up, representative = story_canonicals(
            docs.select(RANKED_COLUMNS), matched.story, lambda rows: [window.ragged("numbers", rows), window.ragged("names", rows)], config.canonical
        )
        is_canonical = canon == ranks
        in_canonical_group = group == group[canon]
        kept = (
            ~window.fresh & ~is_canonical
            & (window.previous("canonical_doc_id", "") == ids[canon]) & (window.previous("canonical_run", -1) == runs[canon])
            & (window.previous("in_canonical_group", False) == in_canonical_group) & window.previous("match", "").astype(bool)
        )  # fmt: skip
        match_kind = np.where(is_canonical, "canonical", window.previous("match", "")).astype(object)
        jaccard = np.where(is_canonical, 1.0, window.previous("jaccard", np.nan))
        containment = np.where(is_canonical, 1.0, window.previous("containment", np.nan))
        paraphrase = np.where(is_canonical, 1.0, window.previous("paraphrase_score", np.nan))
        todo = np.flatnonzero(~is_canonical & ~kept)
        involved = distinct_indices(np.concatenate([todo, canon[todo]]))
        text_hash = window.array("text_hash")
        for block in scan_blocks(todo):
            same_words = text_hash[block] == text_hash[canon[block]]  # the same shingles too: nothing to compare
            exact, rest = block[same_words], block[~same_words]
            match_kind[exact], jaccard[exact], containment[exact] = "exact", 1.0, 1.0
            similar, jaccard[rest], containment[rest] = shingle_similarity(window, np.stack([canon[rest], rest], axis=1), config)
            match_kind[rest] = np.where(similar | in_canonical_group[rest], "near-copy", "paraphrase")
        if matched.weights is not None and len(todo):
            weights = matched.weights
            facts = weights.fact_vectors(window.terms("fact_terms", involved))
            vectors = ParaphraseVectors(lambda rows: word_vectors(window, weights, involved[rows]), facts, engine.map_threads)
            paraphrase[todo] = vectors.score_pairs(index_in(involved, np.stack([canon[todo], todo], axis=1)))
        elif matched.weights is None:
            paraphrase[~is_canonical] = np.nan
        reasons = _canonical_reasons(docs, canon, runner_up, representative, cluster_ids, config)
    variants = np.flatnonzero(~is_canonical)
    with timings.stage("diff"):
        diffs = _variant_diffs(window, [(i, int(canon[i])) for i in variants.tolist()], previous_diffs, config, engine, progress)
    with timings.stage("report"):
        rows = {
            "cluster_id": cluster_ids, "event_id": event_ids, "group_id": ids[group], "canonical_doc_id": ids[canon], "match": match_kind,
            "jaccard": jaccard, "containment": containment, "paraphrase_score": _nullable(paraphrase),
        }  # fmt: skip
        languages = pl.Series("language", [name_of(code) for code in window.array("language").tolist()], dtype=pl.String)
        reports = report.make_reports(docs.with_columns(languages), rows | {"is_canonical": is_canonical}, diffs, reasons, rejections, previous_canonicals)
        reports.canonical_texts = _shown_canonical_texts(window, np.flatnonzero(is_canonical), reports.clusters, config.report.html_stories)
    state_only = {"canonical_run": runs[canon], "in_canonical_group": in_canonical_group, "representative": matched.representative, "leader": group == ranks}
    return reports, rows | state_only


def _shown_canonical_texts(window: Window, canonicals: np.ndarray, clusters: pl.DataFrame, stories: int) -> dict[str, str]:
    """The texts of the canonicals of the ``stories`` largest stories (those report.html shows), by doc_id."""
    shown = set(ranked(clusters, "size").head(stories)["canonical_doc_id"].to_list())
    ids = window.documents["doc_id"].gather(canonicals).to_list()
    texts = {doc_id: window.text(int(i)) for doc_id, i in zip(ids, canonicals.tolist()) if doc_id in shown}
    window.release_pages()
    return texts


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN: no value


def _canonical_reasons(docs: pl.DataFrame, canon: np.ndarray, runner_up: np.ndarray, representative: np.ndarray, cluster_ids: list[str], config: Config) -> dict[str, str]:
    """Each story's canonical reason, from its canonical and the next member in rank (``runner_up``, -1 for none)."""
    heads = np.flatnonzero(canon == np.arange(len(canon)))
    seconds = runner_up[heads]
    needed = distinct(np.concatenate([heads, seconds[seconds >= 0]]))
    rows = docs.select(RANKED_COLUMNS)[needed].with_columns(pl.Series(STORY_CRITERION, representative[needed]))
    by_index = dict(zip(needed.tolist(), rows.iter_rows(named=True)))
    return {cluster_ids[c]: canonical_reason(by_index[c], by_index[r] if r >= 0 else None, config.canonical) for c, r in zip(heads.tolist(), seconds.tolist())}


def _variant_diffs(window: Window, pairs: list[tuple[int, int]], previous: pl.DataFrame | None, config: Config, engine: Engine, progress: Progress) -> pl.DataFrame:
    """The diff of each ``(variant, canonical)`` pair, as a ``DIFFS_SCHEMA`` frame."""
    ids, runs = window.documents["doc_id"].to_list(), window.documents["run"].to_list()
    keys = [(ids[i], runs[i], ids[c], runs[c]) for i, c in pairs]
    if previous is None:
        known = pl.DataFrame(schema=DIFFS_SCHEMA)
    else:
        known = pl.DataFrame(keys, schema=DIFF_KEY_SCHEMA, orient="row").join(previous, on=list(DIFF_KEY_SCHEMA), how="inner")
    seen = set(known["doc_id"].to_list())
    todo = [(pair, key) for pair, key in zip(pairs, keys) if key[0] not in seen]
    made = [known]
    with progress.task("diffs", len(todo)) as advance:
        text_pairs = _texts_as_read(window, [pair for pair, _ in todo], config.runtime.chunk_docs)
        done = 0
        diff = partial(_diffs_of, config=config.diff)
        for part in engine.map_batches(diff, text_pairs, config.runtime.chunk_docs, advance, total=len(todo)):
            made.append(diffs_frame([key for _, key in todo[done : done + part.rows]], part))
            done += part.rows
    return pl.concat(made)


def _diffs_of(pairs: list[tuple[str, str]], config: DiffConfig) -> DiffColumns:
    """A worker's diffs of ``(canonical, variant)`` texts, as the flat columns it sends back."""
    return diff_columns(diff_pairs(pairs, config))


def _texts_as_read(window: Window, pairs: list[tuple[int, int]], release_every: int) -> Iterator[tuple[str, str]]:
    """``(canonical text, variant text)`` of each ``(variant, canonical)`` pair,
    read as the consumer asks (not all in memory), releasing the segments'
    pages every ``release_every`` pairs."""
    for k, (i, c) in enumerate(pairs):
        if k and k % release_every == 0:
            window.release_pages()
        yield window.text(c), window.text(i)
    window.release_pages()
