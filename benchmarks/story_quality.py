"""Story and event quality on the real-text benchmark (``real_stories.py``).

Runs the job (default config, or ``--set`` overrides) on one split and
prints the story-level pairwise precision, recall, F1 and ARI; the recall of
the positive pairs (same story) by kind; the false merges of the negative
pairs (different stories) by kind (same wikiref topic, MSRP negative, across
events); event-level pairwise precision and recall when ``documents.parquet``
has an ``event_id`` column; the false-merged story pairs and the missed
positive pairs, with doc ids; and the run time.

``--background`` instead runs the five seeds inside the whole real
background (the wikiref220 originals of both splits and every MSRP stitched
document, no generated variants) and says whether the seeds form one story
and how many background documents sit in multi-article stories.

    python benchmarks/story_quality.py [--data OUT_DIR] [--split test] [--seed 7]
        [--set key=value ...] [--json out.json] [--max-failures 25] [--background]

The data is built (``real_stories.build``) when OUT_DIR/SPLIT is missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import polars as pl
import yaml
from real_stories import build

from dedup.config import load_config
from dedup.evaluate import evaluate_reports, score_partition
from dedup.pipeline import run_job
from dedup.progress import SILENT

DEFAULT_DATA = Path(__file__).parent / "out" / "real_stories"
POSITIVE_ORDER = ("exact", "wrapped", "truncated", "edited", "reordered", "spun", "abridged", "rewrite", "update", "retold", "variant~variant", "msrp_rewrite", "seeds")
NEGATIVE_ORDER = ("same_topic", "msrp_negative", "cross_event")


def read_kinds(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["doc_id"]: row for row in csv.DictReader(fh)}


def positive_kind(a: dict[str, str], b: dict[str, str]) -> str:
    """A same-story pair's kind: the variant's kind against its original, else
    ``variant~variant`` (two variants of one wikiref article), ``msrp_rewrite``, ``seeds``."""
    kinds = {a["kind"], b["kind"]}
    if kinds == {"seed"}:
        return "seeds"
    if kinds == {"msrp_rewrite"}:
        return "msrp_rewrite"
    if "original" in kinds:
        return (kinds - {"original"}).pop()
    return "variant~variant"


def negative_kind(a: dict[str, str], b: dict[str, str]) -> str:
    if a["event"] != b["event"]:
        return "cross_event"
    return "msrp_negative" if a["event"].startswith("msrp:") else "same_topic"


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def analyse(kinds: dict[str, dict[str, str]], predicted: dict[str, str]) -> dict:
    """Positive-pair recall and negative-pair false merges by kind, with the failures."""
    by_story: dict[str, list[str]] = defaultdict(list)
    by_cluster: dict[str, list[str]] = defaultdict(list)
    event_sizes: Counter[str] = Counter()
    for doc_id in sorted(kinds):
        by_story[kinds[doc_id]["story"]].append(doc_id)
        by_cluster[predicted[doc_id]].append(doc_id)
        event_sizes[kinds[doc_id]["event"]] += 1
    positives: Counter[str] = Counter()
    joined: Counter[str] = Counter()
    missed = []
    for docs in by_story.values():
        for a, b in combinations(docs, 2):
            kind = positive_kind(kinds[a], kinds[b])
            positives[kind] += 1
            if predicted[a] == predicted[b]:
                joined[kind] += 1
            else:
                missed.append((kind, a, b))
    # negatives: pairs of one event less its same-story pairs; across events: the rest
    negatives: Counter[str] = Counter()
    story_pairs_in_event: Counter[str] = Counter()
    for docs in by_story.values():
        story_pairs_in_event[kinds[docs[0]]["event"]] += _pairs(len(docs))
    for event, size in event_sizes.items():
        negatives["msrp_negative" if event.startswith("msrp:") else "same_topic"] += _pairs(size) - story_pairs_in_event[event]
    negatives["cross_event"] = _pairs(len(kinds)) - sum(_pairs(n) for n in event_sizes.values())
    merged: Counter[str] = Counter()
    merged_stories: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    for docs in by_cluster.values():
        for a, b in combinations(docs, 2):
            if kinds[a]["story"] != kinds[b]["story"]:
                kind = negative_kind(kinds[a], kinds[b])
                merged[kind] += 1
                (a, b) = sorted((a, b), key=lambda d: kinds[d]["story"])
                merged_stories[(kind, kinds[a]["story"], kinds[b]["story"])].append((a, b))
    return {
        "positive_pairs": {k: positives[k] for k in POSITIVE_ORDER if positives[k]},
        "recall_by_kind": {k: joined[k] / positives[k] for k in POSITIVE_ORDER if positives[k]},
        "negative_pairs": {k: negatives[k] for k in NEGATIVE_ORDER},
        "false_merged_pairs": {k: merged[k] for k in NEGATIVE_ORDER},
        "false_merged_story_pairs": {k: sum(1 for key in merged_stories if key[0] == k) for k in NEGATIVE_ORDER},
        "false_merges": [
            {"kind": kind, "stories": [s, t], "doc_pairs": len(pairs), "example": list(min(pairs))}
            for (kind, s, t), pairs in sorted(merged_stories.items(), key=lambda item: (NEGATIVE_ORDER.index(item[0][0]), item[0][1:]))
        ],
        "missed_positives": [
            {"kind": kind, "docs": [a, b]} for kind, a, b in sorted(missed, key=lambda m: (POSITIVE_ORDER.index(m[0]), m[1], m[2]))
        ],
    }


def event_scores(documents: pl.DataFrame, kinds: dict[str, dict[str, str]]) -> dict | None:
    """Pairwise event scores of the report's ``event_id`` against the gold events, if it has one."""
    if "event_id" not in documents.columns:
        return None
    predicted = dict(zip(documents["doc_id"].to_list(), documents["event_id"].cast(pl.String).to_list()))
    docs = sorted(kinds)
    scores = score_partition([kinds[d]["event"] for d in docs], [str(predicted[d]) for d in docs])
    return {k: scores[k] for k in ("gold_clusters", "predicted_clusters", "pairwise_precision", "pairwise_recall", "pairwise_f1", "adjusted_rand_index")}


