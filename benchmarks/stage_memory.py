"""Resident memory after each stage of one ``dedup run`` (default config), in this process.

Prints, after each stage, its seconds, the process's peak resident memory so
far (``VmHWM``), its current one (``VmRSS``) and how much of that is anonymous
memory (``RssAnon``) and pages of mapped files (``RssFile``: the segments'
sketches and texts), from /proc/self/status; then the wall time. Reports go to
a temporary directory. With ``--dots``, also each batch of sparse dot products
the paraphrase and canonical stages compute (fact or word cosines): how many
pairs, the vectors' rows and terms a row, and its seconds.

    python benchmarks/stage_memory.py FEED_DIR [--dots]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dedup.kernels.paraphrase as paraphrase
import dedup.pipeline as pipeline
import dedup.progress as progress_module
from dedup.config import load_config
from dedup.progress import SILENT


def memory() -> str:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(("VmHWM", "VmRSS", "RssAnon", "RssFile")))
    return "  ".join(f"{key} {value.strip():>11s}" for key, value in sorted(fields.items(), key=lambda kv: ("VmHWM", "VmRSS", "RssAnon", "RssFile").index(kv[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feed", type=Path)
    parser.add_argument("--dots", action="store_true", help="print each batch of paraphrase dot products")
    args = parser.parse_args()
    timed = progress_module.Timings.stage
    if args.dots:
        dots = paraphrase._blocked_dots

        def counted(vectors: Any, pairs: Any, map_blocks: Any) -> Any:
            start = time.perf_counter()
            found = dots(vectors, pairs, map_blocks)
            rows = vectors.shape[0]
            print(f"  dots: {len(pairs):>11,d} pairs of {rows:>9,d} vectors, {vectors.nnz / max(rows, 1):6.1f} terms a row, {time.perf_counter() - start:6.2f} s", flush=True)
            return found

        paraphrase._blocked_dots = counted

    @contextmanager
    def stage(self: progress_module.Timings, name: str) -> Iterator[None]:
        start = time.perf_counter()
        with timed(self, name):
            yield
        print(f"{name:12s} {time.perf_counter() - start:7.2f} s  {memory()}", flush=True)

    progress_module.Timings.stage = stage  # type: ignore[method-assign]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipeline.run_job(args.feed, Path(out), load_config(), SILENT)
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
