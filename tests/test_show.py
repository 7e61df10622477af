"""`dedup show`: stories ranked, one story with its canonical, members and diffs, at 80 columns, and as JSON.

Two reports: the seeds' (five rewrites of one story, run once for the module),
and a small one written by hand whose diffs have another schema (aligned
sentence pairs with the facts each adds or drops, in diffs.parquet) than
today's variants.parquet: show reads whatever diff columns there are.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from corpus import SEEDS, run
from rich.console import Console
from typer.testing import CliRunner

from dedup.cli import EXIT_USAGE, app
from dedup.show import show_report
from dedup.reports.views import ReportError

WIDTH = 80


@pytest.fixture(scope="module")
def seeds_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeds") / "reports"
    run(SEEDS, out)
    return out


def _shown(report: Path, **options: object) -> str:
    """What ``dedup show`` prints on an 80-column terminal; checks that no line is wider."""
    buffer = io.StringIO()
    show_report(report, Console(file=buffer, width=WIDTH, color_system=None), **options)  # type: ignore[arg-type]
    text = buffer.getvalue()
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert options.get("as_json") or not too_wide, too_wide  # JSON is for scripts: its lines are as long as its strings
    return text


def _documents(report: Path) -> pl.DataFrame:
    return pl.read_parquet(report / "documents.parquet")


def test_the_list_ranks_the_seeds_story_with_its_size(seeds_report: Path) -> None:
    [story] = _documents(seeds_report)["cluster_id"].unique().to_list()
    text = _shown(seeds_report)
    assert "5 documents in 1 story in 1 event" in " ".join(text.split())  # however the report's path makes it wrap
    assert story in text
    listed = json.loads(_shown(seeds_report, as_json=True))
    assert [s["cluster_id"] for s in listed["stories"]] == [story] and listed["stories"][0]["size"] == 5
    assert listed["summary"]["documents"] == 5 and listed["summary"]["events"] == 1


def test_one_story_shows_its_canonical_members_scores_and_changes(seeds_report: Path) -> None:
    documents = _documents(seeds_report)
    canonical = documents.filter(pl.col("is_canonical")).row(0, named=True)
    text = _shown(seeds_report, story=canonical["cluster_id"])
    assert "Canonical" in text and canonical["doc_id"] in text
    reason = pl.read_parquet(seeds_report / "clusters.parquet")["canonical_reason"][0]
    assert " ".join(reason.split()[:3]) in " ".join(text.split())  # the reason, however it wraps
    for doc_id in documents["doc_id"]:
        assert doc_id in text
    assert text.count("paraphrase") >= 4  # the four rewrites' match kind, in the table and over their diffs
    variants = pl.read_parquet(seeds_report / "variants.parquet")
    first = variants.row(0, named=True)
    assert f"{first['doc_id']} (paraphrase): " in text


def test_json_gives_the_story_whole(seeds_report: Path) -> None:
    documents = _documents(seeds_report)
    story = documents["cluster_id"][0]
    detail = json.loads(_shown(seeds_report, story=story, as_json=True))["story"]
    assert detail["cluster_id"] == story and detail["members_total"] == 5
    members = detail["members"]
    assert members[0]["match"] == "canonical" and members[0]["diff"] is None  # the canonical first
    assert sorted(m["doc_id"] for m in members) == sorted(documents["doc_id"].to_list())
    variants = pl.read_parquet(seeds_report / "variants.parquet")
    for member in members[1:]:
        row = variants.filter(pl.col("doc_id") == member["doc_id"]).row(0, named=True)
        for name, value in member["diff"].items():
            assert value == row[name]  # every diff field, whole


def test_limit_bounds_a_story_s_members(seeds_report: Path) -> None:
    story = _documents(seeds_report)["cluster_id"][0]
    assert "2 of 5 members shown" in _shown(seeds_report, story=story, limit=2)
    detail = json.loads(_shown(seeds_report, story=story, limit=2, as_json=True))["story"]
    assert len(detail["members"]) == 2 and detail["members_total"] == 5 and detail["members"][0]["match"] == "canonical"


def test_a_search_in_titles_finds_the_story(seeds_report: Path) -> None:
    story = _documents(seeds_report)["cluster_id"][0]
    assert f"Story {story}" in _shown(seeds_report, words="scale AI")
    missing = _shown(seeds_report, words="volcano eruption")
    assert "0 stories with 'volcano eruption' in a title" in missing


def hand_report(out: Path, title: str) -> None:
    """A two-story report whose diffs hold aligned sentences and facts (another diff schema), in diffs.parquet."""
    when = datetime(2025, 6, 13, 9, tzinfo=timezone.utc)
    documents = pl.DataFrame(
        {
            "doc_id": ["wire-1", "copy-2", "other-3"], "cluster_id": ["c1", "c1", "c2"], "event_id": ["e1", "e1", "e2"],
            "group_id": ["wire-1", "copy-2", "other-3"], "is_canonical": [True, False, True], "match": ["canonical", "paraphrase", "canonical"],
            "jaccard": [1.0, 0.2, 1.0], "containment": [1.0, 0.3, 1.0], "paraphrase_score": [1.0, 0.6, 1.0],
            "title": [title, "Meta buys into Scale AI", "Storm hits coast"], "source": ["Wire", "Daily", None],
            "url": [None, None, None], "published": [when, when, None], "path": ["a.jsonl", "a.jsonl", "b.txt"], "record": [1, 2, None],
            "words": [300, 250, 40],
        }  # fmt: skip
    )
    clusters = pl.DataFrame(
        {
            "cluster_id": ["c1", "c2"], "event_id": ["e1", "e2"], "canonical_doc_id": ["wire-1", "other-3"],
            "canonical_reason": ["representative: its facts are the most covered by the story's other members", "only member"],
            "size": [2, 1], "near_copy_groups": [2, 1], "sources": [["Daily", "Wire"], []], "first_published": [when, None],
            "last_published": [when, None], "title": [title, "Storm hits coast"],
        }  # fmt: skip
    )
    pair = pl.Struct({"canonical": pl.String, "variant": pl.String, "edited": pl.Boolean, "facts_added": pl.List(pl.String), "facts_dropped": pl.List(pl.String)})
    diffs = pl.DataFrame(
        {
            "doc_id": ["copy-2"], "cluster_id": ["c1"], "canonical_doc_id": ["wire-1"], "match": ["paraphrase"], "summary": ["same story; adds $29 billion"],
            "aligned": [[{"canonical": "Meta invests $14.3 billion in Scale AI.", "variant": "Meta puts $14.3 billion into Scale AI, valued at $29 billion.",
                          "edited": False, "facts_added": ["$29 billion"], "facts_dropped": []}]],
            "sentences_dropped": [["Wang leaves for Meta."]],
        },  # fmt: skip
        schema={
            "doc_id": pl.String, "cluster_id": pl.String, "canonical_doc_id": pl.String, "match": pl.String, "summary": pl.String,
            "aligned": pl.List(pair), "sentences_dropped": pl.List(pl.String),
        },  # fmt: skip
    )
    out.mkdir(parents=True)
    documents.write_parquet(out / "documents.parquet")
    clusters.write_parquet(out / "clusters.parquet")
    diffs.write_parquet(out / "diffs.parquet")


def test_another_diff_schema_is_shown_by_its_own_fields_and_markup_in_titles_stays_text(tmp_path: Path) -> None:
    title = "[bold]Scale AI[/bold] chief leaves for Meta as the company takes a 49% stake worth $14.3 billion in the data-labelling start-up"
    hand_report(tmp_path / "r", title)
    text = _shown(tmp_path / "r", story="c1")
    assert "[bold]Scale" in text  # rich markup in a title is shown, not applied
    assert "· summary: same story; adds $29 billion" in text
    assert "edited" not in text  # a false flag says nothing
    assert "1 aligned, 1 sentences dropped" in text
    assert "- Meta invests $14.3 billion in Scale AI." in text
    assert "+ Meta puts $14.3 billion into Scale AI, valued at $29 billion." in text
    assert "· facts added: $29 billion" in text
    assert "- Wang leaves for Meta." in text
    assert "representative" in text
    ranked = json.loads(_shown(tmp_path / "r", as_json=True))["stories"]
    assert [s["cluster_id"] for s in ranked] == ["c1", "c2"]  # by size
    recent = json.loads(_shown(tmp_path / "r", as_json=True, order="recent", limit=1))
    assert [s["cluster_id"] for s in recent["stories"]] == ["c1"] and recent["matching"] == 2  # the dated story first; undated last


def _one_line_error(*args: str) -> str:
    result = CliRunner().invoke(app, ["show", *args])
    assert result.exit_code == EXIT_USAGE, result.output
    [line] = result.output.strip().splitlines()
    return line


def test_a_bad_report_directory_or_story_exits_2_with_one_line(tmp_path: Path, seeds_report: Path) -> None:
    assert _one_line_error(str(tmp_path / "nowhere")) == f"error: report directory not found: {tmp_path / 'nowhere'}"
    assert _one_line_error(str(tmp_path)).startswith(f"error: {tmp_path} is not a report directory")
    (tmp_path / "clusters.parquet").write_text("not parquet")
    (tmp_path / "documents.parquet").write_text("not parquet")
    assert _one_line_error(str(tmp_path)).startswith(f"error: {tmp_path / 'documents.parquet'}: cannot read: ")
    assert _one_line_error(str(seeds_report), "--story", "nope") == f"error: --story nope: no such story in {seeds_report} (`dedup show {seeds_report}` lists them)"
    assert _one_line_error(str(seeds_report), "--sort", "alphabetical") == "error: --sort alphabetical: expected one of size, recent"
    with pytest.raises(ReportError):
        show_report(tmp_path / "nowhere", Console(file=io.StringIO()))


def test_the_command_prints_json_for_scripts(seeds_report: Path) -> None:
    result = CliRunner().invoke(app, ["show", str(seeds_report), "--json", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["stories"]) == 1
