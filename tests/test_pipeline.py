"""End-to-end behaviour of the batch job on near-copies, canonicals and diffs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from corpus import clusters_of, run, wikiref, write_jsonl

from dedup.config import load_config

ORIGINAL = "wikiref/malaysia.airlines.flight.10.txt"  # oil slicks "not from missing jet"


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


@pytest.fixture(scope="module")
def variants_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Path]:
    """One original, four kinds of copies of it, and the other MH370 articles."""
    text = wikiref()[ORIGINAL]
    parts = sentences(text)
    edited = text.replace(parts[6], "").replace("first spotted", "first seen")
    wrapped = (
        "Home | World | Asia\nShare this article\n"
        + text
        + "\nSign up for our newsletter to get the news first\nRelated Posts\nTen phones to buy this year\nWhy the markets fell\n"
    )
    records = [
        {"id": "original", "text": text, "published": "2014-03-10T09:00:00Z", "source": "wire"},
        {"id": "exact", "text": text, "published": "2014-03-10T11:00:00Z", "source": "blog"},
        {"id": "wrapped", "text": wrapped, "published": "2014-03-10T10:00:00Z", "source": "portal"},
        {"id": "truncated", "text": " ".join(parts[: len(parts) * 2 // 5]), "published": "2014-03-10T12:00:00Z"},
        {"id": "edited", "text": edited, "published": "2014-03-10T13:00:00Z"},
    ]
    others = [{"id": k, "text": v} for k, v in wikiref().items() if k.startswith("wikiref/malaysia") and k != ORIGINAL]
    feed = tmp_path_factory.mktemp("feed")
    write_jsonl(feed / "copies.jsonl", records)
    write_jsonl(feed / "background.jsonl", others)
    out = tmp_path_factory.mktemp("out")
    return run(feed, out), out


def test_every_kind_of_copy_joins_its_original(variants_run: tuple[pl.DataFrame, Path]) -> None:
    documents, _ = variants_run
    cluster = clusters_of(documents)
    members = [d for d, c in cluster.items() if c == cluster["original"]]
    assert sorted(members) == ["edited", "exact", "original", "truncated", "wrapped"]
    match = dict(zip(documents["doc_id"], documents["match"]))
    assert match["original"] == "canonical"
    assert match["exact"] == "exact"
    assert match["wrapped"] == "exact"  # identical once its boilerplate is stripped
    assert match["truncated"] == match["edited"] == "near-copy"


def test_canonical_is_earliest_published_with_its_reason(variants_run: tuple[pl.DataFrame, Path]) -> None:
    _, out = variants_run
    clusters = pl.read_parquet(out / "clusters.parquet")
    row = clusters.filter(pl.col("canonical_doc_id") == "original").row(0, named=True)
    assert row["size"] == 5
    assert row["canonical_reason"].startswith("earliest published (2014-03-10T09:00:00")
    assert row["sources"] == ["blog", "portal", "wire"]
    assert str(row["first_published"]).startswith("2014-03-10 09:00") and str(row["last_published"]).startswith("2014-03-10 13:00")


def test_variant_diffs_name_what_changed(variants_run: tuple[pl.DataFrame, Path]) -> None:
    _, out = variants_run
    variants = {row["doc_id"]: row for row in pl.read_parquet(out / "variants.parquet").iter_rows(named=True)}
    parts = sentences(wikiref()[ORIGINAL])
    edited = variants["edited"]
    assert [(c["words_removed"], c["words_added"]) for c in edited["sentences_changed"]] == [(["spotted"], ["seen"])]
    assert [s[:40] for s in edited["sentences_removed"]] == ["This afternoon Malaysian officials said "]
    assert edited["sentences_added"] == []
    truncated = variants["truncated"]
    assert truncated["sentences_added"] == [] and len(truncated["sentences_removed"]) > 5
    assert truncated["containment"] == pytest.approx(1.0)
    wrapped = variants["wrapped"]  # the wrapper is boilerplate: nothing of it survives as a difference
    assert wrapped["sentences_added"] == [] and wrapped["sentences_removed"] == [] and wrapped["jaccard"] == pytest.approx(1.0)
    assert variants["exact"]["sentences_same"] > 10


def test_distinct_articles_on_one_topic_stay_apart(variants_run: tuple[pl.DataFrame, Path]) -> None:
    documents, _ = variants_run
    background = documents.filter(pl.col("doc_id").str.starts_with("wikiref/"))
    sizes = background.group_by("cluster_id").len()["len"]
    assert background.height == 38
    assert sizes.max() <= 5  # a few same-event reports may join; the topic never collapses
    assert sizes.len() >= 25


def test_same_template_weeks_apart_is_another_story_but_an_update_hours_later_is_not(tmp_path: Path) -> None:
    template = (
        "The unemployment rate in Ruritania {verb} to {rate} percent in {month}, the national statistics office said on Friday. "
        "Employers added {jobs} jobs during the month, compared with forecasts of {forecast} from economists polled by the agency. "
        "Wages rose {wages} percent from a year earlier, the office said, while the participation rate held steady. "
        "The central bank has said it will watch the labour market closely before deciding on interest rates at its next meeting. "
        "Economists said the figures showed a labour market that was cooling only slowly despite higher borrowing costs."
    )
    march = template.format(verb="fell", rate="4.1", month="March", jobs="220,000", forecast="180,000", wages="3.9")
    april = template.format(verb="rose", rate="4.3", month="April", jobs="95,000", forecast="150,000", wages="3.4")
    revised = march.replace("220,000", "231,000")
    write_jsonl(
        tmp_path / "feed" / "jobs.jsonl",
        [
            {"id": "march", "text": march, "published": "2025-04-04T12:30:00Z"},
            {"id": "march-revised", "text": revised, "published": "2025-04-04T16:00:00Z"},
            {"id": "april", "text": april, "published": "2025-05-02T12:30:00Z"},
            {"id": "april-undated-copy", "text": april},
        ],
    )
    cluster = clusters_of(run(tmp_path / "feed", tmp_path / "out"))
    assert cluster["march"] == cluster["march-revised"]
    assert cluster["april"] != cluster["march"]
    assert cluster["april-undated-copy"] == cluster["april"]


def test_source_priority_decides_among_undated_copies(tmp_path: Path) -> None:
    text = wikiref()["wikiref/barack.obama.1.txt"]
    write_jsonl(tmp_path / "feed" / "a.jsonl", [{"id": "a", "text": text, "source": "blog"}, {"id": "b", "text": text, "source": "wire"}])
    config = load_config(overrides={"canonical.source_priority": ["wire", "blog"]})
    run(tmp_path / "feed", tmp_path / "out", config)
    clusters = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    assert clusters["canonical_doc_id"].to_list() == ["b"]
    assert clusters["canonical_reason"].to_list() == ["preferred source (wire)"]


def test_reports_are_written_with_documented_columns(variants_run: tuple[pl.DataFrame, Path]) -> None:
    from dedup.schema import (
        CLUSTERS_SCHEMA,
        DOCUMENTS_SCHEMA,
        REJECTED_SCHEMA,
        VARIANTS_SCHEMA,
    )

    _, out = variants_run
    docs_md = (Path(__file__).parent.parent / "docs" / "reports.md").read_text(encoding="utf-8")
    for name, schema in [("documents", DOCUMENTS_SCHEMA), ("clusters", CLUSTERS_SCHEMA), ("variants", VARIANTS_SCHEMA), ("rejected", REJECTED_SCHEMA)]:
        frame = pl.read_parquet(out / f"{name}.parquet")
        assert frame.schema == pl.Schema(schema)
        for column in schema:
            assert f"`{column}`" in docs_md, f"{name}.{column} is not documented"
    info = json.loads((out / "run.json").read_text())
    assert info["counts"]["inputs"] == info["counts"]["documents"] + info["counts"]["rejected"] == 43
    pairs = info["counts"]["candidate_pairs"]
    assert set(pairs) == {"near_copy", "paraphrase", "paraphrase_scored"} and pairs["near_copy"] > 0 and 0 < pairs["paraphrase_scored"] <= pairs["paraphrase"]
    assert set(info["timings_seconds"]) >= {"ingest", "sketch", "near_copy", "paraphrase", "cluster", "diff", "total"}
    assert info["config"]["near_copy"]["threshold"] == 0.5
    assert info["versions"]["datasketch"].startswith("2.")


def test_same_input_same_clusters_and_canonicals(variants_run: tuple[pl.DataFrame, Path], tmp_path: Path) -> None:
    documents, out = variants_run
    feed = Path(json.loads((out / "run.json").read_text())["feed_dir"])
    parallel = load_config(overrides={"runtime.workers": 2, "runtime.chunk_docs": 7})
    again = run(feed, tmp_path / "out", parallel)
    assert clusters_of(again) == clusters_of(documents)
    assert again.equals(documents)  # scores too, whatever the chunks and workers
    canonicals = pl.read_parquet(out / "clusters.parquet").select("cluster_id", "canonical_doc_id")
    assert pl.read_parquet(tmp_path / "out" / "clusters.parquet").select("cluster_id", "canonical_doc_id").equals(canonicals)


def test_the_sketch_pass_cuts_few_spilled_chunks_into_parts_for_every_worker() -> None:
    from dedup.stages.ingest import _spill_parts

    five = [(Path(f"chunk{k}"), 2000) for k in range(5)]
    assert [(t.path.name, t.part, t.parts) for t in _spill_parts(five, 2)][:5] == [("chunk0", p, 4) for p in range(4)] + [("chunk1", 0, 4)]
    assert len(_spill_parts(five, 2)) == 20
    assert [(t.part, t.parts) for t in _spill_parts([(Path("tiny"), 5)], 2)] == [(0, 1)]  # too few documents to share out
    assert {t.parts for t in _spill_parts([(Path(f"c{k}"), 2000) for k in range(50)], 2)} == {1}
