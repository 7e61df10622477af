"""The batch job: ingest → normalise → sketch → candidates → verify → cluster
→ canonical → diffs → reports. Each stage lives in its own module; this one
wires them, times them, and carries state between runs.
"""

from __future__ import annotations

import gc
import os
import platform
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dedup import report
from dedup.canonical import canonical_reason, preference_key
from dedup.cluster import cluster, name_stories
from dedup.config import Config, NormaliseConfig
from dedup.diff import diff_pairs
from dedup.ingest import list_feed_files, make_ids_unique, read_file
from dedup.lsh import band_keys, candidate_pairs, lsh_params
from dedup.normalise import Boilerplate, normalise_text
from dedup.paraphrase import ParaphraseScorer, paraphrase_candidates, verify_paraphrases
from dedup.parallel import map_chunks
from dedup.progress import Progress
from dedup.records import Article, Document, Rejection
from dedup.sketch import PackedSketches, sketch_texts
from dedup.state import State, StateMismatch, acquire_lock, expire, load_state, save_state, utc_now
from dedup.verify import Edge, is_near_copy, verify_near_copies


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)


@dataclass
class Prepared:
    """Documents ready for matching, with their signatures (row i is document i)."""

    documents: list[Document]
    signatures: np.ndarray
    fact_signatures: np.ndarray


def ingest(files: list[Path], feed_dir: Path, config: Config, progress: Progress, taken_ids: set[str]) -> tuple[list[Article], list[Rejection]]:
    articles: list[Article] = []
    rejections: list[Rejection] = []
    with progress.task("ingest", len(files)) as advance:
        for path in files:
            for item in read_file(path, feed_dir, config.ingest):
                (articles if isinstance(item, Article) else rejections).append(item)
            advance(1)
    make_ids_unique(articles, taken_ids)
    return articles, rejections


def _full_text(title: str, text: str) -> str:
    """The title, then the text (unless it opens with the title already)."""
    return text if not title or text.startswith(title) else f"{title}\n{text}"


def _line_keys_chunk(items: list[tuple[str, str]], config: NormaliseConfig) -> list[set[int]]:
    """Worker: the short-line keys of each normalised ``(title, text)``."""
    boilerplate = Boilerplate(config)
    return [boilerplate.short_line_keys(normalise_text(_full_text(*item))) for item in items]


def _clean_and_sketch(items: list[tuple[str, str]], config: Config, recurring: frozenset[int]) -> tuple[list[str], PackedSketches]:
    """Worker: each ``(title, text)`` normalised, boilerplate stripped, then sketched."""
    boilerplate = Boilerplate(config.normalise, recurring)
    cleaned = [boilerplate.strip(normalise_text(_full_text(*item))) for item in items]
    return cleaned, sketch_texts(cleaned, config)


def prepare(
    articles: list[Article], line_counts: Counter[int], config: Config, progress: Progress, timings: Timings, run: int, seen_at: datetime
) -> tuple[Prepared, list[Rejection]]:
    """Normalise, strip boilerplate and sketch; reject documents left with no words.

    ``line_counts`` (short-line key -> documents holding it, over the whole
    window) is updated with these articles before recurring lines are judged.
    Texts are normalised twice (for their lines, then to clean and sketch)
    rather than kept normalised in between: that costs less than holding and
    passing a second copy of every text between processes.
    """
    size, processes = config.runtime.chunk_docs, workers(config)
    items = [(a.title, a.text) for a in articles]  # the worker joins them: no second copy of every text here
    with timings.stage("normalise"), progress.task("normalise", len(articles)) as advance:
        for part in map_chunks(partial(_line_keys_chunk, config=config.normalise), items, size, processes, advance):
            for keys in part:
                line_counts.update(keys)
        recurring = frozenset(k for k, n in line_counts.items() if n >= config.normalise.recurring_line_min_docs)
    with timings.stage("sketch"), progress.task("sketch", len(items)) as advance:
        parts = map_chunks(partial(_clean_and_sketch, config=config, recurring=recurring), items, size, processes, advance)
        del items
        cleaned = [text for texts_part, _ in parts for text in texts_part]
        sketches = [sketch for _, packed in parts for sketch in packed.unpack()]
        signatures = np.concatenate([packed.signatures for _, packed in parts]) if parts else np.empty((0, config.near_copy.num_perm), np.uint32)
        fact_signatures = np.concatenate([packed.fact_signatures for _, packed in parts]) if parts else np.empty((0, config.paraphrase.num_perm), np.uint32)
    keep = [i for i, s in enumerate(sketches) if s.words > 0]
    rejections = [Rejection(articles[i].path, articles[i].record, "no words left after boilerplate removal") for i, s in enumerate(sketches) if s.words == 0]
    for i in keep:  # the raw text is not needed again: keep one copy, the cleaned one
        articles[i].text = cleaned[i]
    documents = [Document(articles[i], cleaned[i], sketches[i], run, seen_at) for i in keep]
    return Prepared(documents, signatures[keep], fact_signatures[keep]), rejections


