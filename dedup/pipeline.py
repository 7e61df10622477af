"""The batch job: ingest → normalise → sketch → candidates → verify → cluster
→ canonical → diffs → reports. Each stage lives in its own module; this one
wires them, times them, and carries state between runs.
"""

from __future__ import annotations

import gc
import pickle
import platform
import tempfile
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
from scipy.sparse import csr_matrix

from dedup import report
from dedup.arrays import distinct, distinct_indices, index_in
from dedup.atomic import scratch_directory
from dedup.canonical import RANKED_COLUMNS, STORY_CRITERION, canonical_reason, story_canonicals
from dedup.cluster import name_stories, near_copy_groups, story_clusters
from dedup.config import Config, NormaliseConfig
from dedup.diff import diff_pairs
from dedup.ingest import display_path, list_feed_files, read_file, unique_ids
from dedup.language import name_of
from dedup.lsh import band_keys, candidate_pairs, lsh_params
from dedup.normalise import Boilerplate, normalise_text
from dedup.parallel import iter_chunks
from dedup.facts import same_story_possible
from dedup.pair_model import FEATURES as PAIR_FEATURES
from dedup.pair_model import PairModel, load_model
from dedup.paraphrase import PairContext, ParaphraseVectors, ParaphraseWeights, ScoredPairs, pairs_to_verify, score_candidates
from dedup.progress import Progress
from dedup.records import Article, Rejection
from dedup.segments import Segment, SegmentWriter, open_segment, remove_unused_segments, write_segment
from dedup.sketch import sketch_texts
from dedup.state import EDGES_SCHEMA, State, StateMismatch, acquire_lock, expired, load_state, save_state, utc_now
from dedup.verify import Edge, is_near_copy, verify_near_copies
from dedup.window import ARTICLE_FIELDS, ARTICLE_SCHEMA, RESULT_SCHEMA, SCAN_ROWS, Window, article_fields, assemble, new_documents


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
    """Where a run's new documents' sketches and cleaned texts are."""

    segment_name: str
    segment: Segment
    """Memory-mapped; it also holds the rows of articles rejected for having no words."""
    rows: np.ndarray
    """Each article's row in ``segment``."""


def _read(files: list[Path], feed_dir: Path, config: Config, rejections: list[Rejection], now: datetime) -> Iterator[Article]:
    """The articles of ``files`` in feed order; rejections go to ``rejections``.
    ``now``: the run's clock (later dates are not a news item's)."""
    for path in files:
        for item in read_file(path, feed_dir, config.ingest, now):
            if isinstance(item, Article):
                yield item
            else:
                rejections.append(item)


def _full_text(title: str, text: str) -> str:
    """The title, then the text, unless the text holds the title already (a
    text file's title is a piece of it, perhaps after a markdown ``#``, a caption
    or a date line: put in front again, its words would count twice)."""
    return text if not title or text.startswith(title) or title in text else f"{title}\n{text}"


