"""The scheduler examples run the real command."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app

EXAMPLES = Path(__file__).parent.parent / "examples"


def _dag_command() -> list[str]:
    tree = ast.parse((EXAMPLES / "airflow_dag.py").read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.targets[0], ast.Name)
    }
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "BashOperator"]
    assert len(calls) == 1
    command = next(k.value for k in calls[0].keywords if k.arg == "bash_command")
    assert isinstance(command, ast.JoinedStr)
    text = "".join(str(v.value) if isinstance(v, ast.Constant) else constants[v.value.id] for v in command.values)
    return shlex.split(text)


def test_dag_runs_dedup_incrementally_with_json_logs() -> None:
    words = _dag_command()
    assert words[:2] == ["dedup", "run"]
    assert {"--out", "--state", "--json-log"} <= set(words)


def test_dag_command_is_accepted_by_the_cli(tmp_path: Path) -> None:
    words = _dag_command()
    feed, out, state = tmp_path / "feed", tmp_path / "out", tmp_path / "state"
    (feed).mkdir()
    (feed / "a.txt").write_text("A council vote on the new bridge was delayed again on Monday.")
    args = words[1:]
    args[args.index("--out") + 1], args[args.index("--state") + 1], args[1] = str(out), str(state), str(feed)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "documents.parquet").exists() and (state / "current").exists()


def test_crontab_line_runs_dedup_with_state() -> None:
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    assert "dedup run" in fields[5] and "--state" in fields[5] and "--out" in fields[5]


def test_dag_loads_in_airflow() -> None:
    pytest.importorskip("airflow")
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES / "airflow_dag.py"), include_examples=False)
    assert bag.import_errors == {}
    assert "newsdedup" in bag.dags
