"""Ingest: every supported input format is read as a user's feed would hold it."""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from corpus import run, wikiref, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import load_config
from dedup.readers.files import file_parts, list_feed_files, read_file, read_part, unique_ids
from dedup.records import Article, Rejection

MARCH_5 = datetime(2024, 3, 5, 12, 30, tzinfo=timezone.utc)
CRANES = (
    "The port authority unveiled four electric cranes on Tuesday, doubling the number of containers the harbour can handle.",
    "Dock workers had campaigned for years for quieter equipment, and the cranes cut diesel use on the quay by ninety percent.",
    "Shipping lines welcomed the change, saying shorter waits at anchor would save fuel on every call at the port.",
)
HTML = f"""<!DOCTYPE html><html><head><title>Harbour cranes | Coast Daily</title>
<style>body {{ font-family: serif }} .STYLEMARK {{ color: red }}</style>
<script>var tracker = "SCRIPTMARK"; window.analytics = true;</script></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">NAVMARK World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article><h1>New cranes double harbour capacity</h1>{"".join(f"<p>{p}</p>" for p in CRANES)}</article>
</body></html>"""
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Coast Daily</title><link>https://coast.example/</link>
<item><title>Cranes arrive</title><link>https://coast.example/cranes</link><guid>coast-1</guid>
<pubDate>Tue, 05 Mar 2024 14:30:00 +0200</pubDate><description>&lt;p&gt;Four electric cranes reached the port.&lt;/p&gt;</description></item>
<item><title>Ferry strike ends</title><link>https://coast.example/ferry</link>
<pubDate>Wed, 06 Mar 2024 08:00:00 GMT</pubDate><description>Ferry crews returned to work after a two-day strike.</description></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Wire</title><id>urn:valley</id><updated>2024-03-06T00:00:00Z</updated>
<entry><id>urn:valley:1</id><title>Dam opens</title><link href="https://valley.example/dam"/>
<updated>2024-03-05T14:30:00+02:00</updated><summary>The new dam opened its spillway for the first time.</summary></entry>
<entry><id>urn:valley:2</id><title>Bridge closed</title><link href="https://valley.example/bridge"/>
<updated>2024-03-06T09:15:00Z</updated><content type="text">The old bridge closed for repairs until May.</content></entry>
</feed>"""


def read(path: Path, feed: Path) -> list[Article]:
    """Every item of one file, which must all be Articles."""
    items = list(read_file(path, feed, load_config().ingest, datetime.now(timezone.utc)))
    assert items and all(isinstance(i, Article) for i in items), items
    return items  # type: ignore[return-value]


def summary(article: Article) -> tuple:
    return (article.doc_id, article.record, article.title, article.text, article.url, article.source, article.published)


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_map_every_field_alias_onto_the_record(tmp_path: Path, suffix: str) -> None:
    lines = [
        {"id": "a1", "title": "T1", "text": "Body one.", "url": "https://x/1", "source": "S1", "published": "2024-03-05T12:30:00Z"},
        {"guid": "a2", "headline": "T2", "body": "Body two.", "link": "https://x/2", "site": "S2", "date": "2024-03-05T12:30:00Z"},
        None,  # a blank line still counts as a line
        {"headline": "T4", "content": "Body four.", "publisher": "S4", "pubDate": "Tue, 05 Mar 2024 12:30:00 GMT"},
        {"title": "T5", "article": "Body five.", "updated": 1709641800},
        {"title": "T6", "description": "Body six."},
        {"title": "T7", "summary": "Body seven."},
    ]
    path = tmp_path / f"wire{suffix}"
    path.write_text("".join(("" if r is None else json.dumps(r)) + "\n" for r in lines), encoding="utf-8")
    got = [summary(a) for a in read(path, tmp_path)]
    name = path.name
    assert got == [
        ("a1", 1, "T1", "Body one.", "https://x/1", "S1", MARCH_5),
        ("a2", 2, "T2", "Body two.", "https://x/2", "S2", MARCH_5),
        (f"{name}#4", 4, "T4", "Body four.", None, "S4", MARCH_5),
        (f"{name}#5", 5, "T5", "Body five.", None, None, MARCH_5),
        (f"{name}#6", 6, "T6", "Body six.", None, None, None),
        (f"{name}#7", 7, "T7", "Body seven.", None, None, None),
    ]


def test_json_file_holds_one_article_or_an_array_of_them(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps({"headline": "Solo", "body": "Just one story.", "link": "https://x/solo"}))
    (tmp_path / "many.json").write_text(json.dumps([{"id": "m1", "title": "First", "text": "Story one."}, {"title": "Second", "text": "Story two."}]))
    assert [summary(a) for a in read(tmp_path / "one.json", tmp_path)] == [("https://x/solo", None, "Solo", "Just one story.", "https://x/solo", None, None)]
    many = read(tmp_path / "many.json", tmp_path)
    assert [(a.doc_id, a.record, a.title, a.text) for a in many] == [("m1", 1, "First", "Story one."), ("many.json#2", 2, "Second", "Story two.")]


@pytest.mark.parametrize(("name", "content", "title"), [
    ("story.txt", "\n\n  Harbour reopens  \nShips returned to the harbour on Monday.\n", "Harbour reopens"),
    ("notes/story.md", "# Harbour reopens\n\nShips returned to the harbour on **Monday**.\n", "Harbour reopens"),
])
def test_text_files_take_the_first_non_empty_line_as_title(tmp_path: Path, name: str, content: str, title: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    [article] = read(path, tmp_path)
    assert (article.doc_id, article.record, article.title) == (name, None, title)
    assert "Ships returned to the harbour on" in article.text


def test_windows_1252_text_with_crlf_line_ends_decodes_to_unicode(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(b"\x93Caf\xe9 society\x94 returns\r\nThe caf\xe9 on the quay reopened, said the \x93new\x94 owner.\r\n")
    [article] = read(path, tmp_path)
    assert article.title == "\u201cCaf\u00e9 society\u201d returns"
    assert article.text == "\u201cCaf\u00e9 society\u201d returns\nThe caf\u00e9 on the quay reopened, said the \u201cnew\u201d owner.\n"


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_keeps_the_article_and_drops_scripts_styles_and_navigation(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"cranes{suffix}"
    path.write_text(HTML, encoding="utf-8")
    [article] = read(path, tmp_path)
    assert article.doc_id == path.name and article.title == "New cranes double harbour capacity"
    for paragraph in CRANES:
        assert paragraph in article.text
    for marker in ("SCRIPTMARK", "STYLEMARK", "NAVMARK", "analytics", "font-family"):
        assert marker not in article.text


@pytest.mark.parametrize("suffix", [".xml", ".rss"])
def test_rss_items_become_articles_keyed_by_guid_with_utc_dates(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"coast{suffix}"
    path.write_text(RSS, encoding="utf-8")
    assert [summary(a) for a in read(path, tmp_path)] == [
        ("coast-1", 1, "Cranes arrive", "Four electric cranes reached the port.", "https://coast.example/cranes", "Coast Daily", MARCH_5),
        ("https://coast.example/ferry", 2, "Ferry strike ends", "Ferry crews returned to work after a two-day strike.",
         "https://coast.example/ferry", "Coast Daily", datetime(2024, 3, 6, 8, 0, tzinfo=timezone.utc)),
    ]


def test_atom_entries_become_articles_keyed_by_id_with_updated_dates(tmp_path: Path) -> None:
    path = tmp_path / "valley.atom"
    path.write_text(ATOM, encoding="utf-8")
    assert [summary(a) for a in read(path, tmp_path)] == [
        ("urn:valley:1", 1, "Dam opens", "The new dam opened its spillway for the first time.", "https://valley.example/dam", "Valley Wire", MARCH_5),
        ("urn:valley:2", 2, "Bridge closed", "The old bridge closed for repairs until May.", "https://valley.example/bridge", "Valley Wire",
         datetime(2024, 3, 6, 9, 15, tzinfo=timezone.utc)),
    ]


def test_gzipped_files_read_like_their_plain_forms(tmp_path: Path) -> None:
    lines = b'{"id": "g1", "title": "Zipped", "text": "Compressed story.", "published": "2024-03-05T12:30:00Z"}\n\n{"title": "No id", "text": "Third line."}\n'
    story = "Quay news\nThe quay was resurfaced over the weekend.\n".encode()
    (tmp_path / "feed.jsonl").write_bytes(lines)
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "story.txt").write_bytes(story)
    (tmp_path / "story.txt.gz").write_bytes(gzip.compress(story))
    plain, zipped = read(tmp_path / "feed.jsonl", tmp_path), read(tmp_path / "feed.jsonl.gz", tmp_path)
    assert [summary(a)[1:] for a in zipped] == [summary(a)[1:] for a in plain] and len(zipped) == 2
    assert [a.doc_id for a in zipped] == ["g1", "feed.jsonl.gz#3"]
    [txt], [txt_gz] = read(tmp_path / "story.txt", tmp_path), read(tmp_path / "story.txt.gz", tmp_path)
    assert (txt_gz.doc_id, txt_gz.title, txt_gz.text) == ("story.txt.gz", "Quay news", txt.text)


def test_iso_rfc2822_and_epoch_dates_of_one_instant_are_the_same_utc_time(tmp_path: Path) -> None:
    dates = ["2024-03-05T14:30:00+02:00", "2024-03-05T07:30:00-05:00", "Tue, 05 Mar 2024 12:30:00 GMT", "Tue, 05 Mar 2024 13:30:00 +0100",
             1709641800, 1709641800000, "2024-03-05 12:30:00"]
    write_jsonl(tmp_path / "dates.jsonl", [{"text": f"Story {n}.", "published": d} for n, d in enumerate(dates)])
    published = [a.published for a in read(tmp_path / "dates.jsonl", tmp_path)]
    assert published == [MARCH_5] * len(dates)
    assert all(p is not None and p.utcoffset() is not None and p.utcoffset().total_seconds() == 0 for p in published)


def test_duplicate_ids_keep_the_first_in_feed_order_and_number_the_rest(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [{"id": "dup", "text": "Second file, line one."}, {"id": "dup", "text": "Second file, line two."}])
    (tmp_path / "a.json").write_text(json.dumps({"id": "dup", "text": "First file."}))
    write_jsonl(tmp_path / "c.jsonl", [{"id": "solo", "text": "Unique in the feed, but taken by an earlier run."}])
    articles = [a for path in list_feed_files(tmp_path) for a in read(path, tmp_path)]
    taken = {"solo"}
    assert unique_ids([a.doc_id for a in articles], taken) == ["dup", "dup~2", "dup~3", "solo~2"]
    assert taken == {"solo", "dup", "dup~2", "dup~3", "solo~2"}
    documents = run(tmp_path, tmp_path.with_name(tmp_path.name + "-out"))
    assert sorted(zip(documents["doc_id"], documents["flags"].to_list())) == [
        ("dup", []), ("dup~2", ["duplicate_id"]), ("dup~3", ["duplicate_id"]), ("solo", [])
    ]  # fmt: skip


def test_feed_files_are_found_in_subdirectories_with_relative_paths_as_ids(tmp_path: Path) -> None:
    for rel in ("top.txt", "2024/03/05/story.md", "wire/deep/item.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"Title of {rel}\nBody of {rel}.\n")
    write_jsonl(tmp_path / "wire" / "items.jsonl", [{"text": "Untitled wire item."}])
    files = list_feed_files(tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["2024/03/05/story.md", "top.txt", "wire/deep/item.txt", "wire/items.jsonl"]
    ids = [a.doc_id for f in files for a in read(f, tmp_path)]
    assert ids == ["2024/03/05/story.md", "top.txt", "wire/deep/item.txt", "wire/items.jsonl#1"]


def test_a_mixed_format_feed_lands_in_documents_parquet_with_its_fields(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    write_jsonl(feed / "wire.jsonl", [{"guid": "w1", "headline": "Grain prices climb", "body": "Wheat futures rose for a fifth day as dry weather hit the plains.",
                                       "link": "https://wire.example/w1", "pubDate": "Tue, 05 Mar 2024 12:30:00 GMT"}])
    (feed / "one.json").write_text(json.dumps({"id": "j1", "title": "Library extends hours", "text": "The city library will stay open until ten on weekdays.",
                                               "url": "https://city.example/j1", "published": 1709641800}))
    (feed / "local").mkdir()
    (feed / "local" / "note.txt").write_bytes(b"Caf\xe9 wins award\r\nThe harbour caf\xe9 won a regional prize for its chowder.\r\n")
    (feed / "cranes.html").write_text(HTML, encoding="utf-8")
    (feed / "coast.rss").write_text(RSS, encoding="utf-8")
    (feed / "valley.atom.gz").write_bytes(gzip.compress(ATOM.encode()))
    documents = run(feed, tmp_path / "out")
    rows = {r["doc_id"]: (r["title"], r["url"], r["published"]) for r in documents.iter_rows(named=True)}
    assert rows == {
        "w1": ("Grain prices climb", "https://wire.example/w1", MARCH_5),
        "j1": ("Library extends hours", "https://city.example/j1", MARCH_5),
        "local/note.txt": ("Caf\u00e9 wins award", None, None),
        "cranes.html": ("New cranes double harbour capacity", None, None),
        "coast-1": ("Cranes arrive", "https://coast.example/cranes", MARCH_5),
        "https://coast.example/ferry": ("Ferry strike ends", "https://coast.example/ferry", datetime(2024, 3, 6, 8, 0, tzinfo=timezone.utc)),
        "urn:valley:1": ("Dam opens", "https://valley.example/dam", MARCH_5),
        "urn:valley:2": ("Bridge closed", "https://valley.example/bridge", datetime(2024, 3, 6, 9, 15, tzinfo=timezone.utc)),
    }


_LINES = st.sampled_from(
    ['{"id": "a", "text": "The cranes arrived."}', '{"text": "No id here, the line number is."}', "", "   ", "\t", "{not json", "[1, 2]", '"a string"', "x" * 90]
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_LINES, max_size=40), part_bytes=st.integers(1, 200), max_lines=st.integers(1, 45), crlf=st.booleans(), scan_block=st.integers(1, 9))
def test_a_jsonl_file_read_in_parts_gives_what_it_gives_whole(lines: list[str], part_bytes: int, max_lines: int, crlf: bool, scan_block: int) -> None:
    config = load_config(None, {"ingest.max_lines": max_lines, "ingest.max_line_bytes": 80})
    with tempfile.TemporaryDirectory() as feed, mock.patch("dedup.readers.files._SCAN_BLOCK", scan_block):  # the search for a cut over several blocks
        path = Path(feed) / "a.jsonl"
        path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode())
        parts = file_parts(path, part_bytes, max_lines)
        whole = list(read_file(path, Path(feed), config.ingest, MARCH_5))
        in_parts = [item for part in parts for item in read_part(part, Path(feed), config.ingest, MARCH_5)]
    assert in_parts == whole
    assert [part.start for part in parts[1:]] == [part.end for part in parts[:-1]] and parts[0].start == 0 and parts[-1].end is None
    assert all(part.first_line <= max_lines for part in parts)


def test_a_part_of_a_file_rewritten_since_it_was_cut_is_one_rejection_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    write_jsonl(path, [{"id": f"a{k}", "text": f"Report number {k} on the harbour cranes."} for k in range(20)])
    first, second, *_ = file_parts(path, 100, 10**6)
    write_jsonl(path, [{"id": f"b{k}", "text": f"A longer report, number {k}, on the harbour's new electric cranes."} for k in range(20)])
    items = list(read_part(second, tmp_path, load_config().ingest, MARCH_5))
    assert items == [Rejection("a.jsonl", second.first_line, f"the file changed while it was read: line {second.first_line} no longer starts at byte {second.start}; lines from it not read")]


def test_a_large_jsonl_file_is_read_in_parts_by_the_workers_with_the_reports_of_one_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.stages.ingest

    articles = sorted(wikiref().items())[:60]
    records = [{"id": doc_id, "text": text} for doc_id, text in articles] + [{"id": f"{doc_id}/copy", "text": text} for doc_id, text in articles[::7]]
    write_jsonl(tmp_path / "feed" / "big.jsonl", records)
    with (tmp_path / "feed" / "big.jsonl").open("a") as fh:
        fh.write("{broken\n\n" + json.dumps({"text": "   "}) + "\n")
    config = load_config(None, {"runtime.workers": 2})
    one = run(tmp_path / "feed", tmp_path / "one", config)
    monkeypatch.setattr(dedup.stages.ingest, "_MIN_TASK_BYTES", 20_000)  # the 500 kB file in parts
    assert len(dedup.stages.ingest._reading_tasks([tmp_path / "feed" / "big.jsonl"], config, 2)) > 5
    parts = run(tmp_path / "feed", tmp_path / "parts", config)
    assert parts.equals(one)
    rejected = [pl.read_parquet(out / "rejected.parquet") for out in (tmp_path / "one", tmp_path / "parts")]
    assert rejected[0].equals(rejected[1]) and rejected[0]["record"].to_list() == [len(records) + 1, len(records) + 3]
