"""How well the paraphrase score separates rewrites of one story from distinct
same-topic articles, and how many candidate pairs its LSH proposes.

Scores every pair of documents in seeds/ + wikiref220 (all pairs, so the
figures do not depend on the LSH), then reports: the scores of the ten seed
pairs, the highest seed-to-background score, how many of the 24,090 pairs of
distinct wikiref220 articles reach each threshold, the top ones, and the LSH
candidates (and seed-pair recall) of the default configuration.

    python benchmarks/paraphrase_separation.py [--wikiref DIR]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from dedup.config import load_config
from dedup.readers.files import list_feed_files
from dedup.kernels.paraphrase import ParaphraseVectors, ParaphraseWeights, fact_buckets
from dedup.engine import make_engine
from dedup.progress import Timings
from dedup.stages.ingest import prepare
from dedup.progress import SILENT
from dedup.store.state import utc_now
from dedup.kernels.terms import TermCounts, Terms

REPO = Path(__file__).parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wikiref", type=Path, default=REPO.parent / "shared" / "corpora" / "wikiref220")
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp)
        shutil.copytree(REPO / "seeds", feed / "seeds")
        shutil.copytree(args.wikiref, feed / "wiki", ignore=shutil.ignore_patterns("README*"))
        documents, prepared, _ = prepare(list_feed_files(feed), feed, set(), Counter(), config, make_engine(config.runtime), SILENT, Timings(), feed / ".segments", 1, utc_now(), durable=False)
        sketches = prepared.segment.sketches.take(prepared.rows)
    ids = documents["doc_id"].to_list()
    is_seed = np.array([i.startswith("seeds/") for i in ids])

    def counts(terms: Terms) -> TermCounts:
        counted = TermCounts.empty()
        counted.add(terms)
        return counted

    weights = ParaphraseWeights(counts(sketches.word_terms), counts(sketches.fact_terms), config.paraphrase.background_docs)
    words = weights.word_vectors(sketches.word_terms)
    scorer = ParaphraseVectors(lambda rows: words[rows], weights.fact_vectors(sketches.fact_terms))
    pairs = np.array(list(itertools.combinations(range(len(ids)), 2)))
    scores = scorer.score_pairs(pairs)
    seed_pair = is_seed[pairs[:, 0]] & is_seed[pairs[:, 1]]
    mixed = is_seed[pairs[:, 0]] ^ is_seed[pairs[:, 1]]
    background = ~is_seed[pairs[:, 0]] & ~is_seed[pairs[:, 1]]
    print(f"documents: {len(ids)} ({is_seed.sum()} seeds); pairs scored: {len(pairs)}")
    print("seed pair scores:", " ".join(f"{s:.3f}" for s in np.sort(scores[seed_pair])))
    print(f"highest seed-to-background score: {scores[mixed].max():.3f}")
    for threshold in (0.30, 0.35, 0.40, 0.45):
        print(f"background pairs >= {threshold:.2f}: {(scores[background] >= threshold).sum()} of {background.sum()}")
    print("top background pairs:")
    top = np.flatnonzero(background)[np.argsort(-scores[background])[:10]]
    for k in top:
        print(f"  {scores[k]:.3f}  {ids[pairs[k, 0]]}  {ids[pairs[k, 1]]}")
    candidates = {tuple(p) for p in fact_buckets(sketches.fact_signatures, config.paraphrase.lsh_threshold, config).pairs().tolist()}
    recalled = sum(tuple(p) in candidates for p in pairs[seed_pair].tolist())
    print(f"LSH candidates (default config): {len(candidates)} of {len(pairs)} pairs; seed pairs among them: {recalled} of {seed_pair.sum()}")


if __name__ == "__main__":
    main()
