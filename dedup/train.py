"""Training the pair model (``dedup train``) from a labelled feed.

The feed is read, sketched and matched as a run would (``stages.ingest.prepare``,
``stages.match.match``), keeping every paraphrase candidate's features. A pair
is labelled one story when the labels put both documents in one cluster,
and one event when the events do (a story's pairs are one event too). The
two logistic regressions of ``pair_model`` are fitted to these pairs, so the
model learns from the very pairs it will be asked about in a run.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from dedup.config import Config, ConfigError
from dedup.engine import make_engine
from dedup.kernels.pair_model import FEATURES, LinearModel, PairModel, fit_linear
from dedup.progress import Progress, Timings
from dedup.readers.files import list_feed_files
from dedup.stages.ingest import prepare
from dedup.stages.match import match
from dedup.store.state import State, utc_now
from dedup.store.window import assemble


def read_labels(path: Path) -> pl.DataFrame:
    """``doc_id,cluster[,event]`` (the ``dedup evaluate`` format, with an
    optional event column: without one, each story is its own event)."""
    try:
        labels = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ConfigError(f"labels {path} cannot be read: {exc}") from exc
    missing = {"doc_id", "cluster"} - set(labels.columns)
    if missing:
        raise ConfigError(f"labels {path} lack the column(s) {', '.join(sorted(missing))} (expected doc_id,cluster[,event])")
    if "event" not in labels.columns:
        labels = labels.with_columns(pl.col("cluster").alias("event"))
    return labels.select("doc_id", "cluster", pl.col("event").fill_null(pl.col("cluster")))


def candidate_features(feed_dir: Path, config: Config, progress: Progress) -> pl.DataFrame:
    """Every paraphrase candidate of the feed that reaches its floor
    (``paraphrase.min_score``, or ``event.min_score``): its documents' ids
    (``a``, ``b``), whether it is a story candidate (``story_candidate``) and
    its features (``pair_model.FEATURES``)."""
    timings = Timings()
    engine = make_engine(config.runtime)
    with tempfile.TemporaryDirectory(prefix="dedup-train-") as segments:
        new, prepared, _ = prepare(list_feed_files(feed_dir), feed_dir, set(), Counter(), config, engine, progress, timings, Path(segments), 1, utc_now(), durable=False)
        no_old = State().documents.drop("segment").with_columns(pl.lit(None, pl.Int64).alias("segment_index"))
        window = assemble(no_old, [], new, prepared.segment, prepared.rows, False, config.canonical)
        matched = match(window, pl.DataFrame(), None, config, engine, timings, progress, keep_features=True)
    assert matched.scored is not None  # keep_features asked for them
    return matched.scored


def labelled_pairs(scored: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """``scored`` pairs whose documents are both labelled, with ``story`` and ``event`` (0/1)."""
    for end in ("a", "b"):
        scored = scored.join(labels.rename({"doc_id": end, "cluster": f"cluster_{end}", "event": f"event_{end}"}), on=end, how="inner")
    return scored.with_columns(
        (pl.col("cluster_a") == pl.col("cluster_b")).cast(pl.Int8).alias("story"),
        ((pl.col("event_a") == pl.col("event_b")) | (pl.col("cluster_a") == pl.col("cluster_b"))).cast(pl.Int8).alias("event"),
    ).sort("a", "b")


STORY_FEATURES = ("word_cosine", "contrast")
"""The story model's features. Shared facts, times and lengths also separate
the labelled feeds' stories, but by traits of how those feeds were made (the
generated variants keep every figure; the benchmark's dates are drawn), and
a model leaning on them called real rewrites other stories."""


def has_both_kinds(pairs: pl.DataFrame, level: str) -> bool:
    """Whether ``pairs`` hold pairs of one ``level`` and pairs not: a model can be fitted to them."""
    return 0 < int(pairs[level].sum()) < pairs.height


BALANCED = {"story": False, "event": True}
"""Whether a level's model weighs its two classes equally (``fit_linear``).
The story model does not: calling two articles one story hides one of them
from a reader, so it says yes only where that is more likely than not among
the candidates (on the real-text benchmark this kept the stories' recall and
split more distinct same-topic articles than equal weights did:
benchmarks/README.md). The event model does: an event groups stories that stay apart
below it, so a missed link costs more than an extra one."""


def fit_level(pairs: pl.DataFrame, level: str, names: tuple[str, ...]) -> LinearModel:
    """The model of ``level`` ("story" or "event") fitted to labelled ``pairs`` (``has_both_kinds``)."""
    return fit_linear(pairs.select(FEATURES).to_numpy().astype(np.float64), pairs[level].to_numpy(), names, BALANCED[level])


def fit(pairs: pl.DataFrame, trained_on: str, current: PairModel) -> PairModel:
    """The story and event models fitted to labelled ``pairs``. A level whose
    pairs are all of one kind (a feed of one event has no pair of two) keeps
    the ``current`` model's, and ``trained_on`` says so; with neither level
    fittable, the labels cannot train anything."""
    levels = {"story": STORY_FEATURES, "event": FEATURES}
    # the story model decides story candidates only (the looser event LSH's extra pairs are never one story)
    asked = {"story": pairs.filter(pl.col("story_candidate")), "event": pairs}
    fittable = [level for level in levels if has_both_kinds(asked[level], level)]
    if not fittable:
        raise ConfigError("the labelled candidate pairs are all of one kind: the labels must put some candidates in one story and some in two")
    fitted = {level: fit_level(asked[level], level, names) if level in fittable else getattr(current, level) for level, names in levels.items()}
    kept = [level for level in levels if level not in fittable]
    note = f"; the {kept[0]} model kept from the model it replaces (every labelled pair was of one kind)" if kept else ""
    return PairModel(story=fitted["story"], event=fitted["event"], trained_on=trained_on + note)
