"""Rewrites of one story join one cluster; same-topic stories do not."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from corpus import SEEDS, clusters_of, copy_seeds, run, wikiref, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dedup.cli import app
from dedup.kernels.paraphrase import _by_floor, background_levels

TOPICS = ("malaysia.airlines.flight", "michelle.obama", "ParisAttacks2015", "premier.league", "samsung.galaxy.s5")


def test_dedup_run_seeds_gives_one_cluster_of_all_five(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    documents = pl.read_parquet(tmp_path / "r" / "documents.parquet")
    assert documents.height == 5
    assert documents["cluster_id"].n_unique() == 1
    assert sorted(documents["match"].to_list()) == ["canonical"] + ["paraphrase"] * 4


def _background() -> list[dict]:
    """The 220 real articles plus copies of them: exact, truncated, lightly edited."""
    records = []
    for n, (doc_id, text) in enumerate(sorted(wikiref().items())):
        records.append({"id": doc_id, "text": text})
        records.append({"id": f"{doc_id}/copy", "text": text})
        paragraphs = [p for p in text.split("\n") if p.strip()]
        if n % 2 == 0 and len(paragraphs) > 6:
            records.append({"id": f"{doc_id}/truncated", "text": "\n".join(paragraphs[: len(paragraphs) // 2])})
        if n % 3 == 0:
            records.append({"id": f"{doc_id}/edited", "text": re.sub(r"\bsaid\b", "stated", text)})
    return records


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    feed = tmp_path_factory.mktemp("feed")
    write_jsonl(feed / "background.jsonl", _background())
    copy_seeds(feed)
    return run(feed, tmp_path_factory.mktemp("out"))


def test_seeds_stay_one_cluster_in_a_background_of_real_articles(mixed: pl.DataFrame) -> None:
    cluster = clusters_of(mixed)
    assert sum(1 for d in cluster if d.startswith("wikiref/")) >= 500
    seed_clusters = {c for d, c in cluster.items() if d.startswith("seeds/")}
    assert len(seed_clusters) == 1
    assert sorted(d for d, c in cluster.items() if c in seed_clusters) == sorted(f"seeds/{p.name}" for p in SEEDS.iterdir())


def test_copies_of_background_articles_join_their_original(mixed: pl.DataFrame) -> None:
    cluster = clusters_of(mixed)
    copies = [d for d in cluster if d.startswith("wikiref/") and d.count("/") == 2]
    assert len(copies) > 300
    assert all(cluster[d] == cluster[d.rsplit("/", 1)[0]] for d in copies)


def test_same_topic_articles_do_not_collapse(mixed: pl.DataFrame) -> None:
    cluster = clusters_of(mixed)
    per_topic: dict[str, set[str]] = defaultdict(set)
    originals: dict[str, int] = defaultdict(int)
    for doc_id, c in cluster.items():
        if doc_id.startswith("wikiref/") and doc_id.count("/") == 1:
            name = doc_id.removeprefix("wikiref/")
            for topic in TOPICS:
                if name.startswith(topic):
                    per_topic[topic].add(c)
                    originals[topic] += 1
    assert set(per_topic) == set(TOPICS)
    for topic in TOPICS:
        assert originals[topic] >= 35
        assert len(per_topic[topic]) >= 0.66 * originals[topic], topic


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])), max_size=40), st.integers(1, 4))
def test_background_level_is_each_documents_rank_th_highest_score(rows: list[tuple[int, int, float]], rank: int) -> None:
    pairs = np.array([(min(a, b), max(a, b)) for a, b, _ in rows if a != b], dtype=np.int64).reshape(-1, 2)
    scores = np.array([s for a, b, s in rows if a != b], dtype=np.float32)
    levels = background_levels(pairs, scores, 7, rank)
    for doc in range(7):
        mine = sorted((float(s) for (a, b), s in zip(pairs.tolist(), scores) if doc in (a, b)), reverse=True)
        assert levels[doc] == pytest.approx(mine[rank - 1] if len(mine) >= rank else 0.0)


def test_word_vectors_made_in_blocks_equal_those_made_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from dedup.config import load_config
    from dedup.kernels import paraphrase
    from dedup.kernels.normalise import normalise_text
    from dedup.kernels.sketch import sketch_texts
    from dedup.kernels.terms import TermCounts

    terms = sketch_texts([normalise_text(t) for t in list(wikiref().values())[:50]], load_config()).word_terms
    counts = TermCounts.empty()
    counts.add(terms)
    weights = paraphrase.ParaphraseWeights(counts, counts, load_config().paraphrase.background_docs)
    documents = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9])
    monkeypatch.setattr(paraphrase, "VECTORS_PER_BLOCK", 4)
    blocked = weights.word_vectors_of(terms.take, np.diff(terms.columns.offsets)[documents], documents)
    whole = weights.word_vectors(terms.take(documents))
    assert (blocked != whole).nnz == 0 and np.array_equal(blocked.indptr, whole.indptr)


def test_a_score_at_the_float32_rounding_of_its_floor_does_not_reach_it() -> None:
    """Scores are float32 and floors float64: 0.35 in float32 is 0.3499999940..., below a floor of 0.35."""
    scores = np.array([0.35, 0.36, 0.35, 0.3], dtype=np.float32)
    story_candidate = np.array([True, True, False, False])  # the last two: extra event candidates, their own floor
    reach = _by_floor(np.greater_equal, scores, story_candidate, (0.35, 0.3))
    assert reach.tolist() == [False, True, True, True]
