"""Ingest: every file under a feed directory becomes Articles or Rejections.

Formats, chosen by extension (a trailing ``.gz`` is decompressed first):

- ``.jsonl`` / ``.ndjson``: one article per line, streamed (any file size).
- ``.json``: an article object or an array of them.
- ``.txt`` / ``.md``: one article per file; the title is the first sentence of
  the first line that is no photo caption, credit or date (``titles``), and a
  date opening the text is its publication date.
- ``.html`` / ``.htm``: main text extracted with trafilatura (scripts, navigation dropped).
- ``.xml`` / ``.rss`` / ``.atom``: RSS 2.0 items or Atom entries, parsed with
  defusedxml (entity expansion and external references are refused).

``doc_id`` is the record's own id (``id``/``guid``; for feed items the guid, else
the link) when present, else the path relative to the feed directory, with
``#N`` for the N-th record of a multi-record file (N is the line number in JSONL).
Nothing is dropped silently: each unreadable file, unknown extension or bad
record yields a Rejection naming the path, the record and the reason; one bad
record never takes its neighbours down.

Every string that leaves ingest is valid Unicode: lone surrogates (JSON's
``"\ud800"`` escapes, which UTF-8, hence Parquet and JSON, cannot hold) become
U+FFFD, and a path's undecodable bytes are shown as ``\xff`` (``display_path``).
"""

from __future__ import annotations

import gzip
import os
import re
import stat
from collections.abc import Collection, Iterator
from datetime import datetime
from pathlib import Path

from dedup.config import IngestConfig
from dedup.readers.base import FilePart, Item, Reader
from dedup.readers.feed import FeedReader
from dedup.readers.html import HtmlReader
from dedup.readers.jsonfile import JsonReader
from dedup.readers.jsonl import BLANK_BYTES, JsonLinesReader
from dedup.readers.text import TextReader
from dedup.records import Rejection

JSONL_SUFFIXES = {".jsonl", ".ndjson"}


WHOLE_FILE_SUFFIXES = {".json", ".txt", ".md", ".html", ".htm", ".xml", ".rss", ".atom"}


READERS: dict[str, type[Reader]] = {
    ".jsonl": JsonLinesReader,
    ".ndjson": JsonLinesReader,
    ".json": JsonReader,
    ".txt": TextReader,
    ".md": TextReader,
    ".html": HtmlReader,
    ".htm": HtmlReader,
    ".xml": FeedReader,
    ".rss": FeedReader,
    ".atom": FeedReader,
}


def format_suffix(path: Path) -> str:
    """The suffix that decides the format: ``a.jsonl.gz`` reads as ``.jsonl``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def list_feed_files(feed_dir: Path, skip: Collection[Path] = ()) -> list[Path]:
    """Every file under ``feed_dir``, recursively, in a stable (sorted) order.

    Directory symlinks are not followed (no loops) but listed, so that they
    are rejected rather than ignored; file symlinks are followed, and a broken
    one is listed to be rejected too. Hidden entries (``.name``) are skipped:
    they are tool state, not feed items. So are the directories in ``skip``
    (the run's report and state directories, when inside the feed: a run must
    not read its own output as news).
    """
    skipped = {directory.resolve() for directory in skip}
    found: list[Path] = []
    for root, dirs, files in os.walk(feed_dir):  # lists a directory symlink among dirs, without entering it
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (skipped and (Path(root) / d).resolve() in skipped))
        found.extend(Path(root) / d for d in dirs if (Path(root) / d).is_symlink())
        found.extend(Path(root) / f for f in files if not f.startswith("."))
    return sorted(found, key=lambda p: display_path(p, feed_dir))


def display_path(path: Path, feed_dir: Path) -> str:
    """A feed file's name in documents, rejections and the state: its path
    relative to ``feed_dir`` with ``/`` separators. Bytes of the name that are
    not UTF-8 (which ``os.fsdecode`` turns into lone surrogates, unwritable to
    Parquet or JSON) are shown as ``\\xff``: distinct names stay distinct
    unless one spells such an escape literally."""
    rel = path.relative_to(feed_dir).as_posix()
    return rel if rel.isascii() else rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def file_parts(path: Path, part_bytes: int, max_lines: int) -> list[FilePart]:
    """``path`` as parts to read apart: an uncompressed JSONL file larger than
    ``part_bytes`` is cut about every ``part_bytes`` bytes, each cut just
    before a line that is not blank (so every part after the first holds a
    record) and none past line ``max_lines`` (so the one part reaching it is
    the last, and says where the file was cut off); any other file is one part.

    Finding the cuts reads the file once (to count the lines before each), a
    sequential read the parts' readers then find in the page cache. A file
    that cannot be read is one part: its reader rejects it."""
    try:
        if format_suffix(path) not in JSONL_SUFFIXES or path.suffix.lower() == ".gz" or not path.is_file() or path.stat().st_size <= part_bytes:
            return [FilePart(path)]
        cuts = _line_cuts(path, part_bytes, max_lines)
    except OSError:
        return [FilePart(path)]
    starts = [(0, 1), *cuts]
    return [FilePart(path, start, end, line) for (start, line), end in zip(starts, [start for start, _ in cuts] + [None])]


_LINE_START = re.compile(rb"\n(?=[^" + BLANK_BYTES + rb"])")
"""A newline before a byte that is not blank: a record's line starts after it."""


