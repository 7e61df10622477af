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
``"\\ud800"`` escapes, which UTF-8, hence Parquet and JSON, cannot hold) become
U+FFFD, and a path's undecodable bytes are shown as ``\\xff`` (``display_path``).
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import stat
import sys
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import charset_normalizer
import defusedxml.ElementTree as SafeET
import lxml.html
from defusedxml import DefusedXmlException

from dedup.config import IngestConfig
from dedup.records import Article, Rejection
from dedup.kernels.scripts import implausible_text
from dedup.readers.titles import text_title

Item = Article | Rejection

FIELD_NAMES: dict[str, tuple[str, ...]] = {  # lower-case: a record's field names are matched in any case
    "id": ("id", "guid", "_id", "uuid", "doc_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article", "description", "summary"),
    "url": ("url", "link", "href"),
    "source": ("source", "site", "sitename", "publisher", "feed"),
    "published": ("published", "date", "pubdate", "published_at", "pub_date", "datetime", "updated", "timestamp"),
}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
WHOLE_FILE_SUFFIXES = {".json", ".txt", ".md", ".html", ".htm", ".xml", ".rss", ".atom"}
EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=timezone.utc)
"""Dates before this are not a news item's: flagged ``unparsed_date``, stored as null."""
FUTURE_SLACK = timedelta(days=1)
"""Dates more than this after the run's clock are flagged and stored as null too
(a day covers time zones and clocks a little fast)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BLANKS = re.compile(rb"[ \t\n\r\x0b\x0c]*")  # what bytes.strip() strips; match() runs 3x faster than searching for the rest
_BLOCK = 1 << 20  # JSONL is read this many bytes at a time


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
            return _EPOCH + timedelta(seconds=value / per_second)
    return None


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""Byte order marks and the codec each starts (UTF-32's before UTF-16's: FF FE 00 00 opens both)."""
_SEVEN_BIT_SHIFTS = (b"\x1b", b"~{")
"""What 7-bit CJK encodings (ISO-2022-JP and -KR, HZ) shift with: ASCII bytes holding one may be such text, not ASCII."""
_SEVEN_BIT_CODECS = frozenset(codecs.lookup(name).name for name in ("iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext", "iso2022_kr", "hz"))
_LATIN_CODE_PAGES = frozenset(
    codecs.lookup(name).name
    for name in ("latin_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
                 "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "cp437", "cp850", "cp858", "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish")
)  # fmt: skip
"""Single-byte code pages of Latin script: where the detector guesses one of them, Windows-1252 is tried first."""


def decode_text(data: bytes, config: IngestConfig) -> tuple[str, str]:
    """Bytes to (text, the codec's name). Raises ValueError with the reason
    when no encoding gives plausible text.

    In order: a byte order mark (UTF-8, UTF-16, UTF-32) decides; bytes with
    NUL are binary; strict UTF-8 (unless 7-bit ASCII holds a CJK shift
    sequence); then the encoding charset-normalizer finds most likely, then
    each of ``ingest.legacy_encodings`` in turn (the detector abstains on
    some, cp949 and johab among them): the first that decodes strictly to
    plausible text (``scripts.implausible_text``) wins. Windows-1252 is
    among them, so it is the answer only where it gives plausible text and
    no CJK codec did; mojibake is rejected, not clustered.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise ValueError(f"invalid {codec.upper()} after its byte order mark (byte {exc.start})") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    shifted = data.isascii() and any(shift in data for shift in _SEVEN_BIT_SHIFTS)
    if not shifted:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    tried: list[str] = []
    for codec in _candidates(data, config.legacy_encodings, shifted):
        tried.append(codec)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if implausible_text(text, config.max_accented_share) is None and not (shifted and text.isascii()):
            return text, codec
    if shifted:
        return data.decode("ascii"), "utf-8"
    raise ValueError(f"invalid UTF-8, and no other encoding gives plausible text (tried {', '.join(tried)}): mojibake, not clustered")


def _candidates(data: bytes, legacy: list[str], shifted: bool) -> list[str]:
    """The codecs ``decode_text`` tries, in order, by Python's names:
    charset-normalizer's best guess, then ``legacy``; only 7-bit codecs for
    ASCII bytes with a shift sequence. Windows-1252 goes first where the
    guess is another Latin code page (the detector picks, say, cp1250 for
    short Western text, where cp1252 is the web's answer: WHATWG decodes
    ISO-8859-1 and unlabelled Western text so)."""
    best = charset_normalizer.from_bytes(data).best()
    names = [codecs.lookup(name).name for name in [*([best.encoding] if best is not None else []), *legacy]]
    if shifted:
        names = [name for name in names if name in _SEVEN_BIT_CODECS]
    elif names and names[0] in _LATIN_CODE_PAGES:
        names.insert(0, "cp1252")
    return list(dict.fromkeys(names))


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


class _Reader:
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
            return self.reject(f"text field is a {_json_type(text)}, not a string", record)
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


def _unreadable_json(exc: RecursionError | ValueError) -> str:
    """Why well-formed JSON could not be read: json.loads recursed too deep, or
    met an integer longer than Python converts (4,300 digits)."""
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read"
    return f"JSON number too long to read ({str(exc).partition(';')[0]})"  # the rest advises a Python setting


class _JsonLinesReader(_Reader):
    def read(self) -> Iterator[Item]:
        limit, max_lines = self.config.max_line_bytes, self.config.max_lines
        max_bytes = self.config.max_decompressed_bytes if self.compressed else None
        records = 0
        with self.open_binary() as fh:
            lines = _Lines(fh, limit, max_bytes)
            for number, line in lines:
                if number > max_lines:
                    yield self.reject(f"stopped after line {max_lines}: file longer than ingest.max_lines ({max_lines} lines); the rest is not read", number)
                    return
                records += 1
                yield self.reject(f"line longer than ingest.max_line_bytes ({limit} bytes)", number) if line is None else self.line(line, number)
        if lines.cut:
            done = lines.number - 1
            yield self.reject(
                f"stopped after line {done}: file larger than ingest.max_decompressed_bytes ({max_bytes} bytes, decompressed); the rest is not read", done + 1
            )
        elif not records:
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
            return self.reject(_unreadable_json(exc), number)
        if not isinstance(value, dict):
            return self.reject(f"JSON line is a {_json_type(value)}, not an article object", number)
        return self.article(value, number, f"{self.rel}#{number}")


class _JsonReader(_Reader):
    def read(self) -> Iterator[Item]:
        text = self.decode(self.read_bytes())
        if text.lstrip().startswith("<"):
            yield self.reject("not JSON: the file holds HTML or XML (an error page saved as .json?)")
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield self.reject(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", exc.lineno)
            return
        except (RecursionError, ValueError) as exc:
            yield self.reject(_unreadable_json(exc))
            return
        if isinstance(value, dict):
            yield self.article(value, None, self.rel)
        elif isinstance(value, list):
            if not value:
                yield self.reject("JSON array holds no articles")
            for index, item in enumerate(value, start=1):
                if isinstance(item, dict):
                    yield self.article(item, index, f"{self.rel}#{index}")
                else:
                    yield self.reject(f"array item is a {_json_type(item)}, not an article object", index)
        else:
            yield self.reject(f"JSON holds a {_json_type(value)}, not an article or a list of articles")


class _TextReader(_Reader):
    def read(self) -> Iterator[Item]:
        text = self.decode(self.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        title, published = text_title(text, self.config.max_title_chars)
        yield self.article({"title": title, "text": text, "published": published}, None, self.rel)


class _HtmlReader(_Reader):
    def read(self) -> Iterator[Item]:
        import trafilatura  # here, not at the top: its import costs a tenth of a second in every run, HTML or not

        html = self.decode(self.read_bytes("max_html_bytes"))
        extracted = trafilatura.bare_extraction(html, with_metadata=True)
        if extracted is None or not (extracted.text or "").strip():
            yield self.reject("no main text found in HTML")
            return
        yield self.article(
            {"title": extracted.title, "text": extracted.text, "url": extracted.url, "source": extracted.sitename, "date": extracted.date},
            None,
            self.rel,
        )


_ATOM = "{http://www.w3.org/2005/Atom}"
_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _codec_name(name: str) -> str:
    """Python's name for a codec (``UTF8`` -> ``utf-8``), or ``name`` lower-cased if Python has none."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


_CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


class _FeedReader(_Reader):
    def read(self) -> Iterator[Item]:
        data = self.read_bytes()
        if not data.strip():
            yield self.reject("empty file")
            return
        declared = _XML_ENCODING.match(data)
        if declared:
            self.encoding = _codec_name(declared.group(1).decode("ascii"))
        try:
            root = SafeET.fromstring(data, forbid_dtd=False)
        except DefusedXmlException as exc:
            yield self.reject(f"unsafe XML refused ({type(exc).__name__}: entity declarations or external references)")
            return
        except SafeET.ParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            yield self.reject(f"malformed XML: {exc}", line)
            return
        if root.tag == f"{_ATOM}feed":
            yield from self._atom(root)
        elif root.tag == "rss" or root.find("channel") is not None:
            yield from self._rss(root)
        else:
            yield self.reject(f"XML root <{root.tag}> is neither an RSS 2.0 <rss> nor an Atom <feed>")

    def _rss(self, root: Any) -> Iterator[Item]:
        channel = root.find("channel")
        items = channel.findall("item") if channel is not None else []
        feed_title = _xml_text(channel, "title") if channel is not None else None
        if not items:
            yield self.reject("feed holds no <item>")
        for index, item in enumerate(items, start=1):
            fields = {
                "guid": _xml_text(item, "guid"),
                "title": _xml_text(item, "title"),
                "link": _xml_text(item, "link"),
                "text": _xml_text(item, _CONTENT_ENCODED) or _xml_text(item, "description"),
                "pubDate": _xml_text(item, "pubDate"),
                "source": _xml_text(item, "source") or feed_title,
            }
            yield self.article(fields, index, f"{self.rel}#{index}")

    def _atom(self, root: Any) -> Iterator[Item]:
        entries = root.findall(f"{_ATOM}entry")
        feed_title = _xml_text(root, f"{_ATOM}title")
        if not entries:
            yield self.reject("feed holds no <entry>")
        for index, entry in enumerate(entries, start=1):
            link = entry.find(f"{_ATOM}link")
            fields = {
                "id": _xml_text(entry, f"{_ATOM}id"),
                "title": _xml_text(entry, f"{_ATOM}title"),
                "link": link.get("href") if link is not None else None,
                "text": _xml_text(entry, f"{_ATOM}content") or _xml_text(entry, f"{_ATOM}summary"),
                "published": _xml_text(entry, f"{_ATOM}published") or _xml_text(entry, f"{_ATOM}updated"),
                "source": feed_title,
            }
            yield self.article(fields, index, f"{self.rel}#{index}")


READERS: dict[str, type[_Reader]] = {
    ".jsonl": _JsonLinesReader,
    ".ndjson": _JsonLinesReader,
    ".json": _JsonReader,
    ".txt": _TextReader,
    ".md": _TextReader,
    ".html": _HtmlReader,
    ".htm": _HtmlReader,
    ".xml": _FeedReader,
    ".rss": _FeedReader,
    ".atom": _FeedReader,
}


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


class _Lines:
    """The non-blank lines of a binary stream, as ``(number, line)`` with
    1-based line numbers, without leading blanks and the newline; ``line`` is
    None for a line longer than ``max_line_bytes`` (so measured), skipped
    without being held in memory.

    The stream is read a block at a time: a run of blank lines costs a regex
    scan and a count, not a Python step per line (100 MB of newlines took 92 s
    line by line). At most ``max_bytes`` are read (None: no limit); ``cut`` then
    says so, and a line cut short is not returned. ``number`` is the line the
    reading stopped in.
    """

    def __init__(self, fh: io.BufferedIOBase, max_line_bytes: int, max_bytes: int | None) -> None:
        self.fh = fh
        self.max_line_bytes = max_line_bytes
        self.room = sys.maxsize if max_bytes is None else max_bytes
        self.cut = False
        self.number = 1

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


def _json_type(value: Any) -> str:
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


def _xml_text(node: Any, tag: str) -> str | None:
    found = node.find(tag)
    if found is None:
        return None
    text = "".join(found.itertext()).strip()
    return text or None