def workers(config: Config) -> int:
    return config.runtime.workers or len(os.sched_getaffinity(0))


@dataclass
class Matched:
    """Documents in canonical preference order, with their groups, stories and edges."""

    documents: list[Document]
    signatures: np.ndarray
    fact_signatures: np.ndarray
    group: np.ndarray
    story: np.ndarray
    scorer: ParaphraseScorer | None


def match(prepared: Prepared, config: Config, timings: Timings, progress: Progress) -> Matched:
    """Order by canonical preference, find and verify edges, cluster."""
    order = sorted(range(len(prepared.documents)), key=lambda i: preference_key(prepared.documents[i], config.canonical))
    docs = [prepared.documents[i] for i in order]
    signatures, fact_signatures = prepared.signatures[order], prepared.fact_signatures[order]
    published = [d.article.published for d in docs]
    sketches = [d.sketch for d in docs]
    n = len(docs)

    with timings.stage("near_copy"), progress.task("near-copies", 1) as advance:
        first_with_hash: dict[int, int] = {}
        exact_edges: list[Edge] = []
        for i, s in enumerate(sketches):
            first = first_with_hash.setdefault(s.text_hash, i)
            if first != i:
                exact_edges.append(Edge(first, i, "near-copy", 1.0))
        unique = np.array(sorted(first_with_hash.values()), dtype=np.int64)
        near = config.near_copy
        bands, rows = lsh_params(near.threshold, near.num_perm, near.bands, near.rows)
        keys = band_keys(signatures[unique], bands, rows)
        if near.lede_words:  # one more "band": the opening words, which truncated copies keep
            keys = np.column_stack([keys, np.array([sketches[i].lede_hash for i in unique], dtype=np.uint64)])
        pairs = unique[candidate_pairs(keys, near.max_bucket)] if n else np.empty((0, 2), np.int64)
        near_edges = exact_edges + verify_near_copies(pairs, sketches, published, config)
        group = cluster(near_edges, [], config.story.min_link_fraction, n).group
        advance(1)

    para_edges: list[Edge] = []
    scorer: ParaphraseScorer | None = None
    if config.paraphrase.enabled and n:
        with timings.stage("paraphrase"), progress.task("paraphrases", 1) as advance:
            leaders = [i for i in range(n) if group[i] == i]
            leader_facts = [sketches[i].facts for i in leaders]
            scorer = ParaphraseScorer([sketches[i] for i in leaders])
            leader_pairs = paraphrase_candidates(fact_signatures[leaders], config)
            found = verify_paraphrases(leader_pairs, scorer, leader_facts, [published[i] for i in leaders], config)
            para_edges = [Edge(leaders[e.a], leaders[e.b], e.kind, e.score) for e in found]
            advance(1)
    with timings.stage("cluster"):
        clustering = cluster(near_edges, para_edges, config.story.min_link_fraction, n)
    return Matched(docs, signatures, fact_signatures, clustering.group, clustering.story, scorer)


