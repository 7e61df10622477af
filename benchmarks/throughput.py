"""Throughput benchmark: documents per second of ``dedup run`` against
near-duplicate-only MinHash-LSH peers (``peers.py``: rensa, a text-dedup-style
numpy pipeline, plain datasketch), on synthetic feeds (``synthetic_feed.py``;
``--sentence-pool N``: stories stitched from a pool of N shared sentences).

For each feed size: our pipeline runs as a user runs it (``python -m dedup run``
in a subprocess, default config), timed by wall clock, with the peak resident
memory of its process tree (main process plus workers, summed) sampled from
/proc every 50 ms (and once a second its proportional set size, which counts
the pages forked workers share with the main process once, not twice), its per-stage timings and candidate pairs from run.json and its quality against
the gold stories. Each peer (``--peers``) runs likewise in a subprocess
(``peers.py``, on ``--workers`` processes, default 2), timed and sampled the
same way; plain datasketch runs on one core on the first ``--baseline-docs``
documents, as it is slow. With ``--incremental`` (default from 100,000 docs), a
run with ``--state`` over the feed minus its last 1% is timed, then a second run
after that 1% arrives as a new file. Results go to OUT/throughput.json.

    python benchmarks/throughput.py [--docs N ...] [--out DIR] [--sentence-pool N] [--peers rensa numpy datasketch]
                                    [--baseline-docs K] [--workers N] [--incremental] [--skip-incremental] [--skip-ours]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from synthetic_feed import generate

OUT = Path(__file__).parent / "out" / "throughput"
PEERS = Path(__file__).parent / "peers.py"
MIB = 1024 * 1024
INCREMENTAL_FROM = 100_000


@dataclass
class Run:
    seconds: float
    peak_rss_tree_mib: float  # sampled: the sum over the process tree
    peak_rss_process_mib: float  # sampled: the largest single process
    maxrss_rusage_mib: float  # kernel's ru_maxrss of the largest process (at least this one's RSS at the spawn): a cross-check
    peak_pss_tree_mib: float  # sampled once a second: the tree's proportional set size (shared pages split among their processes)


def process_tree(root: int) -> list[int]:
    """``root`` and its live descendants, from the ppid field of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the command name may hold spaces and ')'
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def proc_bytes(path: str, key: str) -> int:
    """A ``key: N kB`` field of a /proc file, in bytes; 0 if absent (a process that has ended)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Peak RSS of a process tree, sampled until ``stop()``."""

    PSS_EVERY = 20  # samples: reading smaps_rollup walks a process's page tables, too costly every 50 ms

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_tree = self.peak_process = self.peak_pss = 0
        self._done = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._done.is_set():
            tree = process_tree(self.root)
            sizes = [proc_bytes(f"/proc/{pid}/status", "VmRSS") for pid in tree]
            self.peak_tree = max(self.peak_tree, sum(sizes))
            self.peak_process = max(self.peak_process, *sizes)
            if samples % self.PSS_EVERY == 0:
                self.peak_pss = max(self.peak_pss, sum(proc_bytes(f"/proc/{pid}/smaps_rollup", "Pss") for pid in tree))
            samples += 1
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def timed_run(args: list[str | Path], log: Path, command: tuple[str, ...] = ("-m", "dedup", "run")) -> Run:
    """``python -m dedup run ARGS`` (or another ``command``): wall seconds and peak memory; output to ``log``."""
    with open(log, "w", encoding="utf-8") as handle:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *command, *map(str, args)], stdout=handle, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # wait4: the rusage of this run alone, not of all children so far
        seconds = time.perf_counter() - started
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed with exit code {process.returncode}; see {log}")
    return Run(
        round(seconds, 2), round(sampler.peak_tree / MIB, 1), round(sampler.peak_process / MIB, 1), round(usage.ru_maxrss * 1024 / MIB, 1),
        round(sampler.peak_pss / MIB, 1),
    )


def feed_root(out: Path, docs: int, sentence_pool: int) -> Path:
    """``OUT/feed-N`` (``feed-N-poolP`` for a sentence pool) with ``feed/`` and
    ``labels.csv``, generated once: into a scratch directory renamed into place
    when whole, so that a generation cut short is made again, never measured."""
    root = out / (f"feed-{docs}" + (f"-pool{sentence_pool}" if sentence_pool else ""))
    if not root.exists():
        print(f"generating {docs:,} documents in {root} ...", flush=True)
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        generate(partial, docs, sentence_pool=sentence_pool)
        partial.rename(root)
    return root


