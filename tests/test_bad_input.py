"""Bad input: every input is a document or a rejection with a reason; nothing is lost."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from corpus import run, wikiref, write_jsonl
from typer.testing import CliRunner

from dedup.cli import EXIT_STRICT, EXIT_USAGE, app
from dedup.config import IngestConfig
from dedup.readers.files import read_file
from dedup.records import Article, Rejection

BAD_FEED = Path(__file__).parent / "fixtures" / "bad_feed"
GOOD_IDS = {"good_article.txt", "g2", "g3"}
REJECTED = {
    ("binary.txt", None): "binary file",
    ("empty.txt", None): "empty file",
    ("entity_bomb.xml", None): "unsafe XML refused",
    ("error_page.json", None): "holds HTML or XML",
    ("feed.jsonl", 2): "malformed JSON",
    ("feed.jsonl", 3): "JSON line is a list",
    ("feed.jsonl", 4): "record has no text field",
    ("feed.jsonl", 5): "record text is empty",
    ("invalid_utf8.jsonl", 1): "invalid UTF-8",
    ("malformed.rss", 4): "malformed XML",
    ("nested/truncated.json.gz", None): "cannot read",
    ("not_a_feed.xml", None): "neither an RSS 2.0",
    ("not_an_article.json", None): "JSON holds a number",
    ("only_boilerplate.txt", None): "no words left after boilerplate removal",
    ("report.pdf", None): "unknown extension '.pdf'",
    ("strings.json", 1): "array item is a string",
    ("strings.json", 2): "array item is a string",
    ("broken-link.txt", None): "broken symlink",
}


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    copy = tmp_path / "feed"
    shutil.copytree(BAD_FEED, copy)
    (copy / "broken-link.txt").symlink_to(tmp_path / "nowhere.txt")
    return copy


def _run(feed: Path, out: Path, *extra: str) -> tuple[int, pl.DataFrame, pl.DataFrame, dict]:
    result = CliRunner().invoke(app, ["run", str(feed), "--out", str(out), *extra])
    documents = pl.read_parquet(out / "documents.parquet")
    rejected = pl.read_parquet(out / "rejected.parquet")
    return result.exit_code, documents, rejected, json.loads((out / "run.json").read_text())


def test_every_junk_input_is_rejected_with_its_reason_and_good_ones_cluster(feed: Path, tmp_path: Path) -> None:
    code, documents, rejected, info = _run(feed, tmp_path / "out")
    assert code == 0
    assert set(documents["doc_id"]) == GOOD_IDS
    found = {(row["path"], row["record"]): row["reason"] for row in rejected.iter_rows(named=True)}
    assert set(found) == set(REJECTED)
    for key, reason in REJECTED.items():
        assert reason in found[key], (key, found[key])
    counts = info["counts"]
    assert counts["inputs"] == counts["documents"] + counts["rejected"] == len(GOOD_IDS) + len(REJECTED)
    # the good articles cluster exactly as they do without the junk
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(feed / "good_article.txt", clean)
    (clean / "feed.jsonl").write_text("".join(line + "\n" for line in (feed / "feed.jsonl").read_text().splitlines() if '"g' in line))
    _, alone, _, _ = _run(clean, tmp_path / "clean-out")
    assert documents.sort("doc_id").select("doc_id", "cluster_id", "is_canonical").equals(alone.sort("doc_id").select("doc_id", "cluster_id", "is_canonical"))


def test_strict_fails_the_run_but_still_writes_the_reports(feed: Path, tmp_path: Path) -> None:
    code, documents, rejected, _ = _run(feed, tmp_path / "out", "--strict")
    assert code == EXIT_STRICT
    assert documents.height == len(GOOD_IDS) and rejected.height == len(REJECTED)


def test_an_unreadable_file_is_rejected_with_its_path_and_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.readers.base

    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "readable.txt").write_text("A story anybody may read.\n\nThe council met on Monday.")
    locked = feed / "locked.txt"
    locked.write_text("A story nobody may read.")
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads a file whatever its mode: ingest's open refuses it as the kernel refuses anyone else

        def refusing_open(file: object, *args: object, **kwargs: object):
            if os.fspath(file) == os.fspath(locked):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
            return open(file, *args, **kwargs)

        monkeypatch.setattr(dedup.readers.base, "open", refusing_open, raising=False)
    code, documents, rejected, info = _run(feed, tmp_path / "out")
    assert code == 0
    assert rejected.rows() == [("locked.txt", None, "cannot read: Permission denied")]
    assert documents["doc_id"].to_list() == ["readable.txt"] and info["counts"]["inputs"] == 2


def test_large_files_are_streamed_and_oversized_parts_rejected(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    story = "The harbour authority reported record cargo volumes for the third quarter running. "
    with gzip.open(feed / "dump.jsonl.gz", "wt") as fh:
        for n in range(300):
            fh.write(json.dumps({"id": f"n{n}", "text": f"{story} Item {n}: {n * 7919 % 104729} tonnes."}) + "\n")
        fh.write(json.dumps({"id": "huge-line", "text": "x " * 4_000}) + "\n")
        fh.write(json.dumps({"id": "long-doc", "text": story * 40}) + "\n")
    # the limits scaled down with the file: chunks of 64 records, so the file spans several
    settings_ = ["--set", "ingest.max_line_bytes=5000", "--set", "ingest.max_doc_chars=1000", "--set", "runtime.chunk_docs=64"]
    code, documents, rejected, _ = _run(feed, tmp_path / "out", *settings_)
    assert code == 0
    assert documents.height == 301
    assert rejected.rows() == [("dump.jsonl.gz", 301, "line longer than ingest.max_line_bytes (5000 bytes)")]
    long_doc = documents.filter(pl.col("doc_id") == "long-doc").row(0, named=True)
    assert long_doc["flags"] == ["truncated_input"] and long_doc["words"] < 200  # 40 sentences of 13 words, cut to 1000 characters


def test_run_errors_exit_before_any_work_with_one_line(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["run", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert missing.exit_code == EXIT_USAGE
    assert missing.output.strip() == f"error: feed directory not found: {tmp_path / 'nope'}"
    (tmp_path / "feed").mkdir()
    (tmp_path / "blocker").write_text("a file where the report directory should be")
    unwritable = CliRunner().invoke(app, ["run", str(tmp_path / "feed"), "--out", str(tmp_path / "blocker" / "out")])
    assert unwritable.exit_code == EXIT_USAGE
    assert "report directory" in unwritable.output and "not writable" in unwritable.output


SUFFIXES = [".jsonl", ".json", ".txt", ".md", ".html", ".xml", ".rss", ".atom", ".jsonl.gz"]
fuzz = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _items(path: Path, root: Path) -> list[Article | Rejection]:
    items = list(read_file(path, root, IngestConfig(), datetime.now(timezone.utc)))
    for item in items:
        assert isinstance(item, (Article, Rejection))
        assert item.path == path.name
        if isinstance(item, Rejection):
            assert item.reason
        else:
            assert item.text.strip() and item.doc_id
    return items


@fuzz
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_break_ingest(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    items = _items(path, tmp_path)
    if suffix.startswith(".jsonl"):
        lines = [line for line in data.split(b"\n") if line.strip()]
        assert len(items) == max(1, len(lines))  # one item per line; a file without lines is rejected whole
    else:
        assert items  # a file is never silently ignored


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["id", "text", "title", "url", "published", "x"]), children, max_size=5),
    max_leaves=12,
)


@fuzz
@given(values=st.lists(json_values, max_size=12))
def test_random_json_lines_give_one_item_each(tmp_path: Path, values: list) -> None:
    path = tmp_path / "random.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    items = _items(path, tmp_path)
    if not values:
        assert [(i.record, i.reason) for i in items] == [(None, "empty file")]
        return
    assert len(items) == len(values)
    assert [i.record for i in items] == list(range(1, len(values) + 1))


@fuzz
@given(value=json_values)
def test_random_json_files_give_documents_or_reasons(tmp_path: Path, value: object) -> None:
    path = tmp_path / "random.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    items = _items(path, tmp_path)
    expected = len(value) if isinstance(value, list) and value else 1
    assert len(items) == expected


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(json_values, min_size=1, max_size=10))
def test_the_run_accounts_for_every_record(tmp_path_factory: pytest.TempPathFactory, values: list) -> None:
    feed = tmp_path_factory.mktemp("feed")
    (feed / "a.jsonl").write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    code, documents, rejected, info = _run(feed, out)
    assert code == 0
    assert documents.height + rejected.height == len(values) == info["counts"]["inputs"]


def test_each_file_is_read_once_so_a_run_cannot_mix_two_versions_of_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.readers.files

    texts = [text for _, text in sorted(wikiref().items())[:3]]
    write_jsonl(tmp_path / "feed" / "a.jsonl", [{"id": "a1", "text": texts[0]}, {"id": "a2", "text": texts[1]}])
    write_jsonl(tmp_path / "feed" / "b.jsonl", [{"id": "b1", "text": texts[2]}])
    readings: list[str] = []

    def growing(path: Path, feed_dir: Path, config: IngestConfig, now: datetime):  # a.jsonl gains a record once it has been read
        yield from read_file(path, feed_dir, config, now)
        readings.append(path.name)
        if path.name == "a.jsonl":
            write_jsonl(path, [{"id": "a1", "text": texts[0]}, {"id": "a2", "text": texts[1]}, {"id": "a3", "text": texts[2]}])

    monkeypatch.setattr(dedup.readers.files, "read_file", growing)  # what read_part calls for a whole file
    documents = run(tmp_path / "feed", tmp_path / "out")
    assert sorted(readings) == ["a.jsonl", "b.jsonl"]
    assert documents["doc_id"].to_list() == ["a1", "a2", "b1"]  # the records as read, texts included
    assert pl.read_parquet(tmp_path / "out" / "rejected.parquet").height == 0
