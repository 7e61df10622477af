"""Labelled quality benchmark: pairwise precision/recall/F1, B-cubed F1 and ARI
of the default configuration on the labelled feed (``labelled_feed.py``), the
recall of each variant kind, the paraphrase stage's share of the run time, and
the false merges.

    python benchmarks/quality.py [--out benchmarks/out/quality] [--wikiref DIR] [--seed N] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import polars as pl
import yaml
from labelled_feed import DEFAULT_WIKIREF, generate

from dedup.config import load_config
from dedup.evaluate import evaluate_reports
from dedup.pipeline import run_job
from dedup.progress import SILENT

OUT = Path(__file__).parent / "out" / "quality"


def kind_recall(documents: pl.DataFrame, kinds: pl.DataFrame) -> dict[str, float]:
    """Share of the variants of each kind placed in their original's cluster."""
    cluster = dict(zip(documents["doc_id"], documents["cluster_id"]))
    originals = {row["original"]: row["doc_id"] for row in kinds.filter(pl.col("kind") == "original").iter_rows(named=True)}
    joined: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in kinds.filter(~pl.col("kind").is_in(["original", "seed"])).iter_rows(named=True):
        total[row["kind"]] += 1
        joined[row["kind"]] += cluster[row["doc_id"]] == cluster[originals[row["original"]]]
    seeds = [cluster[d] for d in kinds.filter(pl.col("kind") == "seed")["doc_id"]]
    result = {kind: joined[kind] / total[kind] for kind in sorted(total)}
    result["seeds in one cluster"] = float(len(set(seeds)) == 1)
    return result


def false_merges(documents: pl.DataFrame, labels: pl.DataFrame) -> list[list[str]]:
    """Predicted clusters holding more than one gold story: the gold stories in each."""
    joined = labels.join(documents.select("doc_id", "cluster_id"), on="doc_id")
    merged = joined.group_by("cluster_id").agg(pl.col("cluster").unique().sort()).filter(pl.col("cluster").list.len() > 1)
    return sorted(merged["cluster"].to_list(), key=lambda stories: (-len(stories), stories))  # polars groups come in no set order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--wikiref", type=Path, default=DEFAULT_WIKIREF)
    parser.add_argument("--seed", type=int, default=7, help="generator seed (which variants each article gets)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override key=value")
    args = parser.parse_args()
    counts = generate(args.out, args.wikiref, seed=args.seed)
    config = load_config(overrides={k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.overrides)})
    started = time.perf_counter()
    info = run_job(args.out / "feed", args.out / "report", config, SILENT)
    seconds = time.perf_counter() - started
    scores = evaluate_reports(args.out / "report", args.out / "labels.csv")
    documents = pl.read_parquet(args.out / "report" / "documents.parquet")
    labels = pl.read_csv(args.out / "labels.csv")
    timings = info["timings_seconds"]
    result = {
        "documents_by_kind": counts,
        "scores": scores,
        "recall_by_kind": kind_recall(documents, pl.read_csv(args.out / "kinds.csv")),
        "paraphrase_share_of_time": round(timings.get("paraphrase", 0.0) / timings["total"], 4),
        "timings_seconds": timings,
        "wall_seconds": round(seconds, 2),
        "false_merges": false_merges(documents, labels),
    }
    (args.out / "quality.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"documents: {scores['documents']} in {scores['gold_clusters']} gold stories -> {scores['predicted_clusters']} clusters ({seconds:.1f} s)")
    for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "adjusted_rand_index"):
        print(f"{key:>22}: {scores[key]:.4f}")
    print("recall by variant kind: " + ", ".join(f"{k} {v:.3f}" for k, v in result["recall_by_kind"].items()))
    print(f"paraphrase stage: {timings.get('paraphrase', 0.0):.2f} s of {timings['total']:.2f} s ({result['paraphrase_share_of_time']:.1%})")
    print(f"false merges ({len(result['false_merges'])} clusters):")
    for stories in result["false_merges"][:15]:
        print("   " + " + ".join(stories))


if __name__ == "__main__":
    main()