def run(feed: Path, report: Path, overrides: list[str]) -> tuple[dict, float]:
    config = load_config(overrides={k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in overrides)})
    if report.exists():
        shutil.rmtree(report)
    started = time.perf_counter()
    info = run_job(feed, report, config, SILENT)
    return info, time.perf_counter() - started


def split_mode(args: argparse.Namespace) -> dict:
    data = args.data / args.split
    if not (data / "kinds.csv").exists():
        print(f"building {args.data} (seed {args.seed})")
        build(args.data, args.seed)
    report = args.data / f"report-{args.split}"
    info, seconds = run(data / "feed", report, args.overrides)
    scores = evaluate_reports(report, data / "labels.csv")
    documents = pl.read_parquet(report / "documents.parquet")
    kinds = read_kinds(data / "kinds.csv")
    predicted = dict(zip(documents["doc_id"].to_list(), documents["cluster_id"].to_list()))
    result = {"split": args.split, "overrides": args.overrides, "scores": scores} | analyse(kinds, predicted)
    result["event_scores"] = event_scores(documents, kinds)
    # The same run scored without the msrp_negative documents: whether two
    # stitched versions of one news cluster's sentences differing in a detail
    # are two stories is moot, so the headline figures are given both ways.
    clear = [d for d in predicted if kinds[d]["kind"] != "msrp_negative"]
    result["scores_without_msrp_negative"] = score_partition([kinds[d]["story"] for d in clear], [predicted[d] for d in clear])
    result["timings_seconds"] = info["timings_seconds"]
    result["wall_seconds"] = round(seconds, 2)

    print(f"split {args.split}: {scores['documents']} documents in {scores['gold_clusters']} gold stories -> {scores['predicted_clusters']} clusters")
    for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "adjusted_rand_index"):
        print(f"{key:>22}: {scores[key]:.4f}")
    clear = result["scores_without_msrp_negative"]
    print("  without the msrp_negative documents: " + ", ".join(f"{key} {clear[key]:.4f}" for key in ("pairwise_precision", "pairwise_recall", "adjusted_rand_index")))
    print("positive pairs (same story), recall by kind:")
    for kind, total in result["positive_pairs"].items():
        print(f"   {kind:>16}: {result['recall_by_kind'][kind]:.3f} of {total}")
    print("negative pairs (different stories), false merges by kind:")
    for kind, total in result["negative_pairs"].items():
        print(f"   {kind:>16}: {result['false_merged_pairs'][kind]} of {total} pairs ({result['false_merged_story_pairs'][kind]} story pairs)")
    if result["event_scores"] is None:
        print("event level: skipped (documents.parquet has no event_id column)")
    else:
        ev = result["event_scores"]
        print(f"event level: {ev['gold_clusters']} gold events -> {ev['predicted_clusters']} predicted; pairwise precision {ev['pairwise_precision']:.4f}, recall {ev['pairwise_recall']:.4f}, F1 {ev['pairwise_f1']:.4f}")
    cap = args.max_failures
    print(f"false-merged story pairs ({len(result['false_merges'])}, first {min(cap, len(result['false_merges']))}):")
    for merge in result["false_merges"][:cap]:
        print(f"   [{merge['kind']}] {merge['stories'][0]} + {merge['stories'][1]}  ({merge['doc_pairs']} doc pairs, e.g. {merge['example'][0]} + {merge['example'][1]})")
    print(f"missed positive pairs ({len(result['missed_positives'])}, first {min(cap, len(result['missed_positives']))}):")
    for miss in result["missed_positives"][:cap]:
        print(f"   [{miss['kind']}] {miss['docs'][0]} / {miss['docs'][1]}")
    print(f"run time: {seconds:.2f} s wall (run_job, in-process), stages {info['timings_seconds']['total']:.2f} s, paraphrase {info['timings_seconds'].get('paraphrase', 0.0):.2f} s")
    return result


