"""Hardening of the state and report directories: checksums, locks, overlap,
abandoned temporary directories, a full disk."""

from __future__ import annotations

import errno
import importlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from corpus import wikiref, write_jsonl
from filelock import FileLock
from typer.testing import CliRunner

import dedup.stages.ingest
from dedup.store.atomic import OWNER, scratch_directory
from dedup.cli import EXIT_CORRUPT, EXIT_DISK_FULL, EXIT_LOCKED, EXIT_USAGE, app
from dedup.store.state import load_state

ARTICLES = sorted(wikiref().items())


def _feed(feed: Path, name: str, first: int) -> None:
    write_jsonl(feed / name, [{"id": doc_id, "text": text} for doc_id, text in ARTICLES[first : first + 4]] + [{"id": "copy", "text": ARTICLES[first][1]}])


def _run(tmp_path: Path, *extra: str, out: str = "out", state: str = "state"):
    args = ["run", str(tmp_path / "feed"), "--out", str(tmp_path / out), "--workers", "1", *extra]
    if state:
        args += ["--state", str(tmp_path / state)]
    return CliRunner().invoke(app, args)


def _two_runs(tmp_path: Path) -> None:
    """A state of two runs (two segments) and its report."""
    _feed(tmp_path / "feed", "001.jsonl", 0)
    assert _run(tmp_path).exit_code == 0
    _feed(tmp_path / "feed", "002.jsonl", 10)
    assert _run(tmp_path).exit_code == 0


def _snapshot(state: Path) -> Path:
    return (state / "current").resolve()


def _segment_file(state: Path, name: str) -> Path:
    return sorted((state / "segments").glob(f"*/{name}"))[0]


def _flip_byte(path: Path) -> Path:
    """The same size, one byte changed: only a checksum can tell."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(os.urandom(path.stat().st_size))
    return path


def _delete(path: Path) -> Path:
    path.unlink()
    return path


def _edit_meta_run(state: Path) -> Path:
    """Still valid JSON, the same size: another run number."""
    meta = _snapshot(state) / "meta.json"
    text = meta.read_text()
    assert '"run": 2' in text
    meta.write_text(text.replace('"run": 2', '"run": 7'))
    return meta


DAMAGE: dict[str, Callable[[Path], Path]] = {
    "truncated texts": lambda s: _truncate(_segment_file(s, "texts.values.bin")),
    "one byte of the signatures": lambda s: _flip_byte(_segment_file(s, "signatures.bin")),
    "one byte of the shingles": lambda s: _flip_byte(_segment_file(s, "shingles.values.bin")),
    "one byte of the text offsets": lambda s: _flip_byte(_segment_file(s, "texts.offsets.bin")),
    "deleted segment manifest": lambda s: _delete(_segment_file(s, "manifest.json")),
    "deleted documents": lambda s: _delete(_snapshot(s) / "documents.parquet"),
    "garbage edges": lambda s: _garbage(_snapshot(s) / "edges.parquet"),
    "garbage meta": lambda s: _garbage(_snapshot(s) / "meta.json"),
    "edited meta": _edit_meta_run,
    "deleted current link": lambda s: _delete(s / "current"),
    "deleted snapshot": lambda s: (shutil.rmtree(_snapshot(s)), s / "current")[1],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_any_damage_to_the_state_stops_the_run_with_one_line_naming_the_file(tmp_path: Path, damage: str) -> None:
    _two_runs(tmp_path)
    report_before = os.readlink(tmp_path / "out" / "current")
    damaged = DAMAGE[damage](tmp_path / "state")
    result = _run(tmp_path)
    assert result.exit_code == EXIT_CORRUPT, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("dedup: reading")  # the start line, then the error
    assert str(damaged) in lines[1] and "is corrupted" in lines[1] and f"move {tmp_path / 'state'} aside" in lines[1]
    assert os.readlink(tmp_path / "out" / "current") == report_before  # nothing was done


def test_a_corrupted_state_moved_aside_is_rebuilt_from_the_feed(tmp_path: Path) -> None:
    _two_runs(tmp_path)
    documents = sorted(pl.read_parquet(tmp_path / "out" / "documents.parquet")["doc_id"])
    _flip_byte(_segment_file(tmp_path / "state", "signatures.bin"))
    assert _run(tmp_path).exit_code == EXIT_CORRUPT
    (tmp_path / "state").rename(tmp_path / "state.damaged")
    assert _run(tmp_path).exit_code == 0
    assert sorted(pl.read_parquet(tmp_path / "out" / "documents.parquet")["doc_id"]) == documents
    assert load_state(tmp_path / "state").run == 1  # one run over both files


def test_a_first_run_killed_before_publishing_leaves_an_empty_state_not_a_corrupted_one(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "segments" / "000001-1-1").mkdir(parents=True)  # what a first run killed while writing leaves
    (state / ".snapshots" / "20240101T000000-1-1").mkdir(parents=True)
    _feed(tmp_path / "feed", "001.jsonl", 0)
    assert _run(tmp_path).exit_code == 0
    assert load_state(state).run == 1 and os.listdir(state / "segments") != ["000001-1-1"]


def test_the_report_directory_is_locked_too(tmp_path: Path) -> None:
    _feed(tmp_path / "feed", "001.jsonl", 0)
    (tmp_path / "out").mkdir()
    with FileLock(str(tmp_path / "out" / ".lock")):
        result = _run(tmp_path)
    assert result.exit_code == EXIT_LOCKED
    assert f"holds the lock {tmp_path / 'out' / '.lock'}" in result.output
    assert not (tmp_path / "out" / "current").exists() and not (tmp_path / "state" / "current").exists()
    assert _run(tmp_path).exit_code == 0  # the lock was the only obstacle


@pytest.mark.parametrize("out, state", [("shared", "shared"), ("shared", "shared/state"), ("shared/out", "shared"), ("link", "shared")])
def test_same_or_nested_report_and_state_directories_stop_the_run_before_any_work(tmp_path: Path, out: str, state: str) -> None:
    _feed(tmp_path / "feed", "001.jsonl", 0)
    assert _run(tmp_path, out="shared", state="").exit_code == 0
    (tmp_path / "link").symlink_to("shared")
    reports_before = sorted(os.listdir(tmp_path / "shared"))
    result = _run(tmp_path, out=out, state=state)
    assert result.exit_code == EXIT_USAGE
    assert result.output.strip() == f"error: --out {tmp_path / out} and --state {tmp_path / state} overlap; give them two separate directories"
    assert sorted(os.listdir(tmp_path / "shared")) == reports_before
    assert pl.read_parquet(tmp_path / "shared" / "documents.parquet").height == 5


def _scratch(tmp_path: Path, kind: str) -> list[str]:
    return sorted(p.name for p in tmp_path.glob(f"dedup-{kind}-*"))


def test_scratch_directories_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed = "from dedup.store.atomic import scratch_directory\nimport os\nwith scratch_directory('spill'):\n    os._exit(0)\n"  # no clean-up, as under SIGKILL
    subprocess.run([sys.executable, "-c", killed], env=os.environ | {"TMPDIR": str(tmp_path)}, check=True)
    assert len(_scratch(tmp_path, "spill")) == 1
    claiming = tmp_path / "dedup-spill-claiming"  # a run between creating its directory and locking it
    claiming.mkdir()
    with scratch_directory("spill") as live:
        assert _scratch(tmp_path, "spill") == sorted([live.name, claiming.name])  # the dead run's is gone
        assert (live / OWNER).exists()
        with scratch_directory("spill") as other:
            assert live.exists() and other.exists() and other != live  # a live run's is kept
        with scratch_directory("segments"):
            assert live.exists()
    assert _scratch(tmp_path, "spill") == [claiming.name]


def _no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fill_spill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pickle, "dump", _no_space)


def _full_under(module_name: str, directory: str) -> Callable[[pytest.MonkeyPatch, Path], None]:
    """Files the module writes under ``directory`` go to /dev/full: the OS's own ENOSPC."""

    def fill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        real_open = open

        def full_open(path: Path, mode: str = "r", *args: object, **kwargs: object):
            inside = Path(path).is_relative_to(tmp_path / directory)
            return real_open("/dev/full" if inside and mode == "wb" else path, mode, *args, **kwargs)

        monkeypatch.setattr(importlib.import_module(module_name), "open", full_open, raising=False)

    return fill


