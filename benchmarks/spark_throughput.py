"""The spark engine against the local engine on one synthetic feed (issue #16).

Both run as a user runs them (``python -m dedup run`` in a subprocess, default
config; the spark run with ``--engine spark --spark-master local[W]``), one
after the other on the same machine, timed by wall clock, with the peak
resident memory of the process tree (``throughput.timed_run``: for the spark
run the driver, the JVM it starts and the JVM's Python workers, summed) and
the per-stage seconds of run.json. The two report directories are then
compared (``compare_reports.compare``; run.json without its runtime section).
Results go to OUT/spark_throughput.json.

    python benchmarks/spark_throughput.py [--docs 10000] [--workers 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from compare_reports import compare
from throughput import feed_root, timed_run, timings

OUT = Path(__file__).parent / "out" / "spark"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="local engine: --workers W; spark engine: local[W]")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    root = feed_root(args.out, args.docs, 0)
    engines = {"local": ["--workers", str(args.workers)], "spark": ["--engine", "spark", "--spark-master", f"local[{args.workers}]"]}
    results = {}
    for name, flags in engines.items():
        report = root / f"report-{name}"
        shutil.rmtree(report, ignore_errors=True)
        print(f"{name}: dedup run {root / 'feed'} {' '.join(flags)} ...", flush=True)
        run = timed_run([root / "feed", "--out", report, *flags], root / f"run-{name}.log")
        results[name] = asdict(run) | {"docs_per_second": round(args.docs / run.seconds, 1), "timings_seconds": timings(report)}
    differences = [f"{name}: {diff}" for name, diff in compare(root / "report-local", root / "report-spark") if diff and name != "run.json"]
    summary = {
        "docs": args.docs,
        "workers": args.workers,
        "local": results["local"],
        "spark": results["spark"],
        "spark_over_local": {key: round(results["spark"][key] / results["local"][key], 2) for key in ("seconds", "peak_rss_tree_mib")},
        "report_differences": differences,
    }
    (args.out / "spark_throughput.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
