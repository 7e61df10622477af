"""The scheduler examples run the real command.

Airflow is not installed here: the DAG file is executed against stand-ins for
the two module layouts it imports from (Airflow 2 and 3), which record what it
builds, and the command its task would run is run by bash on the seeds.
`benchmarks/airflow_dags_test.py` runs it under a real Airflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import polars as pl
import pytest
from corpus import SEEDS

EXAMPLES = Path(__file__).parent.parent / "examples"
DEDUP = Path(sys.executable).with_name("dedup")
"""The console script installed beside this interpreter."""


class _Recorded:
    """Stands for DAG and BashOperator: records the keyword arguments."""

    made: list[tuple[str, dict]]

    def __init__(self, **kwargs: object) -> None:
        self.made.append((type(self).__name__, kwargs))

    def __enter__(self) -> _Recorded:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _load_dag(monkeypatch: pytest.MonkeyPatch, layout: str) -> tuple[dict, list[tuple[str, dict]], str]:
    """Execute the DAG file with only ``layout``'s modules importable; returns
    its globals, what it built, and the BashOperator class's module."""
    made: list[tuple[str, dict]] = []
    dag = type("DAG", (_Recorded,), {"made": made})
    bash = type("BashOperator", (_Recorded,), {"made": made})
    for name in [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")]:
        monkeypatch.delitem(sys.modules, name)
    # a module without __path__: importing anything under it that is not registered fails with ImportError
    modules = {"airflow": types.ModuleType("airflow")}
    if layout == "airflow2":
        modules["airflow"].DAG = dag
        modules["airflow.operators"] = types.ModuleType("airflow.operators")
        modules["airflow.operators.bash"] = types.ModuleType("airflow.operators.bash")
        modules["airflow.operators.bash"].BashOperator = bash
    else:
        for name in ("airflow.sdk", "airflow.providers", "airflow.providers.standard", "airflow.providers.standard.operators", "airflow.providers.standard.operators.bash"):
            modules[name] = types.ModuleType(name)
        modules["airflow.sdk"].DAG = dag
        modules["airflow.providers.standard.operators.bash"].BashOperator = bash
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    source = EXAMPLES / "airflow_dag.py"
    namespace: dict = {"__name__": "airflow_dag"}
    exec(compile(source.read_text(encoding="utf-8"), str(source), "exec"), namespace)
    owner = next(name for name, module in modules.items() if getattr(module, "BashOperator", None) is namespace["BashOperator"])
    return namespace, made, owner


@pytest.mark.parametrize(("layout", "operators"), [("airflow2", "airflow.operators.bash"), ("airflow3", "airflow.providers.standard.operators.bash")])
def test_dag_builds_one_task_on_airflow_2_and_3(monkeypatch: pytest.MonkeyPatch, layout: str, operators: str) -> None:
    _, made, owner = _load_dag(monkeypatch, layout)
    assert owner == operators
    assert [kind for kind, _ in made] == ["DAG", "BashOperator"]
    dag, task = made[0][1], made[1][1]
    assert dag["dag_id"] == "newsdedup" and dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert task["task_id"] == "dedup_run"
    assert task["bash_command"].startswith('"${DEDUP_BIN:-dedup}" run ')


def _bash(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=300)


def test_dag_command_runs_DEDUP_BIN_on_the_seeds_or_else_dedup_on_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    namespace, made, _ = _load_dag(monkeypatch, "airflow3")
    feed, out, state = tmp_path / "feed", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SEEDS, feed)
    command = made[1][1]["bash_command"]
    for name, path in (("FEED_DIR", feed), ("REPORT_DIR", out), ("STATE_DIR", state)):
        assert f" {namespace[name]} " in f"{command} "
        command = command.replace(namespace[name], str(path))
    assert DEDUP.exists(), f"{DEDUP}: the project's console script is not installed"
    base = {k: v for k, v in os.environ.items() if k != "DEDUP_BIN"}
    # the worker has DEDUP_BIN set to the virtualenv's dedup, which is not on its PATH
    first = _bash(command, {**base, "DEDUP_BIN": str(DEDUP), "PATH": "/usr/bin:/bin"})
    assert first.returncode == 0, first.stderr
    events = [json.loads(line) for line in first.stderr.splitlines()]  # --json-log
    assert [e["event"] for e in events] == ["run_started", "run_finished"]
    documents = pl.read_parquet(out / "documents.parquet")
    assert documents.height == 5 and documents["cluster_id"].n_unique() == 1  # the seeds' five rewrites: one story
    # without DEDUP_BIN, the first `dedup` on the worker's PATH runs, with the same arguments
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "dedup").write_text('#!/bin/sh\necho "$0" "$@"\n')
    (on_path / "dedup").chmod(0o755)
    second = _bash(command, {**base, "PATH": f"{on_path}:{DEDUP.parent}:/usr/bin:/bin"})
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == [str(on_path / "dedup"), "run", str(feed), "--out", str(out), "--state", str(state), "--json-log"]


def test_dag_command_without_dedup_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    _, made, _ = _load_dag(monkeypatch, "airflow3")
    result = _bash(made[1][1]["bash_command"], {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 127 and "dedup: command not found" in result.stderr  # a failed task, not a silent one


def test_crontab_line_runs_dedup_with_state(tmp_path: Path) -> None:
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    assert "dedup run" in fields[5] and "--state" in fields[5] and "--out" in fields[5]
    # the line's command, its checkout holding this virtualenv and its paths under tmp_path
    checkout = tmp_path / "srv"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(DEDUP.parent.parent, target_is_directory=True)
    shutil.copytree(SEEDS, tmp_path / "feed")
    paths = {"/srv/newsdedup": checkout, "/data/feed": tmp_path / "feed", "/data/dedup/reports": tmp_path / "out", "/data/dedup/state": tmp_path / "state", "/var/log/newsdedup.log": tmp_path / "log"}
    command = fields[5]
    for old, new in paths.items():
        assert old in command
        command = command.replace(old, str(new))
    result = subprocess.run(["sh", "-c", command], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (tmp_path / "log").read_text()
    assert [json.loads(line)["event"] for line in (tmp_path / "log").read_text().splitlines()] == ["run_started", "run_finished"]
    assert pl.read_parquet(tmp_path / "out" / "documents.parquet").height == 5 and (tmp_path / "state" / "current").is_dir()
