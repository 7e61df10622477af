"""The plain records that flow between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Article:
    """One news item as read from the feed, before normalisation.

    ``record`` is the 1-based line of a JSONL file, or the 1-based position in a
    JSON array or feed; None for formats holding one article per file.
    """

    doc_id: str
    path: str
    record: int | None
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    flags: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    """The codec its file was decoded from (``ingest.decode_text``)."""


@dataclass(slots=True, frozen=True)
class Rejection:
    """An input that could not become a document, and why."""

    path: str
    record: int | None
    reason: str
