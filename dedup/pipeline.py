"""The batch job, as the list of its timed stages.

load_state → list_files → ingest (read, normalise) → sketch → retention →
near_copy (LSH candidates, verify) → paraphrase (candidates, pair model) →
cluster → canonical → diff → report → write. The stages live in
``dedup.stages`` (over the kernels of ``dedup.kernels``), the state and
publishing in ``dedup.store``, the reports in ``dedup.reports``.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from dedup.config import Config
from dedup.engine import make_engine
from dedup.kernels.pair_model import load_model
from dedup.progress import Progress, Timings
from dedup.reports import builders as report
from dedup.reports.run_info import summarise
from dedup.schema import DIFF_KEY_SCHEMA
from dedup.stages.ingest import prepare
from dedup.stages.match import match, story_and_event_ids
from dedup.stages.results import build_reports
from dedup.store.atomic import scratch_directory
from dedup.store.compaction import save_run
from dedup.store.files import feed_changes
from dedup.store.retention import retained_window
from dedup.store.segments import remove_unused_segments
from dedup.store.state import State, StateMismatch, acquire_lock, load_state, utc_now


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
    engine = make_engine(config.runtime)
    with timings.stage("load_state"):
        state = load_state(state_dir) if state_dir else State()
        if state_dir and not dry_run:  # a killed or failed run's segment: on a full disk this run needs its space
            remove_unused_segments(state_dir, set(state.segments))
    if state.run and state.sketch_settings != config.sketch_settings():
        raise StateMismatch(f"state {state_dir} was built with other normalise/sketch options; use a new --state directory or the same config")
    run = state.run + 1
    with timings.stage("list_files"):
        changes = feed_changes(feed_dir, state, skip=[out_dir] + ([state_dir] if state_dir else []))
    line_counts = Counter(state.line_counts)
    kept = changes.kept_documents(state)
    new, prepared, rejections = prepare(changes.to_read, feed_dir, set(kept["doc_id"].to_list()), line_counts, config, engine, progress, timings, segments, run, now, durable=segments == state_dir)
    rejections = changes.kept_rejections(state) + rejections
    with timings.stage("retention"):
        window = retained_window(state, kept, new, prepared.segment, prepared.rows, config, model.fingerprint, now)
        del kept, new  # the window holds them, ranked: a second copy of a large run's fields would only take memory
    matched = match(window, state.edges, model, config, engine, timings, progress)
    cluster_ids, event_ids = story_and_event_ids(window, matched)
    previous_diffs = state.diffs if state.diff_settings == config.diff_settings() else None
    reports, results = build_reports(window, matched, cluster_ids, event_ids, rejections, state.canonicals, previous_diffs, config, engine, timings, progress)
    info = summarise(reports, feed_dir, len(changes.files), len(changes.to_read), timings, config, run)
    info["counts"]["candidate_pairs"] = matched.candidate_pairs
    if previous_diffs is not None:
        info["counts"]["diffs_reused"] = reports.diffs.join(previous_diffs, on=list(DIFF_KEY_SCHEMA), how="semi").height
    if dry_run:
        return info
    with timings.stage("write"):
        report.write_reports(reports, out_dir, info)
        if state_dir is not None:
            settings = {"sketch_settings": config.sketch_settings(), "decision_settings": config.decision_settings(model.fingerprint), "diff_settings": config.diff_settings()}
            segment_names = [*sorted(state.segments), prepared.segment_name]
            save_run(state_dir, run, window, segment_names, results, matched.edges, reports, changes.stats, line_counts, rejections, settings)
    info["timings_seconds"] = timings.seconds | {"total": round(sum(timings.seconds.values()), 4)}
    return info
