"""``.jsonl`` / ``.ndjson``: one article per line, streamed (any file size); a bad line is a rejection with its line number.

A large uncompressed file may be read in parts, each by its own reader: the
lines from byte ``start`` (the start of line ``first_line``) to byte ``end``
(just past a newline), as ``readers.files.file_parts`` cuts them.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from dedup.config import IngestConfig
from dedup.readers.base import FilePart, Item, Reader, json_type, unreadable_json

BLANK_BYTES = rb" \t\n\r\x0b\x0c"
"""What ``bytes.strip()`` strips (as a regex character class's content): a line of them alone is blank."""
_BLANKS = re.compile(rb"[" + BLANK_BYTES + rb"]*")  # match() runs 3x faster than searching for the rest


_BLOCK = 1 << 20  # JSONL is read this many bytes at a time


class JsonLinesReader(Reader):
    def __init__(self, path: Path, rel: str, config: IngestConfig, now: datetime, part: FilePart | None = None) -> None:
        super().__init__(path, rel, config, now)
        self.part = part or FilePart(path)
        """The part of the file read (all of it unless given)."""

    def read(self) -> Iterator[Item]:
        limit, max_lines = self.config.max_line_bytes, self.config.max_lines
        part = self.part
        if self.compressed:
            max_bytes: int | None = self.config.max_decompressed_bytes
        else:
            max_bytes = None if part.end is None else part.end - part.start
        records = 0
        with self.open_binary() as fh:
            if part.start:
                fh.seek(part.start - 1)
                if fh.read(1) != b"\n":  # the file is no longer as it was cut
                    yield self.reject(f"the file changed while it was read: line {part.first_line} no longer starts at byte {part.start}; lines from it not read", part.first_line)
                    return
            lines = _Lines(fh, limit, max_bytes, part.first_line)
            try:
                for number, line in lines:
                    if number > max_lines:
                        yield self.reject(f"stopped after line {max_lines}: file longer than ingest.max_lines ({max_lines} lines); the rest is not read", number)
                        return
                    records += 1
                    yield self.reject(f"line longer than ingest.max_line_bytes ({limit} bytes)", number) if line is None else self.line(line, number)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # a truncated or damaged gzip: the lines before it are read
                if not self.compressed:
                    raise
                yield self.reject(f"compressed data ends or breaks in line {lines.number} ({exc}); the lines before it were read", lines.number)
                return
        if lines.cut and part.end is None:  # (a part's end cuts it too: there, where it should)
            done = lines.number - 1
            yield self.reject(
                f"stopped after line {done}: file larger than ingest.max_decompressed_bytes ({max_bytes} bytes, decompressed); the rest is not read", done + 1
            )
        elif not records and part.whole:  # (a file is cut into parts only where a record starts)
            yield self.reject("no records: only blank lines")

    def line(self, line: bytes, number: int) -> Item:
        """The article of one JSONL line, or its rejection."""
        try:
            value = json.loads(line.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return self.reject("invalid UTF-8 in JSON line", number)
        except json.JSONDecodeError as exc:
            return self.reject(f"malformed JSON: {exc.msg} at column {exc.colno}", number)
        except (RecursionError, ValueError) as exc:
            return self.reject(unreadable_json(exc), number)
        if not isinstance(value, dict):
            return self.reject(f"JSON line is a {json_type(value)}, not an article object", number)
        return self.article(value, number, f"{self.rel}#{number}")


class _Lines:
    """The non-blank lines of a binary stream, as ``(number, line)`` with
    1-based line numbers, without leading blanks and the newline; ``line`` is
    None for a line longer than ``max_line_bytes`` (so measured), skipped
    without being held in memory.

    The stream is read a block at a time: a run of blank lines costs a regex
    scan and a count, not a Python step per line (100 MB of newlines took 92 s
    line by line). At most ``max_bytes`` are read (None: no limit); ``cut`` then
    says so, and a line cut short is not returned. ``number`` is the line the
    reading stopped in; the stream's first line is ``first_line``.
    """

    def __init__(self, fh: io.BufferedIOBase, max_line_bytes: int, max_bytes: int | None, first_line: int = 1) -> None:
        self.fh = fh
        self.max_line_bytes = max_line_bytes
        self.room = sys.maxsize if max_bytes is None else max_bytes
        self.cut = False
        self.number = first_line

    def _take(self, read: Any, size: int) -> bytes:
        """``read(size)``, never past ``max_bytes``."""
        data = read(min(size, self.room + 1))
        if len(data) > self.room:
            data, self.cut = data[: self.room], True
        self.room -= len(data)
        return data

    def __iter__(self) -> Iterator[tuple[int, bytes | None]]:
        limit = self.max_line_bytes
        buf, pos = b"", 0  # pos: in line self.number of buf
        while True:
            first = _BLANKS.match(buf, pos).end()  # the next non-blank byte
            if first == len(buf):
                self.number += buf.count(b"\n", pos)
                buf, pos = (b"", 0) if self.cut else (self._take(self.fh.read, _BLOCK), 0)
                if not buf:
                    return
                continue
            self.number += buf.count(b"\n", pos, first)
            end = buf.find(b"\n", first)
            if end >= 0:
                yield self.number, (buf[first:end] if end - first <= limit else None)
                self.number += 1
                pos = end + 1
                continue
            if self.cut:
                return
            line = buf[first:]
            buf, pos = b"", 0
            if len(line) <= limit:  # the rest of the line, or limit + 1 bytes of it
                line += self._take(self.fh.readline, limit + 1 - len(line))
            if line.endswith(b"\n"):
                yield self.number, line[:-1]
            elif len(line) <= limit:  # the last line, without a newline
                if not self.cut:
                    yield self.number, line
                return
            else:
                while line and not line.endswith(b"\n"):  # drain the over-long line
                    line = self._take(self.fh.readline, _BLOCK)
                if self.cut:
                    return
                yield self.number, None
            self.number += 1
