"""Committing a run to the state: its window's documents, segments compacted,
with the results, edges and settings the next run starts from."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dedup.records import Rejection
from dedup.reports.builders import Reports
from dedup.schema import ARTICLE_SCHEMA, RESULT_SCHEMA
from dedup.store.segments import Segment, write_segment
from dedup.store.state import State, save_state
from dedup.store.window import Window


def store_segments(state_dir: Path, window: Window, names: list[str], run: int) -> tuple[pl.DataFrame, dict[str, Segment]]:
    """Copy the live rows of old segments now less than half live into a new
    segment (see ``segments``); returns the window's documents with their
    ``segment`` and ``segment_row``, and the segments they use by name
    (``names``: those of ``window.segments``, the run's new one last)."""
    live = np.bincount(window.segment_of, minlength=len(names))
    sparse = np.array([live[k] * 2 < len(window.segments[k]) for k in range(len(names) - 1)] + [False])
    segment_name = np.array(names, dtype=object)[window.segment_of]
    row = window.segment_row.copy()
    used = {name: window.segments[k] for k, name in enumerate(names) if live[k] and not sparse[k]}
    moved = np.flatnonzero(sparse[window.segment_of])
    if len(moved):
        rows_of = [np.sort(window.segment_row[moved[window.segment_of[moved] == k]]) for k in range(len(names))]
        written = Segment.concat([segment.take(rows) for segment, rows in zip(window.segments, rows_of)])
        name = write_segment(state_dir, written, run)
        start = np.cumsum([0] + [len(rows) for rows in rows_of])
        segment_name[moved] = name
        for k, rows in enumerate(rows_of):
            mine = moved[window.segment_of[moved] == k]
            row[mine] = start[k] + np.searchsorted(rows, window.segment_row[mine])
        used[name] = written
    documents = window.documents.with_columns(pl.Series("segment", segment_name, dtype=pl.String), pl.Series("segment_row", row, dtype=pl.Int64))
    return documents.select(list(ARTICLE_SCHEMA) + ["segment", "segment_row"]), used


def save_run(
    state_dir: Path, run: int, window: Window, segment_names: list[str], results: dict[str, np.ndarray], edges: pl.DataFrame, reports: Reports,
    files: dict[str, tuple[int, int]], line_counts: Counter[int], rejections: list[Rejection], settings: dict[str, Any],
) -> None:  # fmt: skip
    """Publish the state after ``run``: the window's documents with their
    ``results`` (``RESULT_SCHEMA``), in compacted segments (``segment_names``:
    those of ``window.segments``), the kept ``edges``, each story's canonical,
    the feed ``files`` read, the line counts, rejections and diffs, and the
    ``settings`` (``sketch_settings``, ``decision_settings``,
    ``diff_settings``) under which they hold."""
    documents, segments = store_segments(state_dir, window, segment_names, run)
    save_state(
        state_dir,
        State(
            run=run,
            documents=documents.with_columns(pl.Series(name, values, dtype=RESULT_SCHEMA[name]) for name, values in results.items()),
            segments=segments,
            edges=edges,
            canonicals=dict(zip(reports.clusters["cluster_id"].to_list(), reports.clusters["canonical_doc_id"].to_list())),
            files=files,
            line_counts=dict(line_counts),
            rejections=rejections,
            diffs=reports.diffs,
            **settings,
        ),
    )
