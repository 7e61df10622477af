"""State: what an incremental run needs from the runs before it.

A state directory holds, for every document in the retention window, its
fields and the last run's results for it (story, report row), with its
normalised text and sketch in append-only segments (``segments``), so old
documents are never re-read or re-sketched; the verified edges between them
(``EDGES_SCHEMA``), so only pairs with a new document are matched again; the
``(size, mtime)`` of every feed file already read; and the per-line document
counts behind recurring-boilerplate detection. Its snapshot is published like
the reports (``atomic.publish``): a killed run leaves the previous state whole.
A lock file keeps a second run off the same state while one is running.

Integrity: ``meta.json`` holds the checksum of every other file of the
snapshot and of each segment's manifest (which holds its files'), and one of
itself; loading checks them all and raises ``StateCorrupted`` naming the
first damaged file. A state that was published once (``PUBLISHED``) and has
no valid ``current`` is corrupted too, not empty: a run never starts again
from nothing behind the user's back.

Retention: a story leaves the state (and the reports) when its newest member
is older than ``state.retention_days``: by ``published``, measured from the
newest ``published`` in the window (feed time, so replaying an old feed keeps
it); an undated member counts by when a run first saw it, measured from now.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
from filelock import FileLock, Timeout

from dedup.records import Rejection
from dedup.schema import EDGES_SCHEMA, STATE_DOCUMENTS_SCHEMA
from dedup.store.atomic import (
    CURRENT,
    Damaged,
    check_file,
    current_snapshot,
    file_digest,
    fsync_dir,
    new_digest,
    publish,
    write_parquet,
)
from dedup.store.segments import (
    Segment,
    manifest_digest,
    open_segment,
    remove_unused_segments,
    verify_segment,
)

LOCK_FILE = ".lock"
FORMAT_VERSION = 11
PUBLISHED = ".published"
"""Written once a state has been published: from then on it has a ``current``."""
META = "meta.json"


class StateLocked(RuntimeError):
    """Another run holds the lock on this state (or report) directory."""


class StateMismatch(ValueError):
    """The state directory was written by another format or with other sketch options."""


class StateCorrupted(RuntimeError):
    """A file of the state directory is missing or not what was written."""


@contextmanager
def acquire_lock(*directories: Path | None) -> Iterator[None]:
    """Hold the lock of each directory (``None``: none) for the block; raise
    StateLocked at once if another run holds one of them."""
    with ExitStack() as held:
        for directory in directories:
            if directory is None:
                continue
            directory.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(directory / LOCK_FILE))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                raise StateLocked(f"another dedup run holds the lock {directory / LOCK_FILE}; this run did nothing") from None
            held.callback(lock.release)
        yield


@dataclass
class State:
    run: int = 0
    """Number of the last run that wrote this state (0: none)."""
    documents: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=STATE_DOCUMENTS_SCHEMA))
    """The window's documents (``schema.STATE_DOCUMENTS_SCHEMA``): fields, where their sketch is, the last run's results."""
    segments: dict[str, Segment] = field(default_factory=dict)
    """The segments the documents are in, by name (memory-mapped)."""
    edges: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=EDGES_SCHEMA))
    canonicals: dict[str, str] = field(default_factory=dict)
    """cluster_id -> canonical doc_id after the last run."""
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Feed path -> (size, mtime_ns) when last read."""
    line_counts: dict[int, int] = field(default_factory=dict)
    """Short-line key -> number of documents holding it."""
    sketch_settings: dict = field(default_factory=dict)
    """The options the stored sketches depend on."""
    decision_settings: dict = field(default_factory=dict)
    """The options the stored edges and results depend on."""
    rejections: list[Rejection] = field(default_factory=list)
    """Rejections of the files read so far (dropped when a file is read again)."""
    diffs: pl.DataFrame | None = None
    """The last run's variant diffs, keyed by document versions (``schema.DIFFS_SCHEMA``)."""
    diff_settings: dict = field(default_factory=dict)
    """The ``diff`` options they were made with (``Config.diff_settings``)."""


