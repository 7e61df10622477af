"""Train the packaged pair model (dedup/models/story_pairs.json) from real text, and test it.

1. Builds the real-text benchmark (``real_stories.py``: wikiref220 originals
   and their variants, MSRP stitched rewrites, the seeds in test only), split
   into train and test by story.
2. Adds to the train split only a harder kind of rewrite, ``retold``: the
   lede and 30-50% of an original's other sentences, spun, with four to
   eight sentences of other articles of its topic woven in (the background
   an outlet adds). The generator's other rewrites keep most of their
   original's words, far more than the seeds' real rewrites do; without
   harder positives the boundary lands between easy rewrites and distinct
   articles, and real rewrites fall on the wrong side of it.
3. Collects the features of every paraphrase candidate of the train feed as
   a run would (``dedup.train.candidate_features``) and labels them from the
   stories and events. ``msrp_negative`` pairs (MSRP's non-paraphrase
   sentence pairs, stitched: one news cluster's sentences that differ in a
   detail) train the event model only: whether they are one story is moot.
4. Fits the story and event models, scores the test split's candidate pairs
   (per kind: recall of same-story pairs, false merges of the others), and
   writes the model with what it was trained on and these figures.

    python benchmarks/train_pair_model.py [--data benchmarks/out/real_stories] [--seed 7] [--out dedup/models/story_pairs.json]
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from labelled_feed import _sentences, _spin
from real_stories import OUTLETS, build

from dedup.config import load_config
from dedup.kernels.pair_model import FEATURES, PairModel, describe
from dedup.progress import SILENT
from dedup.train import STORY_FEATURES, candidate_features, fit_level, labelled_pairs

REPO = Path(__file__).parent.parent
DATA = Path(__file__).parent / "out" / "real_stories"
MODEL = REPO / "dedup" / "models" / "story_pairs.json"


def retold(original: dict, background: list[str], rng: random.Random) -> dict:
    """A ``retold`` rewrite of a feed record: see the module's docstring."""
    sentences = _sentences(original["text"])
    share = rng.uniform(0.3, 0.5)
    kept = [sentences[0], *[s for s in sentences[1:] if rng.random() < share]]
    for sentence in rng.sample(background, min(len(background), rng.randint(4, 8))):
        kept.insert(rng.randrange(1, len(kept) + 1), sentence)
    later = datetime.fromisoformat(original["published"].replace("Z", "+00:00")) + timedelta(minutes=rng.randrange(60, 600))
    return {
        "id": original["id"] + "/retold", "title": original["title"], "text": _spin(" ".join(kept), rng, 0.45),
        "published": later.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": rng.choice(OUTLETS),
    }  # fmt: skip


def add_retold(split_dir: Path, seed: int) -> int:
    """Write ``retold.jsonl`` into the split's feed and its rows into its CSVs; returns how many."""
    kinds = pl.read_csv(split_dir / "kinds.csv", infer_schema=False)
    records = pl.read_ndjson(split_dir / "feed" / "wikiref.jsonl", infer_schema_length=None)
    originals = records.join(kinds.filter(pl.col("kind") == "original").rename({"doc_id": "id"}), on="id")
    sentences_of_event: dict[str, list[str]] = {}
    for row in originals.iter_rows(named=True):
        sentences_of_event.setdefault(row["event"], []).extend((row["id"], s) for s in _sentences(row["text"])[1:])
    made, rows = [], []
    for row in originals.sort("id").iter_rows(named=True):
        rng = random.Random(f"{seed}/retold/{row['id']}")
        background = [s for other, s in sentences_of_event[row["event"]] if other != row["id"]]
        if not background:
            continue
        made.append(retold(row, background, rng))
        rows.append((made[-1]["id"], "retold", row["story"], row["event"]))
    pl.DataFrame(made).write_ndjson(split_dir / "feed" / "retold.jsonl")
    extra = pl.DataFrame(rows, schema=["doc_id", "kind", "story", "event"], orient="row")
    pl.concat([kinds, extra]).write_csv(split_dir / "kinds.csv")
    pl.concat([pl.read_csv(split_dir / "labels.csv", infer_schema=False), extra.select("doc_id", pl.col("story").alias("cluster"))]).write_csv(split_dir / "labels.csv")
    pl.concat([pl.read_csv(split_dir / "events.csv", infer_schema=False), extra.select("doc_id", "event")]).write_csv(split_dir / "events.csv")
    return len(made)


