"""The command line: one-line errors that blame what the user typed, plain flags, evaluate's output folder."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from corpus import SEEDS
from typer.testing import CliRunner

from dedup.cli import EXIT_INTERNAL, EXIT_USAGE, app


def _error(*args: str) -> str:
    """The one line an invocation that must fail with code 2 prints."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    return line


def test_a_set_value_is_blamed_on_its_set_and_a_flag_on_the_flag(tmp_path: Path) -> None:
    assert _error("config", "show", "--set", "near_copy.threshold=1.5") == "error: --set near_copy.threshold: Input should be less than 1"
    assert _error("config", "show", "--set", "near_copy.treshold=0.6") == "error: --set near_copy.treshold: unknown key"
    out = str(tmp_path / "out")
    assert _error("run", str(SEEDS), "--out", out, "--threshold", "1.5") == "error: --threshold: near_copy.threshold: Input should be less than 1"
    assert _error("run", str(SEEDS), "--out", out, "--workers", "-1") == "error: --workers: runtime.workers: Input should be greater than or equal to 0"
    config = tmp_path / "c.yaml"
    config.write_text("story:\n  window_hours: -1\n")  # the file's own error is the file's, next to a --set one
    line = _error("config", "show", "--config", str(config), "--set", "diff.max_sentences=0")
    assert line == f"error: {config}: story.window_hours: Input should be greater than 0; --set diff.max_sentences: Input should be greater than or equal to 1"
    assert not (tmp_path / "out").exists()


def test_a_set_below_an_option_is_one_line_naming_the_key(tmp_path: Path) -> None:
    line = _error("config", "show", "--set", "near_copy=1", "--set", "near_copy.x=1")
    assert line == "error: --set near_copy.x: near_copy is 1, not a section of options"
    config = tmp_path / "c.yaml"
    config.write_text("near_copy:\n  threshold: 0.6\n")
    line = _error("config", "show", "--config", str(config), "--set", "near_copy.threshold.x=1")
    assert line == "error: --set near_copy.threshold.x: near_copy.threshold is 0.6, not a section of options"


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    assert _error("config", "show", "--set", "near_copy.threshold=[0.5").startswith("error: --set near_copy.threshold=[0.5: value is not valid YAML: ")
    config = tmp_path / "c.yaml"
    config.write_text("near_copy:\n  threshold: [0.5\n")
    assert _error("config", "show", "--config", str(config)).startswith(f"error: {config}: not valid YAML: ")


def test_a_file_given_as_the_feed_directory_is_called_so(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "a", "text": "one"}\n')
    line = _error("run", str(feed), "--out", str(tmp_path / "out"))
    assert line == f"error: feed directory {feed} is not a directory; give the directory that holds the feed files"


def test_boolean_options_are_plain_flags() -> None:
    for command, flags in ((["run"], ["--strict", "--dry-run", "--json-log"]), (["config", "show"], ["--commented"])):
        shown = CliRunner().invoke(app, [*command, "--help"], terminal_width=200).output
        for flag in flags:
            [row] = [line for line in shown.splitlines() if f" {flag} " in line]
            assert "<bool>" not in row and f"--no-{flag[2:]}" not in row, row


def test_evaluate_writes_its_json_into_a_new_folder(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "r")]).exit_code == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("doc_id,cluster\n" + "".join(f"{p.name},story\n" for p in sorted(SEEDS.iterdir())))
    scores = tmp_path / "new" / "folder" / "scores.json"
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "r"), "--labels", str(labels), "--json", str(scores)])
    assert result.exit_code == 0, result.output
    assert json.loads(scores.read_text())["documents"] == len(list(SEEDS.iterdir()))


def test_evaluate_errors_are_one_line(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "r")]).exit_code == 0
    labels = tmp_path / "labels.csv"
    labels.write_text('doc_id,cluster\na,1,2\n"x')
    assert _error("evaluate", str(tmp_path / "r"), "--labels", str(labels)).startswith(f"error: {labels}: cannot read labels: ")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    labels.write_text("doc_id,cluster\n" + "".join(f"{p.name},story\n" for p in sorted(SEEDS.iterdir())))
    line = _error("evaluate", str(tmp_path / "r"), "--labels", str(labels), "--json", str(blocker / "scores.json"))
    assert line.startswith(f"error: --json {blocker / 'scores.json'}: cannot write: ")


def test_an_unforeseen_failure_is_one_line_with_the_traceback_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.pipeline

    def failing(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(dedup.pipeline, "run_job", failing)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_INTERNAL
    [line] = [line for line in result.output.splitlines() if "internal error" in line]
    assert "RuntimeError: boom" in line and "Traceback" not in result.output
    [trace] = tmp_path.glob("dedup-error-*.txt")
    assert str(trace) in line and "Traceback" in trace.read_text(encoding="utf-8") and "boom" in trace.read_text(encoding="utf-8")
