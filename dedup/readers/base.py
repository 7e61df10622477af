"""What every reader shares: the record fields it looks for, dates, clean text, and the ``Reader`` that maps a record onto an Article or a Rejection.

Every string that leaves a reader is valid Unicode: lone surrogates (JSON's
``"\\ud800"`` escapes, which UTF-8, hence Parquet and JSON, cannot hold) become
U+FFFD.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.html

from dedup.config import IngestConfig
from dedup.readers.decode import decode_text
from dedup.records import Article, Rejection

Item = Article | Rejection


FIELD_NAMES: dict[str, tuple[str, ...]] = {  # lower-case: a record's field names are matched in any case
    "id": ("id", "guid", "_id", "uuid", "doc_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article", "description", "summary"),
    "url": ("url", "link", "href"),
    "source": ("source", "site", "sitename", "publisher", "feed"),
    "published": ("published", "date", "pubdate", "published_at", "pub_date", "datetime", "updated", "timestamp"),
}


EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=timezone.utc)
"""Dates before this are not a news item's: flagged ``unparsed_date``, stored as null."""


FUTURE_SLACK = timedelta(days=1)
"""Dates more than this after the run's clock are flagged and stored as null too
(a day covers time zones and clocks a little fast)."""


UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (JSON's ``"\\ud800"`` escapes) replaced by U+FFFD."""
    return text if text.isascii() or not _SURROGATE.search(text) else _SURROGATE.sub("\ufffd", text)


def parse_published(value: Any, now: datetime) -> datetime | None:
    """ISO 8601, RFC 2822 (feeds) or a Unix epoch, as an aware UTC datetime.

    Naive times are taken as UTC. Returns None when the value is not a date,
    or not one a news item can have: before ``EARLIEST_DATE`` or more than
    ``FUTURE_SLACK`` after ``now`` (the run's clock).
    """
    latest = now + FUTURE_SLACK
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _epoch(value, latest)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        parsed = parsed.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the year 9999 in UTC
        return None
    return parsed if EARLIEST_DATE <= parsed <= latest else None


def _epoch(value: int | float, latest: datetime) -> datetime | None:
    """A Unix epoch in seconds where that gives a date from ``EARLIEST_DATE``
    to ``latest``, else in milliseconds where that does, else None. (Compared
    before any conversion: a 400-digit integer is no float.)"""
    earliest, last = EARLIEST_DATE.timestamp(), latest.timestamp()
    for per_second in (1, 1000):
        if earliest * per_second <= value <= last * per_second:
            return UNIX_EPOCH + timedelta(seconds=value / per_second)
    return None


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (feed item bodies)."""
    if "<" not in fragment:
        return fragment
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return fragment
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


@dataclass(frozen=True)
class FilePart:
    """What one reading task reads of a feed file: all of it, or (a large
    uncompressed JSONL file) its lines from byte ``start``, the start of line
    ``first_line``, to byte ``end``, just past a newline (None: the file's end)."""

    path: Path
    start: int = 0
    end: int | None = None
    first_line: int = 1

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None


class Reader:
    """Reads one file; yields its Articles and Rejections."""

    def __init__(self, path: Path, rel: str, config: IngestConfig, now: datetime) -> None:
        self.path = path
        self.rel = rel
        self.config = config
        self.now = now
        self.compressed = path.suffix.lower() == ".gz"
        self.encoding = "utf-8"
        """What the file's text was decoded from (``decode``; JSONL is UTF-8, a feed as its XML declaration says)."""

    def decode(self, data: bytes) -> str:
        """``decode_text`` of ``data``; its encoding goes to the file's articles."""
        text, self.encoding = decode_text(data, self.config)
        return text

    def reject(self, reason: str, record: int | None = None) -> Rejection:
        return Rejection(self.rel, record, reason)

    def open_binary(self) -> io.BufferedIOBase:
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller's with-block
        return gzip.GzipFile(fileobj=raw) if self.compressed else raw

    def read_bytes(self, *limits: str) -> bytes:
        """The file's (decompressed) bytes. Raises ValueError naming the
        smallest limit exceeded among ``ingest.max_file_bytes``,
        ``max_decompressed_bytes`` for a gzip file, and ``limits``."""
        options = ["max_file_bytes", *limits, *(["max_decompressed_bytes"] if self.compressed else [])]
        option = min(options, key=lambda name: getattr(self.config, name))
        limit = getattr(self.config, option)
        with self.open_binary() as fh:
            data = fh.read(limit + 1)  # a gzip bomb is decompressed no further
        if len(data) > limit:
            raise ValueError(f"file larger than ingest.{option} ({limit} bytes{', decompressed' if self.compressed else ''}){_LIMIT_HINTS.get(option, '')}")
        return data

    def article(self, fields: dict[str, Any], record: int | None, default_id: str) -> Item:
        """Map a record's fields onto an Article (or reject it)."""
        lowered = _lowered_keys(fields)  # once per record, not once per field name
        picked = {name: _first_present(lowered, keys) for name, keys in FIELD_NAMES.items()}
        text = picked["text"]
        if isinstance(text, dict):  # e.g. {"content": {"value": ...}} in some exports
            text = _first_present(_lowered_keys(text), ("value", "text", "body"))
        if text is None:
            return self.reject(f"record has no text field (looked for: {', '.join(FIELD_NAMES['text'])})", record)
        if not isinstance(text, str):
            return self.reject(f"text field is a {json_type(text)}, not a string", record)
        text = html_to_text(clean_text(text))
        if len(text.strip()) < self.config.min_text_chars:
            return self.reject("record text is empty", record)
        flags: list[str] = []
        if len(text) > self.config.max_doc_chars:
            text = text[: self.config.max_doc_chars]
            flags.append("truncated_input")
        published = parse_published(picked["published"], self.now)
        if picked["published"] not in (None, "") and published is None:
            flags.append("unparsed_date")
        own_id = picked["id"] if picked["id"] not in (None, "") else picked["url"]
        return Article(
            doc_id=clean_text(str(own_id)) if own_id not in (None, "") else default_id,
            path=self.rel,
            record=record,
            title=_as_str(picked["title"]),
            text=text,
            url=_as_str(picked["url"]) or None,
            source=_as_str(picked["source"]) or None,
            published=published,
            flags=flags,
            encoding=self.encoding,
        )

    def read(self) -> Iterator[Item]:
        raise NotImplementedError


_LIMIT_HINTS = {"max_file_bytes": "; use JSONL for large dumps", "max_html_bytes": ": not extracted (it takes seconds a megabyte)"}


def unreadable_json(exc: RecursionError | ValueError) -> str:
    """Why well-formed JSON could not be read: json.loads recursed too deep, or
    met an integer longer than Python converts (4,300 digits)."""
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read"
    return f"JSON number too long to read ({str(exc).partition(';')[0]})"  # the rest advises a Python setting


def json_type(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _lowered_keys(fields: dict[str, Any]) -> dict[str, Any]:
    """A record's fields by lower-cased name: field names match in any case."""
    return {k.lower(): v for k, v in fields.items() if isinstance(k, str)}


def _first_present(lowered: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first non-empty value of ``keys`` (lower-case) among ``lowered`` fields."""
    for key in keys:
        value = lowered.get(key)
        if value not in (None, ""):
            return value
    return None


def _as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = _first_present(_lowered_keys(value), ("name", "title", "value", "href"))
    return clean_text(str(value).strip()) if value is not None else ""