def evaluate(report: Path, labels: Path, scores: Path) -> dict:
    """``dedup evaluate`` in a subprocess, so that its memory does not count in
    this process's (which later children would inherit as their ru_maxrss)."""
    subprocess.run([sys.executable, "-m", "dedup", "evaluate", report, "--labels", labels, "--json", scores], capture_output=True, check=True)
    return json.loads(scores.read_text(encoding="utf-8"))


def timings(report: Path) -> dict[str, float]:
    """Seconds per stage, from the run's run.json."""
    return json.loads((report / "run.json").read_text(encoding="utf-8"))["timings_seconds"]


def measure_ours(root: Path, docs: int, workers: list[str]) -> dict:
    report = root / "report"
    run = timed_run([root / "feed", "--out", report, *workers], root / "run.log")
    scores = evaluate(report, root / "labels.csv", root / "scores.json")
    counts = json.loads((report / "run.json").read_text(encoding="utf-8"))["counts"]
    return asdict(run) | {
        "docs_per_second": round(docs / run.seconds, 1),
        "timings_seconds": timings(report),
        "candidate_pairs": counts.get("candidate_pairs", {}),
        "scores": {key: scores[key] for key in ("pairwise_precision", "pairwise_recall", "adjusted_rand_index")},
    }


def measure_peer(peer: str, root: Path, docs: int, workers: int) -> dict:
    """``peers.py PEER`` on the feed in a subprocess (datasketch on its first ``docs``): its own figures, wall time and peak memory."""
    log = root / f"peer-{peer}.log"
    run = timed_run([peer, root / "feed", "--docs", docs, "--workers", workers], log, (str(PEERS),))
    result = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
    return asdict(run) | result


def split_feed(feed: Path, into: Path, held: int) -> list[str]:
    """Hard-link ``feed`` into ``into`` less its last ``held`` lines (cut from the last files); returns those lines."""
    into.mkdir(parents=True)
    parts = sorted(feed.glob("*.jsonl"))
    held_lines: list[str] = []
    while len(held_lines) < held:
        part = parts.pop()
        lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
        take = min(held - len(held_lines), len(lines))
        held_lines = lines[len(lines) - take :] + held_lines
        if take < len(lines):
            (into / part.name).write_text("".join(lines[: len(lines) - take]), encoding="utf-8")
    for part in parts:
        os.link(part, into / part.name)
    return held_lines


