"""The window a run matches: documents named by rank, keyed by doc_key, each finding its own sketch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xxhash
from corpus import wikiref, write_jsonl
from typer.testing import CliRunner

import dedup.store.window as window_module
from dedup.cli import EXIT_USAGE, app
from dedup.config import load_config
from dedup.engine import make_engine
from dedup.progress import SILENT, Timings
from dedup.readers.files import list_feed_files
from dedup.stages.ingest import prepare
from dedup.store.state import State, utc_now
from dedup.store.window import assemble, doc_keys


def test_a_doc_key_is_the_xxh3_64_of_the_id_on_every_machine() -> None:
    ids = ["wire/1", "seeds/000_57c84e14371acddd.txt", "日本語/記事", ""]
    assert doc_keys(pl.Series(ids)).to_list() == [xxhash.xxh3_64_intdigest(i.encode()) for i in ids]


def test_the_window_is_sorted_by_rank_and_each_document_finds_its_own_sketch(tmp_path: Path) -> None:
    # published dates in the reverse of the file order: preference (earliest first) reorders the documents
    articles = sorted(wikiref().items())[:12]
    records = [{"id": doc_id, "text": text, "published": f"2014-03-{28 - k:02d}T08:00:00Z"} for k, (doc_id, text) in enumerate(articles)]
    write_jsonl(tmp_path / "feed" / "a.jsonl", records)
    config = load_config()
    new, prepared, _ = prepare(
        list_feed_files(tmp_path / "feed"), tmp_path / "feed", set(), Counter(), config, make_engine(config.runtime), SILENT, Timings(), tmp_path, 1, utc_now(), durable=False
    )
    no_old = State().documents.drop("segment").with_columns(pl.lit(None, pl.Int64).alias("segment_index"))
    window = assemble(no_old, [], new, prepared.segment, prepared.rows, reuse=False, config=config.canonical)
    documents = window.documents
    assert documents["rank"].to_list() == list(range(len(records)))
    assert documents["doc_id"].to_list() == [doc_id for doc_id, _ in reversed(articles)]
    assert documents["segment_row"].to_list() != sorted(documents["segment_row"].to_list())
    assert np.array_equal(window.array("words"), documents["words"].to_numpy())  # each rank's sketch is its own
    assert window.ranks_of(doc_keys(pl.Series([articles[0][0], "not/in/the/window"]))).tolist() == [len(records) - 1, -1]


def test_two_ids_of_one_doc_key_stop_the_run_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text_a, text_b = [text for _, text in sorted(wikiref().items())[:2]]
    write_jsonl(tmp_path / "feed" / "a.jsonl", [{"id": "a", "text": text_a}, {"id": "b", "text": text_b}])
    monkeypatch.setattr(window_module, "doc_keys", lambda ids: pl.Series("doc_key", [7] * len(ids), dtype=pl.UInt64))
    result = CliRunner().invoke(app, ["run", str(tmp_path / "feed"), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == EXIT_USAGE
    assert "'a' and 'b' have the same doc_key" in result.output and "Traceback" not in result.output