def split_pairs(split_dir: Path) -> pl.DataFrame:
    """The split's labelled candidate pairs, with each pair's kind (its documents' kinds, sorted)."""
    kinds = pl.read_csv(split_dir / "kinds.csv", infer_schema=False)
    labels = kinds.select("doc_id", pl.col("story").alias("cluster"), "event")
    pairs = labelled_pairs(candidate_features(split_dir / "feed", load_config(None, {}), SILENT), labels)
    kind = kinds.select("doc_id", "kind")
    pairs = pairs.join(kind.rename({"doc_id": "a", "kind": "kind_a"}), on="a").join(kind.rename({"doc_id": "b", "kind": "kind_b"}), on="b")
    return pairs.with_columns(
        pl.when(pl.col("kind_a") < pl.col("kind_b")).then(pl.concat_str("kind_a", pl.lit("+"), "kind_b")).otherwise(pl.concat_str("kind_b", pl.lit("+"), "kind_a")).alias("kind")
    )


def score(model: PairModel, pairs: pl.DataFrame) -> tuple[dict[str, float], pl.DataFrame]:
    """Pairwise precision and recall of each level, and a row per (level, truth, kind)."""
    features = pairs.select(FEATURES).to_numpy().astype(np.float64)
    figures, rows = {}, []
    for level in ("story", "event"):
        said = getattr(model, level).decide(features)
        if level == "story":  # as in a run: the looser event LSH's extra pairs are never one story
            said &= pairs["story_candidate"].to_numpy()
        truth = pairs[level].to_numpy() == 1
        tp, fp, fn = int((said & truth).sum()), int((said & ~truth).sum()), int((~said & truth).sum())
        figures[f"{level}_precision"] = round(tp / max(tp + fp, 1), 4)
        figures[f"{level}_recall"] = round(tp / max(tp + fn, 1), 4)
        rows.append(pairs.select("kind").with_columns(pl.lit(level).alias("level"), pl.Series("truth", truth), pl.Series("said", said)))
    table = pl.concat(rows).group_by("level", "truth", "kind").agg(pl.len().alias("pairs"), pl.col("said").sum().alias("said_yes")).sort("level", "truth", "kind")
    return figures, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=MODEL)
    args = parser.parse_args()
    if args.data.exists():
        shutil.rmtree(args.data)
    build(args.data, args.seed)
    print(f"retold rewrites added to train: {add_retold(args.data / 'train', args.seed)}")
    train, test = split_pairs(args.data / "train"), split_pairs(args.data / "test")
    for name, pairs in (("train", train), ("test", test)):
        print(f"{name} candidate pairs: {pairs.height} (story {int(pairs['story'].sum())}, event {int(pairs['event'].sum())})")
    story_pairs = train.filter(pl.col("kind") != "msrp_negative+msrp_negative", pl.col("story_candidate"))
    trained_on = f"benchmarks/train_pair_model.py --seed {args.seed}: candidate pairs of the real_stories.py train split plus retold rewrites"
    model = PairModel(fit_level(story_pairs, "story", STORY_FEATURES), fit_level(train, "event", FEATURES), trained_on)
    figures, table = score(model, test)
    model = PairModel(model.story, model.event, f"{trained_on}; on the test split's candidate pairs: {figures}")
    model.save(args.out)
    print("weights:", describe(model))
    print("test split, candidate pairs:", figures)
    with pl.Config(tbl_rows=200, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(table)
    print(f"model written to {args.out}")


if __name__ == "__main__":
    main()
