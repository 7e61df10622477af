"""State: what an incremental run needs from the runs before it.

A state directory holds, for every document in the retention window, its
metadata, normalised text and sketch (so old documents are never re-read or
re-sketched), the ``(size, mtime)`` of every feed file already read, the
per-line document counts behind recurring-boilerplate detection, and each
document's cluster id. It is published like the reports (``atomic.publish``):
a killed run leaves the previous state whole. A lock file keeps a second run
off the same state while one is running.

Retention: a story leaves the state (and the reports) when its newest member
is older than ``state.retention_days``: by ``published``, measured from the
newest ``published`` in the window (feed time, so replaying an old feed keeps
it); an undated member counts by when a run first saw it, measured from now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
from filelock import FileLock, Timeout

from dedup.atomic import current_snapshot, publish
from dedup.records import Article, Document, Rejection
from dedup.sketch import PackedSketches

LOCK_FILE = ".lock"
FORMAT_VERSION = 5


class StateLocked(RuntimeError):
    """Another run holds the lock on this state (or report) directory."""


class StateMismatch(ValueError):
    """The state directory was written by another format or with other sketch options."""


def acquire_lock(directory: Path) -> FileLock:
    """Take the directory's lock at once, or raise StateLocked."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise StateLocked(f"another dedup run holds the lock {directory / LOCK_FILE}; this run did nothing") from None
    return lock


@dataclass
class State:
    run: int = 0
    """Number of the last run that wrote this state (0: none)."""
    documents: list[Document] = field(default_factory=list)
    signatures: np.ndarray | None = None
    fact_signatures: np.ndarray | None = None
    cluster_ids: dict[str, str] = field(default_factory=dict)
    """doc_id -> cluster_id after the last run."""
    canonicals: dict[str, str] = field(default_factory=dict)
    """cluster_id -> canonical doc_id after the last run."""
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Feed path -> (size, mtime_ns) when last read."""
    line_counts: dict[int, int] = field(default_factory=dict)
    """Short-line key -> number of documents holding it."""
    matching_config: dict = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    """Rejections of the files read so far (dropped when a file is read again)."""
    diffs: pl.DataFrame | None = None
    """The last run's variant diffs, keyed by document versions (``report.DIFFS_SCHEMA``)."""
    diff_max_sentences: int | None = None
    """The ``diff.max_sentences`` they were made with."""


def load_state(directory: Path) -> State:
    snapshot = current_snapshot(directory)
    if snapshot is None:
        return State()
    meta = json.loads((snapshot / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise StateMismatch(f"state {directory} has format {meta.get('format')}, this version reads {FORMAT_VERSION}; use a new --state directory")
    frame = pl.read_parquet(snapshot / "documents.parquet")
    with np.load(snapshot / "sketches.npz") as arrays:
        packed = PackedSketches.from_arrays(dict(arrays))
    columns = [frame[name].to_list() for name in ("doc_id", "path", "record", "title", "text", "url", "source", "published", "flags", "run", "seen_at")]
    documents = [
        Document(Article(doc_id, path, record, title, text, url, source, published, flags), text, sketch, run, seen_at)
        for (doc_id, path, record, title, text, url, source, published, flags, run, seen_at), sketch in zip(zip(*columns), packed.unpack())
    ]
    files = pl.read_parquet(snapshot / "files.parquet")
    lines = pl.read_parquet(snapshot / "lines.parquet")
    rejected = pl.read_parquet(snapshot / "rejected.parquet")
    return State(
        run=meta["run"],
        documents=documents,
        signatures=packed.signatures,
        fact_signatures=packed.fact_signatures,
        cluster_ids=dict(zip(frame["doc_id"].to_list(), frame["cluster_id"].to_list())),
        canonicals=meta["canonicals"],
        files={p: (s, m) for p, s, m in files.iter_rows()},
        line_counts=dict(lines.iter_rows()),
        matching_config=meta["matching_config"],
        rejections=[Rejection(*row) for row in rejected.iter_rows()],
        diffs=pl.read_parquet(snapshot / "diffs.parquet"),
        diff_max_sentences=meta["diff_max_sentences"],
    )


def save_state(directory: Path, state: State) -> None:
    documents = state.documents
    frame = pl.DataFrame(
        {
            "doc_id": [d.article.doc_id for d in documents],
            "path": [d.article.path for d in documents],
            "record": [d.article.record for d in documents],
            "title": [d.article.title for d in documents],
            "text": [d.text for d in documents],
            "url": [d.article.url for d in documents],
            "source": [d.article.source for d in documents],
            "published": [d.article.published for d in documents],
            "flags": [d.article.flags for d in documents],
            "run": [d.run for d in documents],
            "seen_at": [d.seen_at for d in documents],
            "cluster_id": [state.cluster_ids[d.article.doc_id] for d in documents],
        },
        schema_overrides={
            "record": pl.Int64, "published": pl.Datetime("us", "UTC"), "seen_at": pl.Datetime("us", "UTC"),
            "flags": pl.List(pl.String), "url": pl.String, "source": pl.String,
        },  # fmt: skip
    )
    packed = PackedSketches.pack([d.sketch for d in documents], state.signatures, state.fact_signatures)

    def write(snapshot: Path) -> None:
        frame.write_parquet(snapshot / "documents.parquet")
        np.savez(snapshot / "sketches.npz", **packed.arrays())
        if state.diffs is not None:
            state.diffs.write_parquet(snapshot / "diffs.parquet")
        pl.DataFrame(
            {"path": list(state.files), "size": [v[0] for v in state.files.values()], "mtime_ns": [v[1] for v in state.files.values()]},
            schema={"path": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64},
        ).write_parquet(snapshot / "files.parquet")
        pl.DataFrame(
            {"key": list(state.line_counts), "documents": list(state.line_counts.values())}, schema={"key": pl.UInt64, "documents": pl.Int64}
        ).write_parquet(snapshot / "lines.parquet")
        pl.DataFrame(
            {"path": [r.path for r in state.rejections], "record": [r.record for r in state.rejections], "reason": [r.reason for r in state.rejections]},
            schema={"path": pl.String, "record": pl.Int64, "reason": pl.String},
        ).write_parquet(snapshot / "rejected.parquet")
        meta = {
            "format": FORMAT_VERSION, "run": state.run, "canonicals": state.canonicals,
            "matching_config": state.matching_config, "diff_max_sentences": state.diff_max_sentences,
        }  # fmt: skip
        (snapshot / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    publish(directory, write)


def expire(state: State, retention_days: float, now: datetime, newest_published: datetime | None) -> list[bool]:
    """Which stored documents leave the window (see module docstring), by story."""
    limit = timedelta(days=retention_days)
    fresh_story: dict[str, bool] = {}
    for d in state.documents:
        story = state.cluster_ids[d.article.doc_id]
        if d.article.published is not None and newest_published is not None:
            fresh = newest_published - d.article.published <= limit
        else:
            fresh = now - (d.seen_at or now) <= limit
        fresh_story[story] = fresh_story.get(story, False) or fresh
    return [not fresh_story[state.cluster_ids[d.article.doc_id]] for d in state.documents]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
