"""Resident memory after each stage of one ``dedup run`` (default config), in this process.

Prints, after each stage, its seconds, the process's peak resident memory so
far (``VmHWM``), its current one (``VmRSS``) and how much of that is anonymous
memory (``RssAnon``) and pages of mapped files (``RssFile``: the segments'
sketches and texts), from /proc/self/status; then the wall time. Reports go to
a temporary directory.

    python benchmarks/stage_memory.py FEED_DIR
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dedup.pipeline as pipeline
from dedup.config import load_config
from dedup.progress import SILENT


def memory() -> str:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(("VmHWM", "VmRSS", "RssAnon", "RssFile")))
    return "  ".join(f"{key} {value.strip():>11s}" for key, value in sorted(fields.items(), key=lambda kv: ("VmHWM", "VmRSS", "RssAnon", "RssFile").index(kv[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feed", type=Path)
    args = parser.parse_args()
    timed = pipeline.Timings.stage

    @contextmanager
    def stage(self: pipeline.Timings, name: str) -> Iterator[None]:
        start = time.perf_counter()
        with timed(self, name):
            yield
        print(f"{name:12s} {time.perf_counter() - start:7.2f} s  {memory()}", flush=True)

    pipeline.Timings.stage = stage  # type: ignore[method-assign]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipeline.run_job(args.feed, Path(out), load_config(), SILENT)
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