FULL = {
    "spill": _fill_spill,
    "segment": _full_under("dedup.store.segments", "state"),
    "reports": _full_under("dedup.store.atomic", "out"),  # the Parquet files, written through atomic.write_parquet
    "state": _full_under("dedup.store.atomic", "state"),
}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("where", list(FULL))
def test_a_full_disk_is_one_line_and_leaves_the_previous_report_and_state_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    _two_runs(tmp_path)
    report, state = pl.read_parquet(tmp_path / "out" / "documents.parquet"), load_state(tmp_path / "state")
    _feed(tmp_path / "feed", "003.jsonl", 20)
    with monkeypatch.context() as patched:
        FULL[where](patched, tmp_path)
        result = _run(tmp_path)
    assert result.exit_code == EXIT_DISK_FULL, result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("error: no space left on device: free space where the run writes") and "Traceback" not in result.output
    if where != "state":  # the reports are written before the state: then they are the new ones, whole
        assert pl.read_parquet(tmp_path / "out" / "documents.parquet").equals(report)
    after = load_state(tmp_path / "state")  # whole: every checksum holds
    assert after.run == state.run and after.documents.equals(state.documents)
    for directory in ("out", "state"):  # a failed snapshot is removed at once
        assert os.listdir(tmp_path / directory / ".snapshots") == [os.path.basename(os.readlink(tmp_path / directory / "current"))]
    used = set(after.segments)
    left = set(os.listdir(tmp_path / "state" / "segments"))
    assert left == used if where == "spill" else left > used  # the failed run's new segment, unpublished
    listed = []
    real_writer = dedup.stages.ingest.SegmentWriter

    def writer(root: Path, *args: object, **kwargs: object) -> dedup.stages.ingest.SegmentWriter:
        listed.append(set(os.listdir(root / "segments")))
        return real_writer(root, *args, **kwargs)

    monkeypatch.setattr(dedup.stages.ingest, "SegmentWriter", writer)
    assert _run(tmp_path).exit_code == 0
    assert listed[0] == used  # its space came back before the next run wrote a segment
    assert pl.read_parquet(tmp_path / "out" / "documents.parquet").height == report.height + 5