_SCAN_BLOCK = 1 << 20


def _line_cuts(path: Path, part_bytes: int, max_lines: int) -> list[tuple[int, int]]:
    """``(byte, line)`` of each cut ``file_parts`` makes in ``path``."""
    cuts: list[tuple[int, int]] = []
    offset, line = 0, 1  # where the part being measured starts
    with path.open("rb") as fh:
        while True:
            part = fh.read(part_bytes)
            if len(part) < part_bytes:
                return cuts
            # the first record's line start from the part's last byte on, searched in
            # a window of the bytes read past it (not the whole part again each block)
            newlines = part.count(b"\n", 0, part_bytes - 1)  # before the window
            window, at = part[part_bytes - 1 :], part_bytes - 1  # at: the window's first byte in the part
            while (found := _LINE_START.search(window)) is None:
                more = fh.read(_SCAN_BLOCK)
                if not more:
                    return cuts
                newlines += window.count(b"\n", 0, len(window) - 1)
                window, at = window[-1:] + more, at + len(window) - 1
            line += newlines + window.count(b"\n", 0, found.start() + 1)
            if line > max_lines:
                return cuts
            offset += at + found.start() + 1
            cuts.append((offset, line))
            fh.seek(offset)


def read_part(part: FilePart, feed_dir: Path, config: IngestConfig, now: datetime) -> Iterator[Item]:
    """Articles and Rejections of one ``FilePart`` (``read_file`` of a whole file). Never raises for bad content."""
    if part.whole:
        yield from read_file(part.path, feed_dir, config, now)
        return
    rel = display_path(part.path, feed_dir)
    try:
        yield from JsonLinesReader(part.path, rel, config, now, part).read()
    except OSError as exc:
        yield Rejection(rel, part.first_line, f"cannot read the lines from {part.first_line}: {getattr(exc, 'strerror', None) or exc}")


def read_file(path: Path, feed_dir: Path, config: IngestConfig, now: datetime) -> Iterator[Item]:
    """Articles and Rejections of one file. Never raises for bad content.

    ``now`` is the run's clock: dates after it (and ``FUTURE_SLACK``) are not read.
    """
    rel = display_path(path, feed_dir)
    if path.is_dir():  # list_feed_files lists directory symlinks only
        yield Rejection(rel, None, "directory symlink not followed")
        return
    suffix = format_suffix(path)
    reader_cls = READERS.get(suffix)
    if reader_cls is None:
        yield Rejection(rel, None, f"unknown extension {suffix or '(none)'!r}: skipped")
        return
    if path.is_symlink() and not path.exists():
        yield Rejection(rel, None, "broken symlink")
        return
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # opening a FIFO would wait for a writer
            yield Rejection(rel, None, "not a regular file (a FIFO, socket or device)")
            return
        if st.st_size == 0:
            yield Rejection(rel, None, "empty file")
            return
        yield from reader_cls(path, rel, config, now).read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield Rejection(rel, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    except ValueError as exc:
        yield Rejection(rel, None, str(exc))
    except RecursionError:
        yield Rejection(rel, None, "nesting too deep to parse")


def unique_ids(ids: list[str], taken: set[str]) -> list[str]:
    """A distinct id for each of ``ids`` (in feed order); ``taken`` gains them.

    The rule for two records with the same id: the first, in feed order (path,
    then record) and after every id already in ``taken``, keeps it; each later
    one becomes ``ID~2``, ``ID~3``, ... (and the caller flags it
    ``duplicate_id``). Both are kept and clustered (usually together, being
    the same item).
    """
    unique = []
    for doc_id in ids:
        if doc_id in taken:
            n = 2
            while f"{doc_id}~{n}" in taken:
                n += 1
            doc_id = f"{doc_id}~{n}"
        taken.add(doc_id)
        unique.append(doc_id)
    return unique