def _normalise_and_spill(items: list[tuple[str, str]], config: NormaliseConfig, spill_dir: Path) -> tuple[Path, list[set[int]]]:
    """Worker: each ``(title, text)`` normalised; the texts go to a new file
    in ``spill_dir``, their short-line keys come back."""
    boilerplate = Boilerplate(config)
    texts = [normalise_text(_full_text(*item)) for item in items]
    with tempfile.NamedTemporaryFile(dir=spill_dir, suffix=".pickle", delete=False) as spill:
        pickle.dump(texts, spill, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(spill.name), [boilerplate.short_line_keys(text) for text in texts]


@dataclass(frozen=True)
class SpillPart:
    """Part ``part`` of ``parts`` (of the documents, in order) of a spill file."""

    path: Path
    part: int
    parts: int


def _spill_parts(spills: list[tuple[Path, int]], workers: int) -> list[SpillPart]:
    """The sketch pass's tasks, from each spill file and its number of
    documents: each file whole, or cut in parts of at least ``_MIN_PART_DOCS``
    when there are few files, so that every worker has about as much to do (a
    feed of five chunks would keep one of two workers idle for a fifth of the pass)."""
    wanted = -(-_PARTS_PER_WORKER * workers // len(spills)) if spills else 1
    tasks = []
    for path, documents in spills:
        parts = max(1, min(wanted, documents // _MIN_PART_DOCS))
        tasks += [SpillPart(path, part, parts) for part in range(parts)]
    return tasks


_PARTS_PER_WORKER = 8
_MIN_PART_DOCS = 250


def _clean_and_sketch(tasks: list[SpillPart], config: Config, recurring: frozenset[int]) -> Segment:
    """Worker: the normalised texts of some spill parts, boilerplate stripped, then sketched."""
    boilerplate = Boilerplate(config.normalise, recurring)
    cleaned = []
    for task in tasks:
        with task.path.open("rb") as file:
            texts = pickle.load(file)
        part = texts[task.part * len(texts) // task.parts : (task.part + 1) * len(texts) // task.parts]
        cleaned += [boilerplate.strip(text) for text in part]
    return Segment.of(sketch_texts(cleaned, config), cleaned)


def prepare(
    files: list[Path], feed_dir: Path, taken_ids: set[str], line_counts: Counter[int], config: Config, progress: Progress, timings: Timings,
    segments: Path, run: int, seen_at: Any, durable: bool,
) -> tuple[pl.DataFrame, Prepared, list[Rejection]]:  # fmt: skip
    """Read ``files``, normalise, strip boilerplate and sketch into a new
    segment under ``segments`` (fsynced when ``durable``); reject what cannot
    be read and documents left with no words. Returns the new documents'
    fields (``window.ARTICLE_SCHEMA``: columns, not an object per article,
    which for a large run would outweigh the sketches), where their sketches
    are, and the rejections.

    The files are read once, streaming, so that their texts are never all in
    memory: workers normalise each chunk of texts, count its short lines
    (``line_counts``, over the whole window, is updated before recurring
    lines are judged) and spill the normalised texts to a temporary file;
    once every file is read, workers clean and sketch the spilled chunks.
    Each chunk's sketches are written as they arrive.
    ``taken_ids``: the ids of the window's other documents, kept by them.
    """
    size, processes = config.runtime.chunk_docs, config.runtime.parallelism()
    read: list[pl.DataFrame] = []
    pending: list[Article] = []
    rejections: list[Rejection] = []

    def reading() -> Iterator[tuple[str, str]]:
        for article in _read(files, feed_dir, config, rejections, seen_at):
            pending.append(article)
            yield article.title, article.text  # the worker joins them: no second copy of every text here
            article.text = ""  # spilled by the worker
            if len(pending) == size:  # kept as columns: a large run's Article objects would hold, and once freed keep, hundreds of MB
                read.append(article_fields(pending))
                pending.clear()

    with scratch_directory("spill") as spill_dir:
        spills = []
        with timings.stage("ingest"), progress.task("ingest", None) as advance:  # documents: not known before reading
            for spill, keys_of in iter_chunks(partial(_normalise_and_spill, config=config.normalise, spill_dir=Path(spill_dir)), reading(), size, processes, advance):
                spills.append((spill, len(keys_of)))
                for keys in keys_of:
                    line_counts.update(keys)
            fields = _with_unique_ids(pl.concat([*read, article_fields(pending)]), taken_ids)
            del read, pending
            recurring = frozenset(k for k, n in line_counts.items() if n >= config.normalise.recurring_line_min_docs)
        with timings.stage("sketch"), progress.task("sketch", fields.height) as advance:
            writer = SegmentWriter(segments, run, durable)
            words = [np.empty(0, dtype=np.int64)]
            tasks = _spill_parts(spills, processes)
            for task, part in zip(tasks, iter_chunks(partial(_clean_and_sketch, config=config, recurring=recurring), tasks, 1, processes)):
                writer.append(part)
                words.append(part.sketches.words)
                advance(len(part))
                if task.part == task.parts - 1:  # its last part is sketched: the disk space goes back
                    task.path.unlink()
            if not writer.documents:  # so that the segment has every array, if empty
                writer.append(_clean_and_sketch([], config, recurring))
            name = writer.close()
    all_words = np.concatenate(words)
    empty = fields.filter(pl.Series(all_words == 0))
    rejections += [Rejection(path, record, "no words left after boilerplate removal") for path, record in empty.select("path", "record").iter_rows()]
    keep = np.flatnonzero(all_words > 0)
    return new_documents(fields[keep], all_words[keep], run, seen_at), Prepared(name, open_segment(segments, name), keep), rejections


def _with_unique_ids(fields: pl.DataFrame, taken: set[str]) -> pl.DataFrame:
    """``fields`` with ``unique_ids``, a renamed document flagged ``duplicate_id``."""
    ids = fields["doc_id"].to_list()
    unique = unique_ids(ids, taken)
    renamed = [a != b for a, b in zip(ids, unique)]
    if not any(renamed):
        return fields
    flags = [[*f, "duplicate_id"] if r else f for f, r in zip(fields["flags"].to_list(), renamed)]
    return fields.with_columns(pl.Series("doc_id", unique, dtype=pl.String), pl.Series("flags", flags, dtype=ARTICLE_FIELDS["flags"]))


@dataclass
class Matched:
    """The window's near-copy groups and stories, with the edges found."""

    group: np.ndarray
    """Each document's near-copy group: the index of its leader."""
    story: np.ndarray
    """Each document's story: the index of its first (canonical) document."""
    event: np.ndarray
    """Each document's event: the index of its first document."""
    representative: np.ndarray
    """Which documents represent their exact copies (the first of each text hash)."""
    edges: pl.DataFrame
    """The candidate-matched edges to keep (``state.EDGES_SCHEMA``)."""
    weights: ParaphraseWeights | None
    scored: pl.DataFrame | None = None
    """When asked for (``dedup train``): each scored paraphrase candidate's
    documents (``a``, ``b``) and features (``pair_model.FEATURES``)."""


def _old_index(window: Window, stored: pl.DataFrame) -> dict[str, int]:
    """doc_id -> index of the window's old documents, when stored edges are kept (else empty)."""
    if window.fresh.all() or stored.height == 0:
        return {}
    old = np.flatnonzero(~window.new)
    return dict(zip(window.documents["doc_id"].gather(old).to_list(), old.tolist()))


def _kept_edges(stored: pl.DataFrame, old_index: dict[str, int], kind: str, eligible: np.ndarray) -> list[Edge]:
    """Stored edges of ``kind`` between old documents (``old_index``) both still ``eligible``."""
    if not old_index:
        return []
    edges = []
    for a, b, score in stored.filter(pl.col("kind") == kind).select("a", "b", "score").iter_rows():
        i, j = old_index.get(a), old_index.get(b)
        if i is not None and j is not None and eligible[i] and eligible[j]:
            edges.append(Edge(min(i, j), max(i, j), kind, score))
    return edges


def match(
    window: Window, stored_edges: pl.DataFrame, model: PairModel | None, config: Config, timings: Timings, progress: Progress, keep_features: bool = False
) -> Matched:
    """Find and verify the edges of fresh documents, keep the stored ones, cluster.

    Near-copy candidates come from LSH over one representative of each set of
    exact copies; paraphrase candidates from LSH over the fact fingerprints of
    one leader per near-copy group. Pairs between documents matched by an
    earlier run keep that run's decision (the stored edges).
    """
    n = len(window)
    ids = window.documents["doc_id"]
    published = window.documents["published"].to_list()
    old_index = _old_index(window, stored_edges)
    with timings.stage("near_copy"), progress.task("near-copies", 1) as advance:
        text_hash = window.array("text_hash")
        order = np.argsort(text_hash, kind="stable")  # ties in rank order: each hash's first is its most preferred
        starts = np.r_[True, text_hash[order][1:] != text_hash[order][:-1]] if n else np.empty(0, bool)
        first = np.empty(n, dtype=np.int64)
        first[order] = order[np.flatnonzero(starts)][np.cumsum(starts) - 1]
        representative = first == np.arange(n)
        exact_edges = [Edge(int(first[i]), int(i), "near-copy", 1.0) for i in np.flatnonzero(~representative).tolist()]
        unique = np.flatnonzero(representative)
        fresh = (window.fresh | ~window.previous("representative", False))[unique]
        near = config.near_copy
        bands, rows = lsh_params(near.threshold, near.num_perm, near.bands, near.rows)
        keys = band_keys(window.array("signatures", unique), bands, rows)
        if near.lede_words:  # one more "band": the opening words, which truncated copies keep
            keys = np.column_stack([keys, window.array("lede_hash", unique)])
        pairs = unique[candidate_pairs(keys, near.max_bucket, None if fresh.all() else fresh)]
        found_near = []
        for block in _blocks(pairs):
            found_near += verify_near_copies(block, window.sketches(distinct(block.ravel())), published, config)
            window.release_pages()
        kept_near = _kept_edges(stored_edges, old_index, "near-copy", representative)
        group = near_copy_groups(exact_edges + kept_near + found_near, n)
        advance(1)

    found_para: list[Edge] = []
    kept_para: list[Edge] = []
    weights: ParaphraseWeights | None = None
    scored: pl.DataFrame | None = None
    if config.paraphrase.enabled and n:
        with timings.stage("paraphrase"), progress.task("paraphrases", 1) as advance:
            leaders = np.flatnonzero(group == np.arange(n))
            fresh = (window.fresh | ~window.previous("leader", False))[leaders]
            weights = ParaphraseWeights(window.term_counts("word_terms", leaders), window.term_counts("fact_terms", leaders))
            facts = weights.fact_vectors(window.terms("fact_terms", leaders))  # small: documents have few facts
            candidates = pairs_to_verify(window.array("fact_signatures", leaders), fresh, facts, config)
            involved = distinct_indices(candidates.pairs.ravel())
            docs = leaders[involved]
            vectors = ParaphraseVectors(lambda rows: _word_vectors(window, weights, docs[rows]), facts[involved], config.runtime.parallelism())
            candidates.pairs = index_in(involved, candidates.pairs)  # tens of millions of rows in a large window: only their local form is kept
            found = score_candidates(candidates, vectors, lambda rows: _pair_context(window, docs[rows]), model, config)
            window.release_pages()
            touching = fresh[involved]
            found_para = _paraphrase_edges(found, docs, touching, window, published, config)
            if keep_features:
                scored = _scored_frame(found, docs, ids)
            leader_mask = np.zeros(n, dtype=bool)
            leader_mask[leaders] = True
            kept_para = [e for kind in ("paraphrase", "event") for e in _kept_edges(stored_edges, old_index, kind, leader_mask)]
            advance(1)
    with timings.stage("cluster"):
        story_edges = [e for e in kept_para + found_para if e.kind == "paraphrase"]
        story = story_clusters(group, exact_edges + kept_near + found_near + story_edges, config.story.min_link_fraction)
        event = story_clusters(story, kept_near + found_near + kept_para + found_para, config.event.min_link_fraction)
        matched = kept_near + found_near + kept_para + found_para
        edges = pl.DataFrame(
            {
                "a": ids.gather([e.a for e in matched]), "b": ids.gather([e.b for e in matched]),
                "kind": [e.kind for e in matched], "score": [e.score for e in matched],
            },  # fmt: skip
            schema=EDGES_SCHEMA,
        )
    return Matched(group, story, event, representative, edges, weights, scored)


def _pair_context(window: Window, documents: np.ndarray) -> PairContext:
    """The facts, publication times and lengths of some of the window's documents."""
    published = window.documents["published"].gather(documents).dt.epoch("s").cast(pl.Float64).fill_null(np.nan).to_numpy()
    return PairContext(window.ragged("numbers", documents), window.ragged("names", documents), published, window.array("words", documents))


def _paraphrase_edges(
    found: ScoredPairs, docs: np.ndarray, touching: np.ndarray, window: Window, published: list[Any], config: Config
) -> list[Edge]:
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


def _word_vectors(window: Window, weights: ParaphraseWeights, documents: np.ndarray) -> csr_matrix:
    """The weighted word vectors of some of the window's documents."""
    return weights.word_vectors_of(partial(window.terms, "word_terms"), window.term_lengths("word_terms", documents), documents)


def build_reports(
    window: Window, matched: Matched, cluster_ids: list[str], event_ids: list[str], rejections: list[Rejection], previous_canonicals: dict[str, str],
    previous_diffs: pl.DataFrame | None, config: Config, timings: Timings, progress: Progress,
) -> tuple[report.Reports, dict[str, np.ndarray]]:  # fmt: skip
    """Canonicals, match kinds, scores and diffs, as report frames; and the
    per-document results the state keeps (``window.RESULT_SCHEMA``).

    A variant whose canonical (and being in its near-copy group or not) is as
    in the previous run keeps that run's row; the others are compared afresh.
    ``previous_diffs`` (``report.DIFFS_SCHEMA``, from the state) holds diffs
    already made: a variant whose pair of document versions is among them is
    not diffed again."""
    n = len(window)
    docs = window.documents
    ids, runs = docs["doc_id"].to_numpy(), docs["run"].to_numpy()
    group = matched.group
    with timings.stage("canonical"):
        canon, runner_up, representative = story_canonicals(
            docs.select(RANKED_COLUMNS), matched.story, lambda rows: [window.ragged("numbers", rows), window.ragged("names", rows)], config.canonical
        )
        is_canonical = canon == np.arange(n)
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
        for block in _blocks(todo):
            sketches = window.sketches(distinct(np.concatenate([block, canon[block]])))
            for i in block.tolist():
                c = int(canon[i])
                if sketches[i].text_hash == sketches[c].text_hash:  # the same words: the same shingles
                    match_kind[i], jaccard[i], containment[i] = "exact", 1.0, 1.0
                    continue
                similar, jaccard[i], containment[i] = is_near_copy(sketches[c], sketches[i], config)
                match_kind[i] = "near-copy" if similar or in_canonical_group[i] else "paraphrase"
            window.release_pages()
        if matched.weights is not None and len(todo):
            weights = matched.weights
            facts = weights.fact_vectors(window.terms("fact_terms", involved))
            vectors = ParaphraseVectors(lambda rows: _word_vectors(window, weights, involved[rows]), facts, config.runtime.parallelism())
            paraphrase[todo] = vectors.score_pairs(index_in(involved, np.stack([canon[todo], todo], axis=1)))
        elif matched.weights is None:
            paraphrase[~is_canonical] = np.nan
        reasons = _canonical_reasons(docs, canon, runner_up, representative, cluster_ids, config)
    variants = np.flatnonzero(~is_canonical)
    with timings.stage("diff"):
        diffs = _variant_diffs(window, [(i, int(canon[i])) for i in variants.tolist()], previous_diffs, config, progress)
    with timings.stage("report"):
        rows = {
            "cluster_id": cluster_ids, "event_id": event_ids, "group_id": ids[group], "canonical_doc_id": ids[canon], "match": match_kind,
            "jaccard": jaccard, "containment": containment, "paraphrase_score": _nullable(paraphrase),
        }  # fmt: skip
        languages = pl.Series("language", [name_of(code) for code in window.array("language").tolist()], dtype=pl.String)
        reports = report.make_reports(docs.with_columns(languages), rows | {"is_canonical": is_canonical}, diffs, reasons, rejections, previous_canonicals)
    state_only = {"canonical_run": runs[canon], "in_canonical_group": in_canonical_group, "representative": matched.representative, "leader": group == np.arange(n)}
    return reports, rows | state_only


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN: no value


def _canonical_reasons(
    docs: pl.DataFrame, canon: np.ndarray, runner_up: np.ndarray, representative: np.ndarray, cluster_ids: list[str], config: Config
) -> dict[str, str]:
    """Each story's canonical reason, from its canonical and the next member in rank (``runner_up``, -1 for none)."""
    heads = np.flatnonzero(canon == np.arange(len(canon)))
    seconds = runner_up[heads]
    needed = distinct(np.concatenate([heads, seconds[seconds >= 0]]))
    rows = docs.select(RANKED_COLUMNS)[needed].with_columns(pl.Series(STORY_CRITERION, representative[needed]))
    by_index = dict(zip(needed.tolist(), rows.iter_rows(named=True)))
    return {
        cluster_ids[c]: canonical_reason(by_index[c], by_index[r] if r >= 0 else None, config.canonical) for c, r in zip(heads.tolist(), seconds.tolist())
    }


def _diff_schema_kept(diffs: pl.DataFrame | None) -> bool:
    """Whether a state's diffs have the schema this version makes (diffs of another are made again)."""
    return diffs is not None and diffs.schema == pl.Schema(report.DIFFS_SCHEMA)


def _variant_diffs(window: Window, pairs: list[tuple[int, int]], previous: pl.DataFrame | None, config: Config, progress: Progress) -> pl.DataFrame:
    """The diff of each ``(variant, canonical)`` pair, as a ``report.DIFFS_SCHEMA`` frame."""
    ids, runs = window.documents["doc_id"].to_list(), window.documents["run"].to_list()
    keys = [(ids[i], runs[i], ids[c], runs[c]) for i, c in pairs]
    if previous is None:
        known = report.diffs_frame([], [])
    else:
        known = pl.DataFrame(keys, schema=report.DIFF_KEY_SCHEMA, orient="row").join(previous, on=list(report.DIFF_KEY_SCHEMA), how="inner")
    seen = set(known["doc_id"].to_list())
    todo = [(pair, key) for pair, key in zip(pairs, keys) if key[0] not in seen]
    made = [known]
    with progress.task("diffs", len(todo)) as advance:
        text_pairs = _texts_as_read(window, [pair for pair, _ in todo], config.runtime.chunk_docs)
        done = 0
        diff = partial(diff_pairs, config=config.diff)
        for part in iter_chunks(diff, text_pairs, config.runtime.chunk_docs, config.runtime.parallelism(), advance, total=len(todo)):
            made.append(report.diffs_frame([key for _, key in todo[done : done + len(part)]], part))
            done += len(part)
    return pl.concat(made)


def _texts_as_read(window: Window, pairs: list[tuple[int, int]], release_every: int) -> Iterator[tuple[str, str]]:
    """``(canonical text, variant text)`` of each ``(variant, canonical)`` pair,
    read as the consumer asks (not all in memory), releasing the segments'
    pages every ``release_every`` pairs."""
    for k, (i, c) in enumerate(pairs):
        if k and k % release_every == 0:
            window.release_pages()
        yield window.text(c), window.text(i)
    window.release_pages()


def _blocks(rows: np.ndarray) -> Iterator[np.ndarray]:
    """``rows`` (pairs or documents) ``SCAN_ROWS`` at a time: a stage reads their sketches, then releases the pages."""
    for start in range(0, len(rows), SCAN_ROWS):
        yield rows[start : start + SCAN_ROWS]


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
        "language": config.language.model_dump(mode="json"),
    }


def _decision_settings(config: Config, model: PairModel) -> dict[str, Any]:
    """Options (and the pair model) that stored edges and results depend on: under others, every pair is matched again."""
    settings = {name: getattr(config, name).model_dump(mode="json") for name in ("near_copy", "paraphrase", "story", "event", "canonical")}
    return settings | {"pair_model": model.fingerprint}


def run_job(feed_dir: Path, out_dir: Path, config: Config, progress: Progress, state_dir: Path | None = None, dry_run: bool = False) -> dict[str, Any]:
    """One run: everything under ``feed_dir`` (only new or changed files when
    ``state_dir`` holds earlier runs), reports for the whole window in
    ``out_dir``. Returns the run.json content. Holds the locks of both
    directories: a run sharing either with this one does nothing."""
    with nullcontext() if dry_run else acquire_lock(state_dir, out_dir), _cyclic_gc_paused(), _segments_root(state_dir, dry_run) as segments:
        return _run_locked(feed_dir, out_dir, config, progress, state_dir, dry_run, segments)


@contextmanager
def _segments_root(state_dir: Path | None, dry_run: bool) -> Iterator[Path]:
    """Where the run's new segment goes: the state directory, or (without a
    state, or in a dry run) a temporary directory removed after the run
    (under ``TMPDIR``: the run's sketches and texts, about 8 KB a document)."""
    if state_dir is not None and not dry_run:
        yield state_dir
        return
    with scratch_directory("segments") as temporary:
        yield temporary


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


def _run_locked(
    feed_dir: Path, out_dir: Path, config: Config, progress: Progress, state_dir: Path | None, dry_run: bool, segments: Path
) -> dict[str, Any]:
    timings = Timings()
    now = utc_now()
    model = load_model(config.paraphrase.model)
    with timings.stage("load_state"):
        state = load_state(state_dir) if state_dir else State()
        if state_dir and not dry_run:  # a killed or failed run's segment: on a full disk this run needs its space
            remove_unused_segments(state_dir, set(state.segments))
    if state.run and state.sketch_settings != _sketch_settings(config):
        raise StateMismatch(f"state {state_dir} was built with other normalise/sketch options; use a new --state directory or the same config")
    run = state.run + 1

    with timings.stage("list_files"):
        files = list_feed_files(feed_dir, skip=[out_dir] + ([state_dir] if state_dir else []))
        names = {path: display_path(path, feed_dir) for path in files}
        stats = {}
        for path in files:
            try:
                st = path.stat()
                stats[names[path]] = (st.st_size, st.st_mtime_ns)
            except OSError:  # broken symlink: read_file rejects it
                stats[names[path]] = (-1, -1)
        to_read = [p for p in files if state.files.get(names[p]) != stats[names[p]]]
        reread = [names[p] for p in to_read]
        old = state.documents.filter(~pl.col("path").is_in(reread))
        old_rejections = [r for r in state.rejections if r.path not in set(reread)]
    line_counts = Counter(state.line_counts)
    new, prepared, rejections = prepare(
        to_read, feed_dir, set(old["doc_id"].to_list()), line_counts, config, progress, timings, segments, run, now, durable=segments == state_dir
    )
    rejections = old_rejections + rejections

    with timings.stage("retention"):
        newest = pl.concat([old["published"], new["published"]]).max()
        old = old.filter(~expired(old, config.state.retention_days, now, newest))
        segment_names = sorted(state.segments)
        old = old.with_columns(pl.col("segment").replace_strict({name: k for k, name in enumerate(segment_names)}, return_dtype=pl.Int64).alias("segment_index"))
        reuse = state.decision_settings == _decision_settings(config, model)
        window = assemble(old.drop("segment"), [state.segments[name] for name in segment_names], new, prepared.segment, prepared.rows, reuse, config.canonical)
        del old, new  # the window holds them, ranked: a second copy of a large run's fields would only take memory
    matched = match(window, state.edges, model, config, timings, progress)
    docs = window.documents
    previous_ids = docs["cluster_id"].to_list()
    founders = list(zip(docs["run"].to_list(), docs["path"].to_list(), docs["record"].fill_null(0).to_list(), docs["doc_id"].to_list()))
    names = name_stories(matched.story, founders, docs["doc_id"].to_list(), previous_ids)
    cluster_ids = [names[s] for s in matched.story.tolist()]
    event_names = name_stories(matched.event, founders, docs["doc_id"].to_list(), docs["event_id"].to_list(), prefix="e")
    event_ids = [event_names[e] for e in matched.event.tolist()]
    previous_diffs = state.diffs if state.diff_max_sentences == config.diff.max_sentences and _diff_schema_kept(state.diffs) else None
    reports, results = build_reports(window, matched, cluster_ids, event_ids, rejections, state.canonicals, previous_diffs, config, timings, progress)
    info = summarise(reports, feed_dir, len(files), len(to_read), timings, config, run)
    if previous_diffs is not None:
        info["counts"]["diffs_reused"] = reports.diffs.join(previous_diffs, on=list(report.DIFF_KEY_SCHEMA), how="semi").height
    if dry_run:
        return info
    with timings.stage("write"):
        report.write_reports(reports, out_dir, info)
        if state_dir is not None:
            documents, segments = _store_segments(state_dir, window, [*segment_names, prepared.segment_name], run)
            save_state(
                state_dir,
                State(
                    run=run,
                    documents=documents.with_columns(pl.Series(name, values, dtype=RESULT_SCHEMA[name]) for name, values in results.items()),
                    segments=segments,
                    edges=matched.edges,
                    canonicals=dict(zip(reports.clusters["cluster_id"].to_list(), reports.clusters["canonical_doc_id"].to_list())),
                    files=stats,
                    line_counts=dict(line_counts),
                    sketch_settings=_sketch_settings(config),
                    decision_settings=_decision_settings(config, model),
                    rejections=rejections,
                    diffs=reports.diffs,
                    diff_max_sentences=config.diff.max_sentences,
                ),
            )
    info["timings_seconds"] = timings.seconds | {"total": round(sum(timings.seconds.values()), 4)}
    return info


def _store_segments(state_dir: Path, window: Window, names: list[str], run: int) -> tuple[pl.DataFrame, dict[str, Segment]]:
    """Copy the live rows of old segments now less than half live into a new
    segment (see ``segments``); returns the window's documents with their
    ``segment`` and ``segment_row``, and the segments they use by name
    (``names``: those of ``window.segments``, the run's new one last)."""
    live = np.bincount(window.source, minlength=len(names))
    sparse = np.array([live[k] * 2 < len(window.segments[k]) for k in range(len(names) - 1)] + [False])
    segment_of = np.array(names, dtype=object)[window.source]
    row = window.row.copy()
    used = {name: window.segments[k] for k, name in enumerate(names) if live[k] and not sparse[k]}
    moved = np.flatnonzero(sparse[window.source])
    if len(moved):
        rows_of = [np.sort(window.row[moved[window.source[moved] == k]]) for k in range(len(names))]
        written = Segment.concat([segment.take(rows) for segment, rows in zip(window.segments, rows_of)])
        name = write_segment(state_dir, written, run)
        start = np.cumsum([0] + [len(rows) for rows in rows_of])
        segment_of[moved] = name
        for k, rows in enumerate(rows_of):
            mine = moved[window.source[moved] == k]
            row[mine] = start[k] + np.searchsorted(rows, window.row[mine])
        used[name] = written
    documents = window.documents.with_columns(pl.Series("segment", segment_of, dtype=pl.String), pl.Series("segment_row", row, dtype=pl.Int64))
    return documents.select(list(ARTICLE_SCHEMA) + ["segment", "segment_row"]), used