def build_reports(
    matched: Matched, cluster_ids: dict[int, str], rejections: list[Rejection], previous_canonicals: dict[str, str],
    previous_diffs: pl.DataFrame | None, config: Config, timings: Timings, progress: Progress,
) -> report.Reports:  # fmt: skip
    """Canonicals, match kinds, scores and diffs, as report frames.

    ``previous_diffs`` (``report.DIFFS_SCHEMA``, from the state) holds diffs
    already made: a variant whose pair of document versions is among them is
    not diffed again."""
    docs, group, story = matched.documents, matched.group, matched.story
    members: dict[int, list[int]] = {}
    for i, s in enumerate(story.tolist()):
        members.setdefault(s, []).append(i)
    with timings.stage("canonical"):
        canon = story
        variants = [i for i in range(len(docs)) if canon[i] != i]
        para_scores: dict[int, float] = {}
        if matched.scorer is not None and variants:
            involved = sorted(set(variants) | {int(canon[i]) for i in variants})
            row = {i: k for k, i in enumerate(involved)}
            words, facts = matched.scorer.transform([docs[i].sketch for i in involved])
            a = np.array([row[int(canon[i])] for i in variants])
            b = np.array([row[i] for i in variants])
            para_scores = dict(zip(variants, ParaphraseScorer.score_rows(words[a], facts[a], words[b], facts[b]).tolist()))
        rows: list[tuple[int, str, float, float, float | None]] = []
        for i, doc in enumerate(docs):
            c = int(canon[i])
            if c == i:
                rows.append((i, "canonical", 1.0, 1.0, 1.0))
                continue
            similar, jaccard, containment = is_near_copy(docs[c].sketch, doc.sketch, config)
            if doc.sketch.text_hash == docs[c].sketch.text_hash:
                kind = "exact"
            elif similar or group[i] == group[c]:
                kind = "near-copy"
            else:
                kind = "paraphrase"
            rows.append((i, kind, jaccard, containment, para_scores.get(i)))
    with timings.stage("diff"):
        diffs = _variant_diffs(docs, [(i, int(canon[i])) for i in variants], previous_diffs, config, progress)
    with timings.stage("report"):
        reasons = {s: canonical_reason(docs[s], docs[m[1]] if len(m) > 1 else None, config.canonical) for s, m in members.items()}
        return report.make_reports(docs, group, story, rows, diffs, reasons, cluster_ids, rejections, previous_canonicals)


