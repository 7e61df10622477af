"""Changed-file detection: which feed files an incremental run reads.

A file is read again when its ``(size, mtime)`` differs from what the state
recorded; the documents and rejections of a file read again are replaced by
what this run finds in it, the others kept as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dedup.readers.files import display_path, list_feed_files
from dedup.records import Rejection
from dedup.store.state import State


@dataclass
class FeedChanges:
    files: list[Path]
    """Every feed file, in feed order."""
    to_read: list[Path]
    """The new and changed ones."""
    stats: dict[str, tuple[int, int]]
    """``(size, mtime_ns)`` of every file by its display path; ``(-1, -1)`` when it cannot be stat'ed."""
    reread: set[str]
    """The display paths of the files read again: the state's documents and rejections of these are replaced."""

    def kept_documents(self, state: State) -> pl.DataFrame:
        """The state's documents of files not read again."""
        return state.documents.filter(~pl.col("path").is_in(sorted(self.reread)))

    def kept_rejections(self, state: State) -> list[Rejection]:
        """The state's rejections of files not read again."""
        return [r for r in state.rejections if r.path not in self.reread]


def feed_changes(feed_dir: Path, state: State, skip: list[Path]) -> FeedChanges:
    """The files under ``feed_dir`` (but not under ``skip``: the report and
    state directories) and which of them this run reads."""
    files = list_feed_files(feed_dir, skip=skip)
    names = {path: display_path(path, feed_dir) for path in files}
    stats = {}
    for path in files:
        try:
            st = path.stat()
            stats[names[path]] = (st.st_size, st.st_mtime_ns)
        except OSError:  # broken symlink: read_file rejects it
            stats[names[path]] = (-1, -1)
    to_read = [p for p in files if state.files.get(names[p]) != stats[names[p]]]
    return FeedChanges(files, to_read, stats, {names[p] for p in to_read})
