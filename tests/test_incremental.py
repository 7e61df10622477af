"""Scheduled runs: incremental state, stable ids, kill-safety, the lock."""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from dedup.config import load_config
from corpus import clusters_of, run, wikiref, write_jsonl
from filelock import FileLock
from typer.testing import CliRunner

from dedup.cli import EXIT_LOCKED, EXIT_USAGE, app
from dedup.config import Config, load_config
from dedup.store.segments import Segment, open_segment, write_segment
from dedup.kernels.sketch import sketch_texts
from dedup.store.state import load_state

ARTICLES = sorted(wikiref().items())


def _batches(count: int = 6, per_batch: int = 10) -> list[tuple[str, list[dict]]]:
    """Files named in arrival order; each brings new stories, copies of them,
    and truncated copies of stories from the file before."""
    files = []
    for b in range(count):
        fresh = ARTICLES[b * per_batch : (b + 1) * per_batch]
        day = f"2014-03-{10 + b:02d}"
        records = []
        for k, (doc_id, text) in enumerate(fresh):
            records.append({"id": doc_id, "text": text, "published": f"{day}T08:00:00Z"})
            if k % 2 == 0:
                records.append({"id": f"{doc_id}/copy", "text": text, "published": f"{day}T09:00:00Z"})
        if b:
            for doc_id, text in ARTICLES[(b - 1) * per_batch : (b - 1) * per_batch + 3]:
                records.append({"id": f"{doc_id}/late", "text": text[: len(text) // 2], "published": f"{day}T10:00:00Z"})
        files.append((f"{b + 1:03d}.jsonl", records))
    return files


def test_three_incremental_runs_equal_one_run_over_everything(tmp_path: Path) -> None:
    # Copies only: a rewrite's decision depends on the window's other
    # documents (its topic's background level); rewrites across batches are
    # tested in test_stories.py.
    config = load_config(None, {"paraphrase.enabled": False})
    files = _batches()
    for name, records in files:
        write_jsonl(tmp_path / "all" / name, records)
    once = run(tmp_path / "all", tmp_path / "out-once", config)
    feed = tmp_path / "growing"
    for first in range(0, len(files), 2):
        for name, records in files[first : first + 2]:
            write_jsonl(feed / name, records)
        batched = run(feed, tmp_path / "out-batched", config, state_dir=tmp_path / "state")
    assert clusters_of(batched) == clusters_of(once)  # same partition and the same ids
    assert batched["cluster_id"].n_unique() < batched.height  # copies did join their stories
    canonicals = [pl.read_parquet(tmp_path / out / "clusters.parquet").sort("cluster_id").select("cluster_id", "canonical_doc_id") for out in ("out-once", "out-batched")]
    assert canonicals[0].equals(canonicals[1])
    info = json.loads((tmp_path / "out-batched" / "run.json").read_text())
    assert info["run"] == 3 and info["counts"]["files_read"] == 2 and info["counts"]["documents"] == once.height


def test_diffs_kept_in_the_state_are_those_made_afresh(tmp_path: Path) -> None:
    feed, state = tmp_path / "feed", tmp_path / "state"
    for name, records in _batches(count=3):
        write_jsonl(feed / name, records)
        run(feed, tmp_path / "kept", state_dir=state)
    kept = pl.read_parquet(tmp_path / "kept" / "variants.parquet").sort("doc_id")
    reused = json.loads((tmp_path / "kept" / "run.json").read_text())["counts"]["diffs_reused"]
    assert 0 < reused < kept.height  # the last run diffed only its new variants
    other_limit = load_config(overrides={"diff": {"max_sentences": 399}})  # diffs made with another limit are not reused
    run(feed, tmp_path / "fresh", other_limit, state_dir=state)
    fresh = pl.read_parquet(tmp_path / "fresh" / "variants.parquet").sort("doc_id")
    assert "diffs_reused" not in json.loads((tmp_path / "fresh" / "run.json").read_text())["counts"]
    assert kept.height == fresh.height and kept.equals(fresh)


def test_a_story_keeps_its_id_and_reports_a_new_canonical(tmp_path: Path) -> None:
    doc_id, text = ARTICLES[0]
    write_jsonl(tmp_path / "feed" / "001.jsonl", [{"id": "repost", "text": text, "published": "2014-03-10T12:00:00Z"}])
    first = run(tmp_path / "feed", tmp_path / "out", state_dir=tmp_path / "state")
    write_jsonl(tmp_path / "feed" / "002.jsonl", [{"id": "wire", "text": text, "published": "2014-03-10T06:00:00Z"}])
    second = run(tmp_path / "feed", tmp_path / "out", state_dir=tmp_path / "state")
    assert clusters_of(second)["wire"] == clusters_of(second)["repost"] == clusters_of(first)["repost"]
    cluster = pl.read_parquet(tmp_path / "out" / "clusters.parquet").row(0, named=True)
    assert cluster["canonical_doc_id"] == "wire"
    assert cluster["canonical_changed"] is True and cluster["previous_canonical_doc_id"] == "repost"


def test_a_changed_file_is_read_again_and_replaces_its_documents(tmp_path: Path) -> None:
    (_, a), (_, b) = ARTICLES[0], ARTICLES[1]
    path = tmp_path / "feed" / "001.jsonl"
    write_jsonl(path, [{"id": "x", "text": a}, {"id": "y", "text": b}])
    run(tmp_path / "feed", tmp_path / "out", state_dir=tmp_path / "state")
    written = path.stat()
    write_jsonl(path, [{"id": "x", "text": a}, {"id": "z", "text": b}])  # the same size: only the mtime tells
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == written.st_size
    again = run(tmp_path / "feed", tmp_path / "out", state_dir=tmp_path / "state")
    assert sorted(again["doc_id"].to_list()) == ["x", "z"]
    assert sorted(load_state(tmp_path / "state").documents["doc_id"].to_list()) == ["x", "z"]
    write_jsonl(path, [{"id": "x", "text": a}])
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns + 2_000_000_000))
    shrunk = run(tmp_path / "feed", tmp_path / "out", state_dir=tmp_path / "state")
    assert shrunk["doc_id"].to_list() == ["x"]
    assert load_state(tmp_path / "state").documents["doc_id"].to_list() == ["x"]


def test_retention_drops_stories_older_than_the_window(tmp_path: Path) -> None:
    (_, old), (_, new) = ARTICLES[0], ARTICLES[1]
    write_jsonl(tmp_path / "feed" / "001.jsonl", [{"id": "old", "text": old, "published": "2014-03-01T08:00:00Z"}])
    config = load_config(overrides={"state.retention_days": 3})
    run(tmp_path / "feed", tmp_path / "out", config, state_dir=tmp_path / "state")
    write_jsonl(tmp_path / "feed" / "002.jsonl", [{"id": "new", "text": new, "published": "2014-03-10T08:00:00Z"}])
    later = run(tmp_path / "feed", tmp_path / "out", config, state_dir=tmp_path / "state")
    assert later["doc_id"].to_list() == ["new"]
    assert load_state(tmp_path / "state").documents["doc_id"].to_list() == ["new"]


def test_dry_run_writes_nothing_and_json_log_speaks_json(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "feed" / "001.jsonl", [{"id": "x", "text": ARTICLES[0][1]}])
    args = ["run", str(tmp_path / "feed"), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state"), "--json-log"]
    result = CliRunner().invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["event"] for e in events] == ["run_started", "run_finished"]
    assert events[1]["counts"]["documents"] == 1 and events[1]["dry_run"] is True


def test_a_state_of_other_sketch_options_or_format_stops_the_run_with_one_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "feed" / "001.jsonl", [{"id": "x", "text": ARTICLES[0][1]}])
    args = ["run", str(tmp_path / "feed"), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state")]
    assert CliRunner().invoke(app, args).exit_code == 0
    other = CliRunner().invoke(app, [*args, "--set", "near_copy.num_perm=64"])
    assert other.exit_code == EXIT_USAGE and "built with other normalise/sketch options" in other.output
    meta = next((tmp_path / "state").glob(".snapshots/*/meta.json"))
    meta.write_text(meta.read_text().replace('"format": ', '"format": 1'), encoding="utf-8")
    old = CliRunner().invoke(app, args)
    assert old.exit_code == EXIT_USAGE and "this version reads" in old.output and "Traceback" not in old.output


def test_a_second_run_on_a_locked_state_exits_at_once(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "feed" / "001.jsonl", [{"id": "x", "text": ARTICLES[0][1]}])
    (tmp_path / "state").mkdir()
    with FileLock(str(tmp_path / "state" / ".lock")):
        result = CliRunner().invoke(app, ["run", str(tmp_path / "feed"), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state")])
    assert result.exit_code == EXIT_LOCKED
    assert "another dedup run holds the lock" in result.output
    assert not (tmp_path / "out" / "documents.parquet").exists()


# A real `dedup run` in a child process, stopped at a point the test names
# rather than after some time: just before the rename that switches in the
# snapshot behind DEDUP_TEST_STOP_AT (a `current` link), it kills itself
# (SIGKILL) or, for "pause", says "paused" on stdout and waits for a line on stdin.
_STOPPING_RUN = """
import os, signal, sys
from dedup.cli import app

action, target, replace = os.environ["DEDUP_TEST_STOP"], os.path.abspath(os.environ["DEDUP_TEST_STOP_AT"]), os.replace

def stopping_replace(src, dst, **kwargs):
    if os.path.abspath(dst) == target:
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        print("paused", flush=True)
        sys.stdin.readline()
    return replace(src, dst, **kwargs)

os.replace = stopping_replace
app(sys.argv[1:], prog_name="dedup")
"""


def _stopping_run(action: str, link: Path, stderr: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DEDUP_TEST_STOP": action, "DEDUP_TEST_STOP_AT": str(link)}
    with open(stderr, "w") as log:  # a file, not a pipe: nothing the run says can fill a pipe and stall it
        return subprocess.Popen([sys.executable, "-c", _STOPPING_RUN, *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)


def _small_feed(feed: Path) -> None:
    write_jsonl(feed / "001.jsonl", [{"id": f"{doc_id}/{n}", "text": text} for doc_id, text in ARTICLES[:6] for n in range(2)])


def test_two_runs_at_once_on_one_state_only_one_proceeds(tmp_path: Path) -> None:
    feed, out, state = tmp_path / "feed", tmp_path / "out", tmp_path / "state"
    _small_feed(feed)
    args = ("run", str(feed), "--out", str(out), "--state", str(state), "--workers", "1")
    log = tmp_path / "first.stderr"
    first = _stopping_run("pause", out / "current", log, *args)
    said = first.stdout.readline()
    assert said == "paused\n", log.read_text()  # the first run, in its lock, is about to publish its reports
    second = CliRunner().invoke(app, list(args))
    assert second.exit_code == EXIT_LOCKED
    assert "another dedup run holds the lock" in second.output
    first.communicate("go\n", timeout=300)
    assert first.returncode == 0, log.read_text()
    assert json.loads((out / "run.json").read_text())["run"] == 1  # the second run did not count as one
    assert load_state(state).documents.height == 12


def _read_whole(out: Path, state: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = pl.read_parquet(out / "documents.parquet")
    for name in ("clusters", "variants", "rejected"):
        pl.read_parquet(out / f"{name}.parquet")
    json.loads((out / "run.json").read_text())
    return documents, load_state(state).documents  # load_state checks every file's checksum


@pytest.mark.parametrize("killed_before", ["reports", "state"])
def test_a_run_killed_before_switching_in_its_snapshot_leaves_the_previous_report_and_state_whole(tmp_path: Path, killed_before: str) -> None:
    feed, out, state = tmp_path / "feed", tmp_path / "out", tmp_path / "state"
    _small_feed(feed)
    run(feed, out, state_dir=state)
    before, state_before = _read_whole(out, state)
    write_jsonl(feed / "002.jsonl", [{"id": "late", "text": ARTICLES[0][1]}])
    root = out if killed_before == "reports" else state
    args = ("run", str(feed), "--out", str(out), "--state", str(state), "--workers", "1")
    log = tmp_path / "victim.stderr"
    victim = _stopping_run("kill", root / "current", log, *args)
    victim.communicate(timeout=300)
    assert victim.returncode == -signal.SIGKILL, log.read_text()
    assert len(os.listdir(root / ".snapshots")) == 2  # its snapshot was written whole, but never switched in
    after, state_after = _read_whole(out, state)
    assert state_after.equals(state_before)
    if killed_before == "reports":
        assert after.equals(before)
    else:  # the reports had been switched in already
        assert after.height == before.height + 1
    run(feed, out, state_dir=state)  # the next run recovers
    recovered, state_recovered = _read_whole(out, state)
    assert recovered.height == before.height + 1 == state_recovered.height
    assert clusters_of(recovered)["late"] == clusters_of(recovered)[f"{ARTICLES[0][0]}/0"]
    for directory in (out, state):  # the killed run's snapshot, and its segment, are gone
        assert os.listdir(directory / ".snapshots") == [os.path.basename(os.readlink(directory / "current"))]
    assert sorted(os.listdir(state / "segments")) == sorted(state_recovered["segment"].unique().to_list())


def test_segments_are_appended_kept_while_live_and_deleted_once_expired(tmp_path: Path) -> None:
    feed, state = tmp_path / "feed", tmp_path / "state"
    config = load_config(overrides={"state.retention_days": 3})
    (old_id, old), (_, new), (_, newer) = ARTICLES[0], ARTICLES[1], ARTICLES[2]
    write_jsonl(feed / "001.jsonl", [{"id": "old", "text": old, "published": "2014-03-01T08:00:00Z"}])
    run(feed, tmp_path / "out", config, state_dir=state)
    first = set(os.listdir(state / "segments"))
    write_jsonl(feed / "002.jsonl", [{"id": "old/copy", "text": old, "published": "2014-03-02T08:00:00Z"}])
    second = run(feed, tmp_path / "out", config, state_dir=state)
    assert clusters_of(second)["old/copy"] == clusters_of(second)["old"]  # matched against the stored document
    assert first < set(os.listdir(state / "segments"))  # the first run's segment was kept, not rewritten
    write_jsonl(feed / "003.jsonl", [{"id": "new", "text": new, "published": "2014-03-10T08:00:00Z"}])
    write_jsonl(feed / "004.jsonl", [{"id": "newer", "text": newer, "published": "2014-03-10T09:00:00Z"}])
    third = run(feed, tmp_path / "out", config, state_dir=state)
    assert sorted(third["doc_id"].to_list()) == ["new", "newer"]
    assert len(os.listdir(state / "segments")) == 1  # the expired story's segments are gone
    assert load_state(state).documents["segment"].unique().to_list() == os.listdir(state / "segments")


@pytest.mark.skipif(not hasattr(mmap, "MADV_DONTNEED"), reason="release_pages needs madvise(MADV_DONTNEED)")
def test_a_segments_read_pages_are_released_and_read_again_unchanged(tmp_path: Path) -> None:
    texts = [" ".join(f"word{i}x{k}" for k in range(300)) for i in range(40)]
    written = Segment.of(sketch_texts(texts, Config()), texts)
    name = write_segment(tmp_path, written, run=1)
    segment = open_segment(tmp_path, name)
    files = sorted(size for p in (tmp_path / "segments" / name).glob("*.bin") if (size := p.stat().st_size))
    assert sorted(len(m) for m in segment.mappings) == files  # every non-empty file is mapped, whole

    def arrays(s: Segment) -> dict[str, np.ndarray]:
        return s.sketches.arrays() | {"texts.values": s.texts.values, "texts.offsets": s.texts.offsets}

    def equal_to_written() -> bool:  # reads every mapped page
        return all(np.array_equal(array, arrays(written)[key]) for key, array in arrays(segment).items())

    assert equal_to_written()
    advised: list[tuple[int, tuple]] = []

    class Recording:  # an mmap's madvise cannot be patched; this passes each call on
        def __init__(self, mapping: mmap.mmap) -> None:
            self.mapping = mapping

        def madvise(self, *args: int) -> None:
            advised.append((len(self.mapping), args))
            self.mapping.madvise(*args)

    mappings = segment.mappings
    segment.mappings = tuple(Recording(m) for m in mappings)
    segment.release_pages()
    assert advised == [(len(m), (mmap.MADV_DONTNEED,)) for m in mappings]  # each mapping dropped whole (no start, no length)
    assert equal_to_written()  # mapped again from the file: the same bytes, not zeros
