"""Whether two report directories hold the same reports (a refactoring's check).

Every Parquet file of either directory is compared byte for byte; where the
bytes differ, the frames are compared too (same rows, in order, and the same
schema), and the first differing row is printed. ``run.json`` is compared
without what differs from run to run by nature (stage timings, versions, the
feed directory's absolute path), ``report.html`` without its stage timings and feed path,
other files byte for byte. Exit status 0 when everything matches, 1 otherwise.

    python benchmarks/compare_reports.py REPORTS_A REPORTS_B

A typical use, the reports of two commits on one feed::

    git worktree add /tmp/before <commit>
    (cd /tmp/before && python -m dedup run ../feed --out /tmp/reports-before)
    python -m dedup run ../feed --out /tmp/reports-after
    python benchmarks/compare_reports.py /tmp/reports-before /tmp/reports-after
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import polars as pl

RUN_VARYING = ("timings_seconds", "versions", "feed_dir")
"""run.json keys that differ between two runs of the same job."""
HTML_VARYING = re.compile(r"width:[0-9.]+%|[0-9.]+ s</t[dh]>|Feed <code>[^<]*</code>")
"""What of report.html differs between two runs of the same job: the stage
timings and their bars (the story-size histogram's bars, masked too, follow
from the Parquet reports) and the feed directory's path."""


def _run_info(path: Path) -> dict[str, Any]:
    info = json.loads(path.read_text(encoding="utf-8"))
    return {key: value for key, value in info.items() if key not in RUN_VARYING}


def _first_difference(a: pl.DataFrame, b: pl.DataFrame) -> str:
    if a.schema != b.schema:
        return f"schemas differ: {dict(a.schema)} against {dict(b.schema)}"
    if a.height != b.height:
        return f"{a.height} rows against {b.height}"
    for k, (row_a, row_b) in enumerate(zip(a.iter_rows(named=True), b.iter_rows(named=True))):
        if row_a != row_b:
            columns = [name for name in a.columns if row_a[name] != row_b[name]]
            return f"row {k} differs in {', '.join(columns)}: {[row_a[c] for c in columns]} against {[row_b[c] for c in columns]}"
    return "same rows, different bytes (encoding or metadata)"


def compare_file(a: Path, b: Path) -> str | None:
    """None when the two files match, else what differs."""
    if a.name == "run.json":
        info_a, info_b = _run_info(a), _run_info(b)
        if info_a == info_b:
            return None
        keys = sorted(k for k in info_a.keys() | info_b.keys() if info_a.get(k) != info_b.get(k))
        return f"run.json differs in {', '.join(keys)}"
    if a.read_bytes() == b.read_bytes():
        return None
    if a.name == "report.html":
        same = HTML_VARYING.sub("", a.read_text(encoding="utf-8")) == HTML_VARYING.sub("", b.read_text(encoding="utf-8"))
        return None if same else "differs beyond the stage timings and the feed path"
    if a.suffix == ".parquet":
        frame_a, frame_b = pl.read_parquet(a), pl.read_parquet(b)
        if frame_a.equals(frame_b, null_equal=True):
            return "same rows, different bytes"
        return _first_difference(frame_a, frame_b)
    return "bytes differ"


def _report_files(directory: Path) -> set[str]:
    """The reports' names: not the lock or the snapshots the published names point into."""
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and not p.relative_to(directory).as_posix().startswith(".")}


def compare(a: Path, b: Path) -> list[tuple[str, str | None]]:
    """``(file name, difference or None)`` for every report of either directory."""
    names = sorted(_report_files(a) | _report_files(b))
    results = []
    for name in names:
        if not (a / name).is_file() or not (b / name).is_file():
            results.append((name, f"only in {a if (a / name).is_file() else b}"))
        else:
            results.append((name, compare_file(a / name, b / name)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    for directory in (args.a, args.b):
        if not directory.is_dir():
            print(f"{directory}: not a directory", file=sys.stderr)
            return 2
    results = compare(args.a, args.b)
    for name, difference in results:
        print(f"{name}: {'identical' if difference is None else difference}")
    same = all(difference is None for _, difference in results)
    print("the reports are the same" if same else "the reports differ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