def background_mode(args: argparse.Namespace) -> dict:
    """Seeds + every wikiref original + every MSRP stitched document, one run."""
    if not all((args.data / part / "kinds.csv").exists() for part in ("train", "test")):
        print(f"building {args.data} (seed {args.seed})")
        build(args.data, args.seed)
    out = args.data / "background"
    if out.exists():
        shutil.rmtree(out)
    (out / "feed").mkdir(parents=True)
    kinds: dict[str, dict[str, str]] = {}
    for part in ("train", "test"):
        part_kinds = read_kinds(args.data / part / "kinds.csv")
        keep = {d for d, row in part_kinds.items() if row["kind"] in ("original", "msrp_rewrite", "msrp_negative", "seed")}
        kinds |= {d: part_kinds[d] for d in sorted(keep)}
        for path in sorted((args.data / part / "feed").glob("*.jsonl")):
            lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if json.loads(line)["id"] in keep]
            (out / "feed" / f"{part}-{path.name}").write_text("".join(lines), encoding="utf-8", newline="\n")
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([("doc_id", "cluster"), *((d, kinds[d]["story"]) for d in sorted(kinds))])
    info, seconds = run(out / "feed", out / "report", args.overrides)
    scores = evaluate_reports(out / "report", out / "labels.csv")
    documents = pl.read_parquet(out / "report" / "documents.parquet")
    predicted = dict(zip(documents["doc_id"].to_list(), documents["cluster_id"].to_list()))
    sizes = Counter(predicted[d] for d in kinds)
    seeds = sorted(d for d in kinds if kinds[d]["kind"] == "seed")
    seed_clusters = {predicted[d] for d in seeds}
    with_seeds = sorted(d for d in kinds if predicted[d] in seed_clusters and kinds[d]["kind"] != "seed")
    background = [d for d in kinds if kinds[d]["kind"] != "seed"]
    wikiref = [d for d in background if kinds[d]["kind"] == "original"]
    msrp = [d for d in background if kinds[d]["kind"] != "original"]
    # an MSRP rewrite's own partner makes a two-article story by design: count a document only when its cluster holds another story
    stories_in = defaultdict(set)
    for d in kinds:
        stories_in[predicted[d]].add(kinds[d]["story"])
    result = {
        "mode": "background",
        "overrides": args.overrides,
        "scores": scores,
        "seeds": len(seeds),
        "seed_clusters": len(seed_clusters),
        "seeds_one_story": len(seed_clusters) == 1,
        "background_docs_with_seeds": with_seeds,
        "wikiref_originals": len(wikiref),
        "wikiref_in_multi_article_stories": sum(sizes[predicted[d]] > 1 for d in wikiref),
        "msrp_docs": len(msrp),
        "msrp_in_multi_article_stories": sum(sizes[predicted[d]] > 1 for d in msrp),
        "msrp_in_multi_story_clusters": sum(len(stories_in[predicted[d]]) > 1 for d in msrp),
        "timings_seconds": info["timings_seconds"],
        "wall_seconds": round(seconds, 2),
    }
    print(f"background: {scores['documents']} documents ({len(seeds)} seeds, {len(wikiref)} wikiref originals, {len(msrp)} MSRP stitched) in {scores['gold_clusters']} gold stories -> {scores['predicted_clusters']} clusters")
    for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "adjusted_rand_index"):
        print(f"{key:>22}: {scores[key]:.4f}")
    print(f"seeds: {len(seeds)} in {len(seed_clusters)} cluster(s); one story: {'yes' if result['seeds_one_story'] else 'no'}; background documents with them: {len(with_seeds)}" + (f" ({', '.join(with_seeds[:10])})" if with_seeds else ""))
    print(f"wikiref originals in multi-article stories: {result['wikiref_in_multi_article_stories']} of {len(wikiref)} (each is its own story)")
    print(f"MSRP documents in multi-article stories: {result['msrp_in_multi_article_stories']} of {len(msrp)} (rewrite pairs belong together); in a cluster with another gold story: {result['msrp_in_multi_story_clusters']}")
    print(f"run time: {seconds:.2f} s wall (run_job, in-process), stages {info['timings_seconds']['total']:.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real_stories.py output directory (built if missing)")
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--seed", type=int, default=7, help="builder seed, when the data is built here")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override key=value")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--max-failures", type=int, default=25, help="failures listed (all go to --json)")
    parser.add_argument("--background", action="store_true", help="the seeds inside the whole real background instead of a split")
    args = parser.parse_args()
    result = background_mode(args) if args.background else split_mode(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
