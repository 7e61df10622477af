"""Window: the documents a run matches, in canonical preference order.

The state's documents still in the retention window plus the run's new ones.
Their fields, the previous run's results, their ``rank`` and ``doc_key`` are
one frame (``schema.WINDOW_SCHEMA``); their sketches and texts stay where
they are (the state's memory-mapped segments, or the new documents' segment)
and are fetched by each document's segment and row when a stage needs them,
so an incremental run touches old documents only where new ones meet them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any, Protocol, TypeVar

import numpy as np
import polars as pl
import xxhash

from dedup.arrays import Ragged
from dedup.config import CanonicalConfig, ConfigError
from dedup.kernels.canonical import preference_order
from dedup.kernels.facts import Facts
from dedup.kernels.terms import TermCounts, Terms
from dedup.readers.base import UNIX_EPOCH
from dedup.records import Article
from dedup.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA, RESULT_SCHEMA, WINDOW_SCHEMA
from dedup.store.segments import Segment

SCAN_ROWS = 50_000
"""Documents (or pairs of them) whose sketches a scan reads before releasing their pages."""


class _Takeable(Protocol):
    def take(self, rows: np.ndarray) -> Any: ...


T = TypeVar("T", bound=_Takeable)


@dataclass
class Window:
    documents: pl.DataFrame
    """One row per document (``schema.WINDOW_SCHEMA``), sorted by ``rank``."""
    segments: list[Segment]

    def __len__(self) -> int:
        return self.documents.height

    @cached_property
    def ranks(self) -> np.ndarray:
        """Each document's rank (its position here: the frame is sorted by it)."""
        return self.documents["rank"].to_numpy()

    @cached_property
    def new(self) -> np.ndarray:
        """Which documents this run brought."""
        return self.documents["new"].to_numpy()

    @cached_property
    def fresh(self) -> np.ndarray:
        """Which documents' candidate pairs are matched this run."""
        return self.documents["fresh"].to_numpy()

    @cached_property
    def segment_of(self) -> np.ndarray:
        """Each document's segment (index into ``segments``)."""
        return self.documents["segment_index"].to_numpy()

    @cached_property
    def segment_row(self) -> np.ndarray:
        """Each document's row in its segment."""
        return self.documents["segment_row"].to_numpy()

    def ranks_of(self, keys: pl.Series) -> np.ndarray:
        """The rank of the document of each of ``keys`` (``doc_key``), -1 where none is in the window."""
        known = pl.DataFrame({"doc_key": keys}).join(self.documents.select("doc_key", "rank"), on="doc_key", how="left", maintain_order="left")
        return known["rank"].fill_null(-1).to_numpy()

    def release_pages(self) -> None:
        """``Segment.release_pages`` of every segment: after a scan over many
        documents' sketches or texts, so that they do not stay resident."""
        for segment in self.segments:
            segment.release_pages()

    def previous(self, column: str, default: Any) -> np.ndarray:
        """A ``RESULT_SCHEMA`` column as numpy, ``default`` where there is none."""
        return self.documents[column].fill_null(default).to_numpy()

    def array(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A per-document ``PackedSketches`` array (``words``, ``signatures``, ...) of ``rows`` (default all)."""
        rows = np.arange(len(self)) if rows is None else rows
        return self._gather(rows, lambda segment, at: getattr(segment.sketches, name)[at])

    def _gather(self, rows: np.ndarray, read: Callable[[Segment, np.ndarray], np.ndarray]) -> np.ndarray:
        """``read(segment, its rows)`` of each of ``rows``, segment by segment, in the order of ``rows``."""
        empty = read(self.segments[0], np.empty(0, dtype=np.int64))  # the dtype and a row's shape
        out = np.empty((len(rows), *empty.shape[1:]), dtype=empty.dtype)
        segment_of, row = self.segment_of[rows], self.segment_row[rows]
        for k, segment in enumerate(self.segments):
            mine = segment_of == k
            if mine.any():
                out[mine] = read(segment, row[mine])
                segment.release_pages()
        return out

    def _take(self, rows: np.ndarray, pick: Callable[[Segment], T], concat: Callable[[list[T]], T]) -> T:
        """``pick(segment).take`` of ``rows``, in the order of ``rows``."""
        segment_of = self.segment_of[rows]
        order = np.argsort(segment_of, kind="stable")
        parts = [pick(segment).take(self.segment_row[rows[order[segment_of[order] == k]]]) for k, segment in enumerate(self.segments)]
        taken = concat(parts).take(np.argsort(order))
        self.release_pages()
        return taken

    def terms(self, name: str, rows: np.ndarray) -> Terms:
        """``word_terms`` or ``fact_terms`` of ``rows``."""
        return self._take(rows, lambda segment: getattr(segment.sketches, name), Terms.concat)

    def ragged(self, name: str, rows: np.ndarray) -> Ragged:
        """A per-document ``PackedSketches`` ragged array (``numbers``, ``names``, ``shingles``) of ``rows``."""
        return self._take(rows, lambda segment: getattr(segment.sketches, name), Ragged.concat)

    def term_lengths(self, name: str, rows: np.ndarray) -> np.ndarray:
        """How many ``word_terms`` or ``fact_terms`` each of ``rows`` has (read from the offsets alone)."""

        def lengths(segment: Segment, at: np.ndarray) -> np.ndarray:
            offsets = getattr(segment.sketches, name).columns.offsets
            return (offsets[at + 1] - offsets[at]).astype(np.int64)

        return self._gather(rows, lengths)

    def term_counts(self, name: str, rows: np.ndarray) -> TermCounts:
        """``word_terms`` or ``fact_terms`` counts of ``rows``, for IDF (read
        segment by segment, a block of rows at a time, in storage order)."""
        counts = TermCounts.empty()
        for k, segment in enumerate(self.segments):
            terms: Terms = getattr(segment.sketches, name)
            mine = np.sort(self.segment_row[rows[self.segment_of[rows] == k]])
            for start in range(0, len(mine), SCAN_ROWS):
                counts.add(terms.take(mine[start : start + SCAN_ROWS]))
                segment.release_pages()
        return counts

    def segment_pairs(self, pairs: np.ndarray) -> Iterator[tuple[Segment, Segment, np.ndarray, np.ndarray]]:
        """``pairs`` of documents a pair of segments at a time: the two
        segments, the pairs' rows in them, and which of ``pairs`` they are
        (so that a kernel reads the documents where they lie, copying none)."""
        first, second = self.segment_of[pairs[:, 0]], self.segment_of[pairs[:, 1]]
        for a, b in sorted(set(zip(first.tolist(), second.tolist()))):
            mine = np.flatnonzero((first == a) & (second == b))
            yield self.segments[a], self.segments[b], np.stack([self.segment_row[pairs[mine, 0]], self.segment_row[pairs[mine, 1]]], axis=1), mine

    def facts(self, i: int) -> Facts:
        return self.segments[self.segment_of[i]].sketches.facts(int(self.segment_row[i]))

    def text(self, i: int) -> str:
        return self.segments[self.segment_of[i]].text(int(self.segment_row[i]))


_MICROSECOND = timedelta(microseconds=1)


def article_fields(articles: list[Article]) -> pl.DataFrame:
    """The ``ARTICLE_FIELDS`` frame of some articles."""
    columns: dict[str, Any] = {}
    for name in ARTICLE_FIELDS:
        if name == "published":  # UTC (the readers'), as microseconds: polars converts datetime objects at a few times the cost
            micros = [None if a.published is None else (a.published - UNIX_EPOCH) // _MICROSECOND for a in articles]
            columns[name] = pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        elif name == "flags":  # polars makes a Series of each inner list; most documents have no flags, and a null costs nothing
            columns[name] = [a.flags or None for a in articles]
        else:
            columns[name] = [getattr(a, name) for a in articles]
    return pl.DataFrame(columns, schema=ARTICLE_FIELDS).with_columns(pl.col("flags").fill_null(pl.lit([], dtype=ARTICLE_FIELDS["flags"])))


def doc_keys(doc_ids: pl.Series) -> pl.Series:
    """Each document's ``doc_key``: the XXH3-64 of its ``doc_id`` (UTF-8), the
    same on every machine and version. Distinct ids that collide (a chance of
    about n² / 2^65 among n documents) stop the run (``assemble``)."""
    return pl.Series("doc_key", [xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass")) for doc_id in doc_ids.to_list()], dtype=pl.UInt64)


def new_documents(fields: pl.DataFrame, words: np.ndarray, run: int, seen_at: Any) -> pl.DataFrame:
    """The ``ARTICLE_SCHEMA`` frame of a run's new documents (``fields``: their ``ARTICLE_FIELDS``)."""
    return fields.with_columns(
        doc_keys(fields["doc_id"]),
        pl.lit(run, pl.Int64).alias("run"),
        pl.lit(seen_at, ARTICLE_SCHEMA["seen_at"]).alias("seen_at"),
        pl.Series("words", words, dtype=pl.Int64),
    ).select(list(ARTICLE_SCHEMA))


class KeyCollision(ConfigError):
    """Two documents' ids have the same ``doc_key``: the feed must give one another id (exit 2, one line)."""


def assemble(old: pl.DataFrame, old_segments: list[Segment], new: pl.DataFrame, new_segment: Segment, new_rows: np.ndarray, reuse: bool, config: CanonicalConfig) -> Window:
    """The window of ``old`` (state documents with ``RESULT_SCHEMA``, a
    ``segment_index`` into ``old_segments`` and a ``segment_row``) and ``new``
    (rows ``new_rows`` of ``new_segment``), ranked. ``reuse``: whether the previous decisions hold."""
    new = new.with_columns(
        *[pl.lit(None, dtype).alias(name) for name, dtype in RESULT_SCHEMA.items()],
        pl.lit(len(old_segments), pl.Int64).alias("segment_index"),
        pl.Series("segment_row", new_rows, dtype=pl.Int64),
        pl.lit(True).alias("new"),
    )
    old = old.with_columns(pl.col("segment_index").cast(pl.Int64), pl.lit(False).alias("new"))
    frame = pl.concat([old, new], how="diagonal_relaxed")
    frame = frame[preference_order(frame, config)].with_row_index("rank").with_columns(pl.col("rank").cast(pl.Int64), (pl.col("new") | (not reuse)).alias("fresh"))
    if frame["doc_key"].n_unique() < frame.height:
        same = frame.filter(pl.col("doc_key").is_duplicated()).sort("doc_key")["doc_id"].head(2).to_list()
        raise KeyCollision(f"the documents {same[0]!r} and {same[1]!r} have the same doc_key (XXH3-64 of the id): give one of them another id")
    return Window(documents=frame.select(list(WINDOW_SCHEMA)), segments=[*old_segments, new_segment])


def scan_blocks(rows: np.ndarray) -> Iterator[np.ndarray]:
    """``rows`` (pairs or documents) ``SCAN_ROWS`` at a time: a stage reads their sketches, then releases the pages."""
    for start in range(0, len(rows), SCAN_ROWS):
        yield rows[start : start + SCAN_ROWS]