def _variant_diffs(
    docs: list[Document], pairs: list[tuple[int, int]], previous: pl.DataFrame | None, config: Config, progress: Progress
) -> pl.DataFrame:
    """The diff of each ``(variant, canonical)`` pair, as a ``report.DIFFS_SCHEMA`` frame."""
    keys = [(docs[i].article.doc_id, docs[i].run, docs[c].article.doc_id, docs[c].run) for i, c in pairs]
    if previous is None:
        known = report.diffs_frame([], [])
    else:
        known = pl.DataFrame(keys, schema=report.DIFF_KEY_SCHEMA, orient="row").join(previous, on=list(report.DIFF_KEY_SCHEMA), how="inner")
    seen = set(known["doc_id"].to_list())
    todo = [(pair, key) for pair, key in zip(pairs, keys) if key[0] not in seen]
    with progress.task("diffs", len(todo)) as advance:
        text_pairs = [(docs[c].text, docs[i].text) for (i, c), _ in todo]
        found = map_chunks(partial(diff_pairs, max_sentences=config.diff.max_sentences), text_pairs, config.runtime.chunk_docs, workers(config), advance)
    made = report.diffs_frame([key for _, key in todo], [d for part in found for d in part])
    return pl.concat([known, made])


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("newsdedup", "datasketch", "polars", "numpy", "scikit-learn", "xxhash", "trafilatura", "wordfreq"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def summarise(
    reports: report.Reports, feed_dir: Path, files: int, files_read: int, timings: Timings, config: Config, run: int
) -> dict[str, Any]:
    """run.json: effective config, counts, timings per stage, versions."""
    documents, rejected, clusters = reports.documents.height, reports.rejected.height, reports.clusters.height
    return {
        "run": run,
        "feed_dir": str(feed_dir.resolve()),
        "config": config.model_dump(mode="json"),
        "counts": {
            "files": files,
            "files_read": files_read,
            "inputs": documents + rejected,
            "documents": documents,
            "rejected": rejected,
            "clusters": clusters,
            "duplicates": documents - clusters,
            "duplicate_rate": round((documents - clusters) / documents, 4) if documents else 0.0,
            "matches": dict(sorted(reports.documents.group_by("match").len().iter_rows())),
            "canonical_changed": int(reports.clusters["canonical_changed"].sum()),
        },
        "timings_seconds": timings.seconds | {"total": round(sum(timings.seconds.values()), 4)},
        "versions": versions(),
    }


def _sketch_settings(config: Config) -> dict[str, Any]:
    """Options that stored sketches depend on: a state is only valid under the same."""
    return {
        "normalise": config.normalise.model_dump(mode="json"),
        "shingle_words": config.near_copy.shingle_words,
        "num_perm": config.near_copy.num_perm,
        "seed": config.near_copy.seed,
        "lede_words": config.near_copy.lede_words,
        "paraphrase_num_perm": config.paraphrase.num_perm,
        "fingerprint_terms": config.paraphrase.fingerprint_terms,
    }


def run_job(feed_dir: Path, out_dir: Path, config: Config, progress: Progress, state_dir: Path | None = None, dry_run: bool = False) -> dict[str, Any]:
    """One run: everything under ``feed_dir`` (only new or changed files when
    ``state_dir`` holds earlier runs), reports for the whole window in
    ``out_dir``. Returns the run.json content."""
    lock_dir = state_dir or out_dir
    with nullcontext() if dry_run else acquire_lock(lock_dir), _cyclic_gc_paused():
        return _run_locked(feed_dir, out_dir, config, progress, state_dir, dry_run)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A run makes millions of small objects and next to no reference cycles:
    the cyclic collector's passes over them only cost time (44.3 s against
    39.1 s for 100,000 documents, more as the window grows), so it waits
    until the run is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_locked(feed_dir: Path, out_dir: Path, config: Config, progress: Progress, state_dir: Path | None, dry_run: bool) -> dict[str, Any]:
    timings = Timings()
    now = utc_now()
    with timings.stage("load_state"):
        state = load_state(state_dir) if state_dir else State()
    if state.run and state.matching_config != _sketch_settings(config):
        raise StateMismatch(f"state {state_dir} was built with other normalise/sketch options; use a new --state directory or the same config")
    run = state.run + 1

    with timings.stage("ingest"):
        files = list_feed_files(feed_dir)
        stats = {}
        for path in files:
            try:
                st = path.stat()
                stats[path.relative_to(feed_dir).as_posix()] = (st.st_size, st.st_mtime_ns)
            except OSError:  # broken symlink: read_file rejects it
                stats[path.relative_to(feed_dir).as_posix()] = (-1, -1)
        to_read = [p for p in files if state.files.get(p.relative_to(feed_dir).as_posix()) != stats[p.relative_to(feed_dir).as_posix()]]
        reread = {p.relative_to(feed_dir).as_posix() for p in to_read}
        keep_old = [i for i, d in enumerate(state.documents) if d.article.path not in reread]
        old_rejections = [r for r in state.rejections if r.path not in reread]
        articles, rejections = ingest(to_read, feed_dir, config, progress, {state.documents[i].article.doc_id for i in keep_old})
    line_counts = Counter(state.line_counts)
    prepared, empty = prepare(articles, line_counts, config, progress, timings, run, now)
    rejections = old_rejections + rejections + empty

    with timings.stage("retention"):
        newest = max((d.article.published for d in state.documents + prepared.documents if d.article.published), default=None)
        gone = expire(state, config.state.retention_days, now, newest)
        keep_old = [i for i in keep_old if not gone[i]]
        old_sig = state.signatures[keep_old] if state.signatures is not None else prepared.signatures[:0]
        old_fact = state.fact_signatures[keep_old] if state.fact_signatures is not None else prepared.fact_signatures[:0]
        window = Prepared(
            [state.documents[i] for i in keep_old] + prepared.documents,
            np.concatenate([old_sig, prepared.signatures]),
            np.concatenate([old_fact, prepared.fact_signatures]),
        )
    matched = match(window, config, timings, progress)
    docs = matched.documents
    ids = [d.article.doc_id for d in docs]
    cluster_ids = name_stories(
        matched.story, [(d.run, d.article.path, d.article.record or 0, d.article.doc_id) for d in docs], ids, [state.cluster_ids.get(i) for i in ids]
    )
    previous_diffs = state.diffs if state.diff_max_sentences == config.diff.max_sentences else None
    reports = build_reports(matched, cluster_ids, rejections, state.canonicals, previous_diffs, config, timings, progress)
    info = summarise(reports, feed_dir, len(files), len(to_read), timings, config, run)
    if previous_diffs is not None:
        info["counts"]["diffs_reused"] = reports.diffs.join(previous_diffs, on=list(report.DIFF_KEY_SCHEMA), how="semi").height
    if dry_run:
        return info
    with timings.stage("write"):
        report.write_reports(reports, out_dir, info)
        if state_dir is not None:
            by_doc = dict(zip(reports.documents["doc_id"].to_list(), reports.documents["cluster_id"].to_list()))
            save_state(
                state_dir,
                State(
                    run=run,
                    documents=docs,
                    signatures=matched.signatures,
                    fact_signatures=matched.fact_signatures,
                    cluster_ids=by_doc,
                    canonicals=dict(zip(reports.clusters["cluster_id"].to_list(), reports.clusters["canonical_doc_id"].to_list())),
                    files={p: s for p, s in stats.items()},
                    line_counts=dict(line_counts),
                    matching_config=_sketch_settings(config),
                    rejections=rejections,
                    diffs=reports.diffs,
                    diff_max_sentences=config.diff.max_sentences,
                ),
            )
    info["timings_seconds"] = timings.seconds | {"total": round(sum(timings.seconds.values()), 4)}
    return info
