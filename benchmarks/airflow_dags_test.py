"""Run examples/airflow_dag.py under a real Airflow: ``airflow dags test newsdedup`` on seeds/.

Creates a scratch virtualenv (default under /tmp), pip-installs apache-airflow
and this project into it, points a fresh AIRFLOW_HOME (a temporary directory)
at a copy of the example DAG whose three paths are rewritten to a copy of
seeds/ and scratch report and state directories, sets DEDUP_BIN to the scratch
venv's ``dedup`` (as a deployment would), runs ``airflow dags test`` twice (the
second run is incremental: it reads no file) and prints what Airflow said and
the reports written.

    .venv/bin/python benchmarks/airflow_dags_test.py                      # latest 3.x
    .venv/bin/python benchmarks/airflow_dags_test.py --airflow 'apache-airflow==2.11.2'
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "newsdedup"


def sh(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, env=env, check=check, text=True, capture_output=True)


def install(venv: Path, requirement: str, project: Path) -> None:
    if not (venv / "bin" / "airflow").exists():
        sh(sys.executable, "-m", "venv", str(venv))  # venv uses the base interpreter, even from a venv
        sh(str(venv / "bin" / "pip"), "install", "-q", "--upgrade", "pip")
        started = time.monotonic()
        sh(str(venv / "bin" / "pip"), "install", "-q", requirement, str(project))
        print(f"installed in {time.monotonic() - started:.0f} s")
    else:  # reused venv: the project as it is now
        sh(str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--force-reinstall", str(project))


def dag_for(work: Path) -> Path:
    """The example DAG with its three paths pointed into ``work``."""
    text = (ROOT / "examples" / "airflow_dag.py").read_text(encoding="utf-8")
    for name, sub in (("FEED_DIR", "feed"), ("REPORT_DIR", "reports"), ("STATE_DIR", "state")):
        text, n = re.subn(rf'^{name} = ".*"$', f'{name} = "{work / sub}"', text, flags=re.M)
        assert n == 1, f"{name} not found in the example DAG"
    dags = work / "dags"
    dags.mkdir()
    (dags / "airflow_dag.py").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "seeds", work / "feed")
    return dags


# Airflow 3's log lines: "TIMESTAMP [level] MESSAGE [logger] key=value ..."; Airflow 2's: "[TIMESTAMP] {file.py:N} LEVEL - MESSAGE"
_LOG_LINE = re.compile(r"^(?:\S+\s+\[\s*\w+\s*\]\s+(?P<message>.*?)\s+\[[\w.]+\](?P<fields>.*)|\[[^]]+\] \{[^}]+\} \w+ - (?P<message2>.*))$")
_WANTED = ("Running command", '"event": "run_', "Command exited", "Task instance state updated", "Marking task as", "DagRun Finished", "ERROR")


def summary(lines: list[str]) -> list[str]:
    """Airflow's lines about the task and the run, and the task's output (dedup's JSON log), without timestamps, each once."""
    shown: list[str] = []
    for line in lines:
        match = _LOG_LINE.match(line)
        message, fields = (match["message"] or match["message2"], match["fields"] or "") if match else (line, "")
        if not any(w in message for w in _WANTED):
            continue
        if "Task instance state updated" in message:
            if not (state := re.search(r"new_state=\w+", fields)):
                continue
            message += " " + state[0]
        elif message.startswith("DagRun Finished"):
            message = ", ".join(p for p in message.split(", ") if p.split("=")[0] in ("DagRun Finished: dag_id", "run_id", "state"))
        if "  " + message not in shown:  # Airflow 2 logs each line twice, in two formats
            shown.append("  " + message)
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--airflow", default="apache-airflow>=3,<4", help="pip requirement for Airflow (default: the latest 3.x)")
    parser.add_argument("--project", type=Path, default=ROOT, help="the newsdedup source tree to install (default: this checkout)")
    parser.add_argument("--venv", type=Path, help="scratch virtualenv (default: /tmp/newsdedup-airflow-<major>); reused if it has airflow")
    args = parser.parse_args()
    major = "2" if re.search(r"[=<>~]=?\s*2", args.airflow) else "3"
    venv = args.venv or Path(tempfile.gettempdir()) / f"newsdedup-airflow-{major}"
    install(venv, args.airflow, args.project)
    bin_ = venv / "bin"
    print(sh(str(bin_ / "python"), "-c", "import airflow, sys; print('airflow', airflow.__version__, 'python', sys.version.split()[0])").stdout.strip())
    imported = "import runpy, sys; dag = runpy.run_path(sys.argv[1]); print('BashOperator from', dag['BashOperator'].__module__, '| DAG from', dag['DAG'].__module__)"
    print(sh(str(bin_ / "python"), "-c", imported, str(ROOT / "examples" / "airflow_dag.py")).stdout.strip())

    work = Path(tempfile.mkdtemp(prefix="newsdedup-airflow-home-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dag_for(work)),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "DEDUP_BIN": str(bin_ / "dedup"),  # how the worker finds dedup (see the DAG's docstring)
    }
    print(f"AIRFLOW_HOME={env['AIRFLOW_HOME']} DEDUP_BIN={env['DEDUP_BIN']}")
    sh(str(bin_ / "airflow"), "db", "migrate", env=env)
    for date in ("2026-01-01T00:00:00+00:00", "2026-01-01T00:05:00+00:00"):
        result = sh(str(bin_ / "airflow"), "dags", "test", DAG_ID, date, env=env, check=False)
        lines = (result.stdout + result.stderr).splitlines()
        (work / f"dags-test-{date[11:16].replace(':', '')}.log").write_text("\n".join(lines) + "\n")
        print(f"--- airflow dags test {DAG_ID} {date}: exit {result.returncode}")
        print("\n".join(summary(lines)))
        if result.returncode:
            print("--- the last lines of its output:", *lines[-60:], sep="\n")
            return 1
        run_id = re.findall(r"DagRun Finished: dag_id=\S+ (?:logical_date|execution_date)=[^,]*, run_id=([^,]+),", "\n".join(lines))[-1]
        print(sh(str(bin_ / "airflow"), "tasks", "states-for-dag-run", DAG_ID, run_id, env=env, check=False).stdout.strip())
        info = json.loads((work / "reports" / "run.json").read_text())
        print(f"run.json: run {info['run']}, counts {json.dumps(info['counts'])}")
    print("report files:", sorted(p.name for p in (work / "reports").iterdir()))
    clusters = sh(
        str(bin_ / "python"),
        "-c",
        "import polars as pl, sys; d = pl.read_parquet(sys.argv[1]); print(d.select('doc_id', 'cluster_id', 'is_canonical'))",
        str(work / "reports" / "documents.parquet"),
    )
    print(clusters.stdout)
    print(f"scratch: {work} (AIRFLOW_HOME, feed, reports, state); venv: {venv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
