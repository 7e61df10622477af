"""Hardening (issue #19): one bad record never crashes a run nor takes its
neighbours down; the ingest limits bound what a hostile file can cost."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dedup.readers.jsonl
import dedup.pipeline
from dedup.cli import app
from dedup.config import IngestConfig
from dedup.readers.base import parse_published
from dedup.readers.files import read_file
from dedup.readers.jsonl import _Lines
from dedup.records import Article, Rejection

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
NOW = datetime(2024, 3, 10, tzinfo=timezone.utc)
MARCH_5 = datetime(2024, 3, 5, 12, 30, tzinfo=timezone.utc)
STORY = "The harbour authority reported record cargo volumes for the third quarter running."
TOO_LONG = "JSON number too long to read (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)"


def _run(feed: Path, out: Path, *extra: str) -> tuple[int, pl.DataFrame, pl.DataFrame, dict]:
    result = CliRunner().invoke(app, ["run", str(feed), "--out", str(out), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    documents = pl.read_parquet(out / "documents.parquet")
    rejected = pl.read_parquet(out / "rejected.parquet")
    return result.exit_code, documents, rejected, json.loads((out / "run.json").read_text())


def _rows(frame: pl.DataFrame, *columns: str) -> set[tuple]:
    return {tuple(row) for row in frame.select(*columns).iter_rows()}


def _jsonl(path: Path, records: list[dict | str]) -> None:
    """One line a record; a string is written as it is (a blank line, bad JSON)."""
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())


def test_hostile_records_are_rejected_or_flagged_one_by_one_and_the_run_succeeds(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    shutil.copytree(HOSTILE, feed)
    (feed / os.fsdecode(b"caf\xff\xfe.txt")).write_text("Cafe wins award\nThe harbour cafe won a regional prize for its chowder.\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "story.txt").write_text("A story outside the feed, behind a directory symlink.\n")
    (feed / "linked").symlink_to(outside, target_is_directory=True)
    os.mkfifo(feed / "pipe.jsonl")  # opened, it would wait for a writer forever
    state = tmp_path / "state"

    code, documents, rejected, info = _run(feed, tmp_path / "out", "--state", str(state))

    assert code == 0
    unparsed = ["unparsed_date"]
    assert _rows(documents, "doc_id", "path", "record", "published") == {
        ("ok-1", "records.jsonl", 1, MARCH_5),
        ("bigint-date", "records.jsonl", 2, None),  # 400 digits: once an OverflowError
        ("date-9999", "records.jsonl", 3, None),  # past the year 9999 in UTC
        ("date-0001", "records.jsonl", 4, None),  # before the year 1 in UTC
        ("surrogate-\ufffd", "records.jsonl", 5, None),
        ("p1", "parsers.jsonl.gz", 1, None),
        ("p3", "parsers.jsonl.gz", 3, None),  # read on after the lines json.loads could not
        ("p5", "parsers.jsonl.gz", 5, None),
        ("caf\\xff\\xfe.txt", "caf\\xff\\xfe.txt", None, None),
    }
    flags = dict(zip(documents["doc_id"], documents["flags"].to_list()))
    assert [doc for doc, flag in sorted(flags.items()) if flag] == ["bigint-date", "date-0001", "date-9999"]
    assert all(flags[doc] == unparsed for doc in ("bigint-date", "date-0001", "date-9999"))
    assert documents.filter(pl.col("doc_id") == "surrogate-\ufffd")["title"].to_list() == ["Lone \ufffd surrogate"]
    assert _rows(rejected, "path", "record", "reason") == {
        ("deep.json.gz", None, "JSON nested too deeply to read"),
        ("linked", None, "directory symlink not followed"),
        ("long_number.json", None, TOO_LONG),
        ("parsers.jsonl.gz", 2, "JSON nested too deeply to read"),
        ("parsers.jsonl.gz", 4, TOO_LONG),
        ("pipe.jsonl", None, "not a regular file (a FIFO, socket or device)"),
    }
    counts = info["counts"]
    assert counts["inputs"] == counts["documents"] + counts["rejected"] == 9 + 6

    # the state knows every file by the name the reports use: nothing is new the next time
    code, again, rejected_again, info = _run(feed, tmp_path / "out2", "--state", str(state))
    assert code == 0 and info["counts"]["files_read"] == 0
    assert _rows(again, "doc_id", "path") == _rows(documents, "doc_id", "path")
    assert rejected_again.equals(rejected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1900-01-01T00:00:00Z", datetime(1900, 1, 1, tzinfo=timezone.utc)),
        ("1899-12-31T23:59:59Z", None),
        ("2024-03-11T00:00:00Z", NOW + timedelta(days=1)),  # a day ahead of the clock: time zones, clocks a little fast
        ("2024-03-11T00:00:01Z", None),
        ("Mon, 01 Jan 2024 00:00:00 +0000", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("Fri, 31 Dec 9999 23:59:59 -0500", None),
        ("9999-12-31T23:59:59-05:00", None),
        ("0001-01-01T00:00:00+05:00", None),
        (1709641800, MARCH_5),  # seconds: a plausible date
        (1709641800000, MARCH_5),  # as seconds the year 56,000-odd; as milliseconds plausible
        (1709641800.5, MARCH_5 + timedelta(seconds=0.5)),
        (31_536_000, datetime(1971, 1, 1, tzinfo=timezone.utc)),  # plausible both ways: seconds win
        (50_000_000_000, datetime(1971, 8, 2, 16, 53, 20, tzinfo=timezone.utc)),  # once read as seconds: the year 3554
        (-2_208_988_800, datetime(1900, 1, 1, tzinfo=timezone.utc)),
        (-2_208_988_801_000, None),  # before 1900 either way
        (10**16, None),
        (10**399, None),
        (float("inf"), None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_dates_out_of_the_plausible_range_are_not_read(value: object, expected: datetime | None) -> None:
    assert parse_published(value, NOW) == expected


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=40) | st.integers() | st.floats() | st.datetimes(timezones=st.timezones()).map(datetime.isoformat))
def test_any_value_parses_to_a_plausible_date_or_none(value: object) -> None:
    parsed = parse_published(value, NOW)
    assert parsed is None or (parsed.utcoffset() == timedelta(0) and datetime(1900, 1, 1, tzinfo=timezone.utc) <= parsed <= NOW + timedelta(days=1))


def test_a_date_after_the_runs_clock_is_null_and_flagged_so_it_cannot_expire_the_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedup.pipeline, "utc_now", lambda: NOW)  # the run's clock; the parser must use it, not its own
    feed, state = tmp_path / "feed", tmp_path / "state"
    feed.mkdir()
    _jsonl(feed / "a.jsonl", [{"id": "old", "text": STORY, "published": (NOW - timedelta(days=2)).isoformat()}])
    assert _run(feed, tmp_path / "out1", "--state", str(state))[0] == 0
    _jsonl(feed / "b.jsonl", [
        {"id": "future", "text": "Ferry crews returned to work after a two-day strike.", "published": (NOW + timedelta(days=30)).isoformat()},
        {"id": "ancient", "text": "The city library will stay open until ten on weekdays.", "published": "1850-06-01T00:00:00Z"},
        {"id": "today", "text": "Wheat futures rose for a fifth day as dry weather hit the plains.", "published": (NOW + timedelta(hours=3)).isoformat()},
    ])  # fmt: skip
    code, documents, _, _ = _run(feed, tmp_path / "out2", "--state", str(state))
    assert code == 0
    assert _rows(documents, "doc_id", "published") == {
        ("old", NOW - timedelta(days=2)),  # still in the 7-day window: the future date did not set its end
        ("future", None),
        ("ancient", None),
        ("today", NOW + timedelta(hours=3)),
    }
    flagged = {doc for doc, flags in zip(documents["doc_id"], documents["flags"].to_list()) if flags == ["unparsed_date"]}
    assert flagged == {"future", "ancient"}


def test_a_jsonl_file_past_max_lines_keeps_its_earlier_records(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    _jsonl(feed / "a.jsonl", [{"id": f"a{n}", "text": f"{STORY} Item {n}."} for n in (1, 2)] + [""] + [{"id": f"a{n}", "text": f"{STORY} Item {n}."} for n in (4, 5, 6)])
    code, documents, rejected, info = _run(feed, tmp_path / "out", "--set", "ingest.max_lines=4")
    assert code == 0
    assert _rows(documents, "doc_id", "record") == {("a1", 1), ("a2", 2), ("a4", 4)}
    assert rejected.rows() == [("a.jsonl", 5, "stopped after line 4: file longer than ingest.max_lines (4 lines); the rest is not read")]
    assert info["counts"]["inputs"] == 4


def test_gzip_files_are_decompressed_no_further_than_max_decompressed_bytes(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    records = [{"id": f"z{n}", "text": f"{STORY} Item {n}."} for n in range(1, 9)]
    _jsonl(feed / "zipped.jsonl.gz", records)
    _jsonl(feed / "plain.jsonl", [{**r, "id": f"plain-{r['id']}"} for r in records])  # not compressed: streamed at any size
    (feed / "array.json.gz").write_bytes(gzip.compress(json.dumps(records).encode()))
    line = len(json.dumps(records[0])) + 1
    limit = 5 * line + 10  # in the middle of line 6
    code, documents, rejected, _ = _run(feed, tmp_path / "out", "--set", f"ingest.max_decompressed_bytes={limit}")
    assert code == 0
    assert sorted(documents.filter(pl.col("path") == "zipped.jsonl.gz")["record"]) == [1, 2, 3, 4, 5]
    assert documents.filter(pl.col("path") == "plain.jsonl").height == 8
    assert _rows(rejected, "path", "record", "reason") == {
        ("zipped.jsonl.gz", 6, f"stopped after line 5: file larger than ingest.max_decompressed_bytes ({limit} bytes, decompressed); the rest is not read"),
        ("array.json.gz", None, f"file larger than ingest.max_decompressed_bytes ({limit} bytes, decompressed)"),
    }


def test_a_gzip_cut_short_keeps_the_lines_before_and_names_the_line_it_breaks_in(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    records = [{"id": f"z{n}", "text": f"{STORY} Item {n}. " + " ".join(f"w{n * k % 9973}" for k in range(100))} for n in range(1, 41)]
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    (feed / "cut.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])  # a download or copy stopped two thirds in
    with mock.patch.object(dedup.readers.jsonl, "_BLOCK", 4096):  # small blocks: the file spans several, as a large one spans megabyte blocks
        code, documents, rejected, _ = _run(feed, tmp_path / "out", "--no-paraphrase")
    assert code == 0
    kept = sorted(documents["record"])
    assert kept == list(range(1, len(kept) + 1)) and 1 <= len(kept) < len(records)
    [(path, record, reason)] = rejected.select("path", "record", "reason").iter_rows()
    assert path == "cut.jsonl.gz" and record == len(kept) + 1
    assert reason.startswith(f"compressed data ends or breaks in line {len(kept) + 1}")


def test_a_gzip_bomb_of_a_few_megabytes_is_rejected_after_the_limit(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    zeros = gzip.compress(b"\0" * 10_000_000)  # about 10 KB each; gzip members may follow one another
    first = gzip.compress((json.dumps({"id": "before", "text": STORY}) + "\n").encode())
    (feed / "bomb.jsonl.gz").write_bytes(first + zeros * 300)  # 3 GB decompressed
    assert (feed / "bomb.jsonl.gz").stat().st_size < 5_000_000
    limit = 20_000_000
    code, documents, rejected, _ = _run(feed, tmp_path / "out", "--set", f"ingest.max_decompressed_bytes={limit}")
    assert code == 0
    assert documents["doc_id"].to_list() == ["before"]
    assert rejected.rows() == [
        ("bomb.jsonl.gz", 2, f"stopped after line 1: file larger than ingest.max_decompressed_bytes ({limit} bytes, decompressed); the rest is not read")
    ]


def test_html_larger_than_max_html_bytes_is_rejected_unread(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    page = "<html><head><title>{0}</title></head><body><article>{1}</article></body></html>"
    (feed / "small.html").write_text(page.format("Cranes", f"<p>{STORY}</p>"))
    (feed / "large.html").write_text(page.format("Everything", "".join(f"<p>{STORY} Paragraph {n}.</p>" for n in range(300))))
    assert (feed / "large.html").stat().st_size > 20_000
    code, documents, rejected, _ = _run(feed, tmp_path / "out", "--set", "ingest.max_html_bytes=20000")
    assert code == 0
    assert documents["doc_id"].to_list() == ["small.html"]
    assert rejected.rows() == [("large.html", None, "file larger than ingest.max_html_bytes (20000 bytes): not extracted (it takes seconds a megabyte)")]


def test_long_runs_of_blank_lines_keep_the_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "blanks.jsonl.gz"
    body = json.dumps({"text": STORY}).encode()
    path.write_bytes(gzip.compress(body + b"\n" + b"\n" * 3_000_000 + b"  \t\r\n" * 1000 + body + b"\n\n\n" + body))
    items = list(read_file(path, tmp_path, IngestConfig(), NOW))
    assert [(type(i), i.record) for i in items] == [(Article, 1), (Article, 3_001_002), (Article, 3_001_005)]
    assert [i.doc_id for i in items if isinstance(i, Article)] == ["blanks.jsonl.gz#1", "blanks.jsonl.gz#3001002", "blanks.jsonl.gz#3001005"]


def test_every_line_nested_up_to_past_the_recursion_limit_is_one_item(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    depths = range(1, 1100)
    path.write_text("".join('{"text": "story", "title": %s}\n' % ("[" * k + "]" * k) for k in depths))
    items = list(read_file(path, tmp_path, IngestConfig(), NOW))
    assert [i.record for i in items] == list(depths)
    rejected = [i.record for i in items if isinstance(i, Rejection)]
    assert rejected and rejected == list(range(rejected[0], depths[-1] + 1))  # the deepest, not their neighbours
    assert {i.reason for i in items if isinstance(i, Rejection)} == {"JSON nested too deeply to read"}


BLANK = b" \t\r\n\x0b\x0c"
pieces = st.sampled_from([b"\n", b"\n\n\n", b" ", b"\t\r\n", b"{}", b"x", b"abcdefgh", b"0123456789" * 3, b" y "])


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(pieces, max_size=40), block=st.integers(1, 12), limit=st.integers(1, 25), max_bytes=st.none() | st.integers(0, 200))
def test_lines_read_a_block_at_a_time_match_a_plain_split(chunks: list[bytes], block: int, limit: int, max_bytes: int | None) -> None:
    data = b"".join(chunks)
    cut = max_bytes is not None and len(data) > max_bytes
    kept = data[:max_bytes] if cut else data
    segments = kept.split(b"\n")
    if cut:
        segments = segments[:-1]  # the line the limit cuts short is not returned
    expected = [(n, s.lstrip(BLANK) if len(s.lstrip(BLANK)) <= limit else None) for n, s in enumerate(segments, start=1) if s.strip(BLANK)]
    with mock.patch.object(dedup.readers.jsonl, "_BLOCK", block):  # tiny blocks: lines and blank runs across block boundaries
        lines = _Lines(io.BufferedReader(io.BytesIO(data), buffer_size=block), limit, max_bytes)
        assert list(lines) == expected
    assert lines.cut == cut
    if cut:
        assert lines.number == kept.count(b"\n") + 1
