"""Canonical choice: the representative criterion (shared facts per word),
its place in canonical.order, its reason, and the seeds' canonical."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
from corpus import SEEDS, run

from dedup.arrays import Ragged
from dedup.kernels.canonical import canonical_reason, preference_order, representativeness, story_canonicals
from dedup.config import CanonicalConfig, load_config


def _ragged(rows: list[list[int]]) -> Ragged:
    return Ragged(np.array([v for row in rows for v in row], dtype=np.uint64), np.cumsum([0] + [len(r) for r in rows]).astype(np.int64))


def test_padding_and_unconfirmed_facts_lower_representativeness() -> None:
    story = np.zeros(4, dtype=np.int64)
    facts = [[1, 2, 3], [1, 2, 3], [1, 2, 3, 7, 8, 9], [1, 2]]  # 0: concise; 1: padded; 2: adds a sidebar no other has; 3: a summary
    words = np.array([100, 300, 200, 40])
    score = representativeness(story, words, [_ragged(facts), _ragged([[] for _ in facts])])
    # 0 holds 1, 2 (each in all 3 others) and 3 (in 2 of 3): 1 + 1 + 2/3, per 100 of the story's median 150 words
    assert np.isclose(score[0], (1 + 1 + 2 / 3) * 100 / 150)
    assert score[0] > score[1] and score[0] > score[2] > 0
    assert np.isclose(score[3], 2 * 100 / 150)  # shorter than the median: counted as the median, not rewarded for brevity
    lone = representativeness(np.array([0, 1]), np.array([50, 50]), [_ragged([[1], [1]])])
    assert lone.tolist() == [0.0, 0.0]  # different stories share nothing


def _documents(published: list[datetime | None], words: list[int]) -> pl.DataFrame:
    n = len(words)
    return pl.DataFrame(
        {"doc_id": [f"d{k}" for k in range(n)], "published": published, "source": [None] * n, "words": words},
        schema={"doc_id": pl.String, "published": pl.Datetime("us", "UTC"), "source": pl.String, "words": pl.Int64},
    )


def test_representative_decides_after_dates_and_before_length() -> None:
    config = CanonicalConfig()
    day = datetime(2025, 6, 13, tzinfo=timezone.utc)
    documents = _documents([None, None, None], [300, 100, 100])
    documents = documents[preference_order(documents, config)]  # the longest first: length ranks after representative
    assert documents["doc_id"].to_list() == ["d0", "d1", "d2"]
    facts = [[1, 2, 3], [1, 2, 3], [1, 2]]
    story = np.zeros(3, dtype=np.int64)
    canon, runner_up, scores = story_canonicals(documents, story, lambda rows: [_ragged([facts[r] for r in rows.tolist()])], config)
    assert canon.tolist() == [1, 1, 1] and runner_up.tolist() == [2, 2, 2]  # d1: d0's facts in a third of its words
    rows = documents.with_columns(pl.Series("representative", scores)).to_dicts()
    assert canonical_reason(rows[1], rows[2], config).startswith("representative (")
    dated = _documents([None, None, day], [300, 100, 100])
    dated = dated[preference_order(dated, config)]
    canon, _, _ = story_canonicals(dated, story, lambda rows: [_ragged([[1]] * len(rows))], config)
    assert dated["doc_id"][int(canon[0])] == "d2"  # the one dated member wins before representativeness is asked


def test_without_representative_the_first_in_preference_order_is_canonical() -> None:
    config = CanonicalConfig(order=["longest_text", "doc_id"])
    documents = _documents([None] * 3, [100, 300, 200])
    documents = documents[preference_order(documents, config)]
    canon, runner_up, _ = story_canonicals(documents, np.array([0, 1, 0]), lambda rows: [], config)
    assert canon.tolist() == [0, 1, 0] and runner_up.tolist() == [2, -1, 2]


def _seeds(feed: Path, undated: bool) -> None:
    feed.mkdir()
    for path in SEEDS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        (feed / path.name).write_text(text.replace(" date 2025-06-13 ", "", 1) if undated else text, encoding="utf-8")


def test_seeds_canonical_is_a_representative_rewrite_not_the_padded_one(tmp_path: Path) -> None:
    _seeds(tmp_path / "undated", undated=True)
    run(tmp_path / "undated", tmp_path / "out")
    (story,) = pl.read_parquet(tmp_path / "out" / "clusters.parquet").to_dicts()
    assert story["canonical_doc_id"] != "001_989e9862f537e0a0.txt"  # the most padded, which misdates the memo
    assert story["canonical_reason"].startswith("representative (") and "facts shared with the rest of the story per 100 words" in story["canonical_reason"]
    documents = pl.read_parquet(tmp_path / "out" / "documents.parquet")
    assert documents.filter(pl.col("is_canonical"))["doc_id"].to_list() == [story["canonical_doc_id"]]


def test_seeds_as_they_are_take_the_dated_rewrite(tmp_path: Path) -> None:
    _seeds(tmp_path / "feed", undated=False)
    run(tmp_path / "feed", tmp_path / "out", load_config())
    (story,) = pl.read_parquet(tmp_path / "out" / "clusters.parquet").to_dicts()
    assert story["canonical_doc_id"] == "003_52fcb1f85dbd11e3.txt"  # its date line is read: the only dated member
    assert story["canonical_reason"] == "earliest published (2025-06-13T00:00:00+00:00)"