def measure_incremental(root: Path, docs: int, workers: list[str]) -> dict:
    """A full run with --state over 99% of the feed, then a run after the last 1% arrives as a new file."""
    work = root.parent / f"{root.name}-inc"
    shutil.rmtree(work, ignore_errors=True)  # a fresh state: the first run must read everything
    held = split_feed(root / "feed", work / "feed", max(1, docs // 100))
    full = timed_run([work / "feed", "--out", work / "report-full", "--state", work / "state", *workers], work / "full.log")
    (work / "feed" / "part-extra.jsonl").write_text("".join(held), encoding="utf-8")
    incremental = timed_run([work / "feed", "--out", work / "report-inc", "--state", work / "state", *workers], work / "incremental.log")
    return {
        "held_back_docs": len(held),
        "full": asdict(full) | {"timings_seconds": timings(work / "report-full")},
        "incremental": asdict(incremental) | {"timings_seconds": timings(work / "report-inc")},
        "ratio": round(incremental.seconds / full.seconds, 3),
    }


def table(results: dict[int, dict]) -> list[str]:
    """One column per feed size."""
    def row(label: str, get: Callable[[dict], str]) -> tuple[str, list[str]]:
        cells = []
        for result in results.values():
            try:
                cells.append(get(result))
            except KeyError:  # that part was skipped for this size
                cells.append("-")
        return label, cells

    peers = dict.fromkeys(peer for r in results.values() for peer in r.get("peers", {}))
    rows = [row("ours docs/s", lambda r: f"{r['ours']['docs_per_second']:,.0f}")]
    for peer in peers:
        rows += [
            row(f"{peer} docs/s", lambda r, p=peer: f"{r['peers'][p]['docs_per_second']:,.0f}" + (f" (on {r['peers'][p]['docs']:,})" if p == "datasketch" else "")),
            row(f"  ours / {peer}", lambda r, p=peer: f"{r['ours']['docs_per_second'] / r['peers'][p]['docs_per_second']:.2f}x"),
            row(f"  {peer} peak PSS MiB", lambda r, p=peer: f"{r['peers'][p]['peak_pss_tree_mib']:,.0f}"),
        ]
    rows += [
        row("ours wall s", lambda r: f"{r['ours']['seconds']:.1f}"),
        row("peak RSS, tree MiB", lambda r: f"{r['ours']['peak_rss_tree_mib']:,.0f}"),
        row("peak RSS, 1 process MiB", lambda r: f"{r['ours']['peak_rss_process_mib']:,.0f}"),
        row("peak PSS, tree MiB (1/s)", lambda r: f"{r['ours']['peak_pss_tree_mib']:,.0f}"),
        row("ru_maxrss MiB", lambda r: f"{r['ours']['maxrss_rusage_mib']:,.0f}"),
        row("pairwise precision", lambda r: f"{r['ours']['scores']['pairwise_precision']:.4f}"),
        row("pairwise recall", lambda r: f"{r['ours']['scores']['pairwise_recall']:.4f}"),
        row("ARI", lambda r: f"{r['ours']['scores']['adjusted_rand_index']:.4f}"),
        row("candidate pairs / doc: near-copy", lambda r: f"{r['ours']['candidate_pairs']['near_copy'] / r['docs']:.3f}"),
        row("candidate pairs / doc: paraphrase", lambda r: f"{r['ours']['candidate_pairs']['paraphrase'] / r['docs']:.3f}"),
        row("candidate pairs / doc: paraphrase scored", lambda r: f"{r['ours']['candidate_pairs'].get('paraphrase_scored', 0) / r['docs']:.3f}"),
    ]
    stages = dict.fromkeys(stage for r in results.values() for stage in r.get("ours", {}).get("timings_seconds", {}))
    rows += [row(f"  {stage} s", lambda r, s=stage: f"{r['ours']['timings_seconds'][s]:.2f}") for stage in stages]
    rows += [
        row("incremental: full run s", lambda r: f"{r['incremental']['full']['seconds']:.1f} ({r['incremental']['full']['peak_rss_tree_mib']:,.0f} MiB)"),
        row("  +1% run s", lambda r: f"{r['incremental']['incremental']['seconds']:.1f} ({r['incremental']['incremental']['peak_rss_tree_mib']:,.0f} MiB)"),
        row("  +1% / full (goal < 0.1)", lambda r: f"{r['incremental']['ratio']:.3f}"),
    ]
    rows = [(label, cells) for label, cells in rows if set(cells) != {"-"}]  # parts skipped for every size
    width = max(len(label) for label, _ in rows)
    cell = max(len(c) for _, cells in rows for c in cells)
    lines = [" " * width + "".join(f"  {f'{docs:,} docs':>{cell}}" for docs in results)]
    return lines + [f"{label:<{width}}" + "".join(f"  {c:>{cell}}" for c in cells) for label, cells in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000], help="feed sizes")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--sentence-pool", type=int, default=0, help="feeds whose stories are stitched from a pool of this many sentences")
    parser.add_argument("--peers", nargs="*", choices=["rensa", "numpy", "datasketch"], default=["rensa", "numpy", "datasketch"])
    parser.add_argument("--peer-workers", type=int, default=2, help="processes of the rensa and numpy peers")
    parser.add_argument("--baseline-docs", type=int, default=5_000, help="plain datasketch's subsample (first K documents)")
    parser.add_argument("--workers", type=int, help="passed to dedup run --workers")
    parser.add_argument("--incremental", action="store_true", help=f"time an incremental run (always from {INCREMENTAL_FROM:,} docs)")
    parser.add_argument("--skip-ours", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true", help="no incremental run, whatever the size")
    args = parser.parse_args()
    workers = [] if args.workers is None else ["--workers", str(args.workers)]
    results: dict[int, dict] = {}
    for docs in args.docs:
        root = feed_root(args.out, docs, args.sentence_pool)
        results[docs] = result = {"docs": docs}
        if not args.skip_ours:
            print(f"[{docs:,}] dedup run ...", flush=True)
            result["ours"] = measure_ours(root, docs, workers)
        for peer in args.peers:
            sample = min(args.baseline_docs, docs) if peer == "datasketch" else docs
            print(f"[{docs:,}] peer {peer}" + (f" on a SUBSAMPLE: the first {sample:,} docs" if sample < docs else "") + " ...", flush=True)
            result.setdefault("peers", {})[peer] = measure_peer(peer, root, sample, args.peer_workers)
        if not args.skip_ours and not args.skip_incremental and (args.incremental or docs >= INCREMENTAL_FROM):
            print(f"[{docs:,}] incremental: a run with --state over 99% of the feed, then one after the last 1% arrives ...", flush=True)
            result["incremental"] = measure_incremental(root, docs, workers)
        summary = {"cpus": os.cpu_count(), "sentence_pool": args.sentence_pool, "results": {str(n): r for n, r in results.items()}}
        (args.out / "throughput.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")  # after each size: long runs keep what they measured
    print()
    print("\n".join(table(results)))
    print(f"(datasketch: one core, on the first --baseline-docs documents only; results in {args.out / 'throughput.json'})")


if __name__ == "__main__":
    main()