def load_state(directory: Path) -> State:
    """The state published in ``directory`` (empty before the first), every
    file checked against its checksum. Raises StateMismatch for another
    format version, StateCorrupted for a damaged or missing file."""
    snapshot = current_snapshot(directory)
    try:
        if snapshot is None:
            if (directory / CURRENT).is_symlink() or (directory / CURRENT).exists():
                raise Damaged(directory / CURRENT, "does not lead to a snapshot")
            if (directory / PUBLISHED).exists():
                raise Damaged(directory / CURRENT, "missing")
            return State()
        meta = _read_meta(snapshot / META)
        if meta.get("format") != FORMAT_VERSION:
            raise StateMismatch(f"state {directory} has format {meta.get('format')}, this version reads {FORMAT_VERSION}; use a new --state directory")
        if meta.pop("checksum", None) != _meta_digest(meta):
            raise Damaged(snapshot / META, "checksum differs from the one written")
        for name, digest in meta["files"].items():
            check_file(snapshot / name, digest)
        for name, digest in meta["segments"].items():
            verify_segment(directory, name, digest)
    except Damaged as exc:
        raise StateCorrupted(
            f"state {directory} is corrupted: {exc}; move {directory} aside and run again to rebuild the state from the feed"
        ) from None
    files = pl.read_parquet(snapshot / "files.parquet")
    lines = pl.read_parquet(snapshot / "lines.parquet")
    rejected = pl.read_parquet(snapshot / "rejected.parquet")
    return State(
        run=meta["run"],
        documents=pl.read_parquet(snapshot / "documents.parquet"),
        segments={name: open_segment(directory, name) for name in meta["segments"]},
        edges=pl.read_parquet(snapshot / "edges.parquet"),
        canonicals=meta["canonicals"],
        files={p: (s, m) for p, s, m in files.iter_rows()},
        line_counts=dict(zip(lines["key"].to_list(), lines["documents"].to_list())),
        sketch_settings=meta["sketch_settings"],
        decision_settings=meta["decision_settings"],
        rejections=[Rejection(*row) for row in rejected.iter_rows()],
        diffs=pl.read_parquet(snapshot / "diffs.parquet") if "diffs.parquet" in meta["files"] else None,
        diff_settings=meta["diff_settings"],
    )


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Damaged(path, "missing") from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or not JSON
        raise Damaged(path, f"unreadable: {exc}") from None
    if not isinstance(meta, dict):
        raise Damaged(path, "not a state's meta.json")
    return meta


def _meta_digest(meta: dict) -> str:
    """meta.json's checksum of itself: of its other keys, in a canonical form."""
    digest = new_digest()
    digest.update(json.dumps(meta, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def save_state(directory: Path, state: State) -> None:
    """Publish ``state`` atomically; its segments must be written already. Then
    delete the segments it no longer uses."""

    def write(snapshot: Path) -> None:
        write_parquet(state.documents, snapshot / "documents.parquet")
        write_parquet(state.edges, snapshot / "edges.parquet")
        if state.diffs is not None:
            write_parquet(state.diffs, snapshot / "diffs.parquet")
        files = pl.DataFrame(
            {"path": list(state.files), "size": [v[0] for v in state.files.values()], "mtime_ns": [v[1] for v in state.files.values()]},
            schema={"path": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64},
        )
        write_parquet(files, snapshot / "files.parquet")
        lines = pl.DataFrame({"key": list(state.line_counts), "documents": list(state.line_counts.values())}, schema={"key": pl.UInt64, "documents": pl.Int64})
        write_parquet(lines, snapshot / "lines.parquet")
        rejected = pl.DataFrame(
            {"path": [r.path for r in state.rejections], "record": [r.record for r in state.rejections], "reason": [r.reason for r in state.rejections]},
            schema={"path": pl.String, "record": pl.Int64, "reason": pl.String},
        )
        write_parquet(rejected, snapshot / "rejected.parquet")
        meta = {
            "format": FORMAT_VERSION, "run": state.run, "canonicals": state.canonicals,
            "sketch_settings": state.sketch_settings, "decision_settings": state.decision_settings,
            "diff_settings": state.diff_settings,
            "files": {path.name: file_digest(path) for path in sorted(snapshot.iterdir())},
            "segments": {name: manifest_digest(directory, name) for name in sorted(state.segments)},
        }  # fmt: skip
        meta["checksum"] = _meta_digest(meta)
        (snapshot / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    publish(directory, write)
    if not (directory / PUBLISHED).exists():
        (directory / PUBLISHED).touch()
        fsync_dir(directory)
    remove_unused_segments(directory, set(state.segments))


def expired(documents: pl.DataFrame, retention_days: float, now: datetime, newest_published: datetime | None) -> np.ndarray:
    """Which of the stored ``documents`` leave the window (see module docstring), by story."""
    limit = timedelta(days=retention_days)
    seen = pl.col("seen_at").fill_null(now)
    if newest_published is None:
        fresh = pl.lit(now) - seen <= limit
    else:
        fresh = pl.when(pl.col("published").is_not_null()).then(pl.lit(newest_published) - pl.col("published") <= limit).otherwise(pl.lit(now) - seen <= limit)
    return documents.select((~fresh.any().over("cluster_id")).alias("gone"))["gone"].to_numpy()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
