"""Stages ingest and sketch: read the feed files, normalise, strip boilerplate, sketch into a segment.

The files are read once, streaming; workers normalise each chunk and spill it
to a scratch file, then (once recurring lines are known) clean and sketch it.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dedup.config import Config, NormaliseConfig
from dedup.engine.base import Engine
from dedup.kernels.normalise import Boilerplate, normalise_text
from dedup.kernels.sketch import sketch_texts
from dedup.progress import Progress, Timings
from dedup.readers.files import read_file, unique_ids
from dedup.records import Article, Rejection
from dedup.schema import ARTICLE_FIELDS
from dedup.store.atomic import scratch_directory
from dedup.store.segments import Segment, SegmentWriter, open_segment
from dedup.store.window import article_fields, new_documents


@dataclass
class Prepared:
    """Where a run's new documents' sketches and cleaned texts are."""

    segment_name: str
    segment: Segment
    """Memory-mapped; it also holds the rows of articles rejected for having no words."""
    rows: np.ndarray
    """Each article's row in ``segment``."""


def _read(files: list[Path], feed_dir: Path, config: Config, rejections: list[Rejection], now: datetime) -> Iterator[Article]:
    """The articles of ``files`` in feed order; rejections go to ``rejections``.
    ``now``: the run's clock (later dates are not a news item's)."""
    for path in files:
        for item in read_file(path, feed_dir, config.ingest, now):
            if isinstance(item, Article):
                yield item
            else:
                rejections.append(item)


def _full_text(title: str, text: str) -> str:
    """The title, then the text, unless the text holds the title already (a
    text file's title is a piece of it, perhaps after a markdown ``#``, a caption
    or a date line: put in front again, its words would count twice)."""
    return text if not title or text.startswith(title) or title in text else f"{title}\n{text}"


def _normalise_and_spill(items: list[tuple[str, str]], config: NormaliseConfig, spill_dir: Path) -> tuple[Path, list[set[int]]]:
    """Worker: each ``(title, text)`` normalised; the texts go to a new file
    in ``spill_dir``, their short-line keys come back."""
    boilerplate = Boilerplate(config)
    texts = [normalise_text(_full_text(*item)) for item in items]
    with tempfile.NamedTemporaryFile(dir=spill_dir, suffix=".pickle", delete=False) as spill:
        pickle.dump(texts, spill, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(spill.name), [boilerplate.short_line_keys(text) for text in texts]


@dataclass(frozen=True)
class SpillPart:
    """Part ``part`` of ``parts`` (of the documents, in order) of a spill file."""

    path: Path
    part: int
    parts: int


def _spill_parts(spills: list[tuple[Path, int]], workers: int) -> list[SpillPart]:
    """The sketch pass's tasks, from each spill file and its number of
    documents: each file whole, or cut in parts of at least ``_MIN_PART_DOCS``
    when there are few files, so that every worker has about as much to do (a
    feed of five chunks would keep one of two workers idle for a fifth of the pass)."""
    wanted = -(-_PARTS_PER_WORKER * workers // len(spills)) if spills else 1
    tasks = []
    for path, documents in spills:
        parts = max(1, min(wanted, documents // _MIN_PART_DOCS))
        tasks += [SpillPart(path, part, parts) for part in range(parts)]
    return tasks


_PARTS_PER_WORKER = 8


_MIN_PART_DOCS = 250


def _clean_and_sketch(tasks: list[SpillPart], config: Config, recurring: frozenset[int]) -> Segment:
    """Worker: the normalised texts of some spill parts, boilerplate stripped, then sketched."""
    boilerplate = Boilerplate(config.normalise, recurring)
    cleaned = []
    for task in tasks:
        with task.path.open("rb") as file:
            texts = pickle.load(file)
        part = texts[task.part * len(texts) // task.parts : (task.part + 1) * len(texts) // task.parts]
        cleaned += [boilerplate.strip(text) for text in part]
    return Segment.of(sketch_texts(cleaned, config), cleaned)


def prepare(
    files: list[Path], feed_dir: Path, taken_ids: set[str], line_counts: Counter[int], config: Config, engine: Engine, progress: Progress, timings: Timings,
    segments: Path, run: int, seen_at: Any, durable: bool,
) -> tuple[pl.DataFrame, Prepared, list[Rejection]]:  # fmt: skip
    """Read ``files``, normalise, strip boilerplate and sketch into a new
    segment under ``segments`` (fsynced when ``durable``); reject what cannot
    be read and documents left with no words. Returns the new documents'
    fields (``schema.ARTICLE_SCHEMA``: columns, not an object per article,
    which for a large run would outweigh the sketches), where their sketches
    are, and the rejections.

    The files are read once, streaming, so that their texts are never all in
    memory: workers normalise each chunk of texts, count its short lines
    (``line_counts``, over the whole window, is updated before recurring
    lines are judged) and spill the normalised texts to a temporary file;
    once every file is read, workers clean and sketch the spilled chunks.
    Each chunk's sketches are written as they arrive.
    ``taken_ids``: the ids of the window's other documents, kept by them.
    """
    size = config.runtime.chunk_docs
    read: list[pl.DataFrame] = []
    pending: list[Article] = []
    rejections: list[Rejection] = []

    def reading() -> Iterator[tuple[str, str]]:
        for article in _read(files, feed_dir, config, rejections, seen_at):
            pending.append(article)
            yield article.title, article.text  # the worker joins them: no second copy of every text here
            article.text = ""  # spilled by the worker
            if len(pending) == size:  # kept as columns: a large run's Article objects would hold, and once freed keep, hundreds of MB
                read.append(article_fields(pending))
                pending.clear()

    with scratch_directory("spill") as spill_dir:
        spills = []
        with timings.stage("ingest"), progress.task("ingest", None) as advance:  # documents: not known before reading
            for spill, keys_of in engine.map_batches(partial(_normalise_and_spill, config=config.normalise, spill_dir=Path(spill_dir)), reading(), size, advance):
                spills.append((spill, len(keys_of)))
                for keys in keys_of:
                    line_counts.update(keys)
            fields = _with_unique_ids(pl.concat([*read, article_fields(pending)]), taken_ids)
            del read, pending
            recurring = frozenset(k for k, n in line_counts.items() if n >= config.normalise.recurring_line_min_docs)
        with timings.stage("sketch"), progress.task("sketch", fields.height) as advance:
            writer = SegmentWriter(segments, run, durable)
            words = [np.empty(0, dtype=np.int64)]
            tasks = _spill_parts(spills, engine.workers)
            for task, part in zip(tasks, engine.map_batches(partial(_clean_and_sketch, config=config, recurring=recurring), tasks, 1)):
                writer.append(part)
                words.append(part.sketches.words)
                advance(len(part))
                if task.part == task.parts - 1:  # its last part is sketched: the disk space goes back
                    task.path.unlink()
            if not writer.documents:  # so that the segment has every array, if empty
                writer.append(_clean_and_sketch([], config, recurring))
            name = writer.close()
    all_words = np.concatenate(words)
    empty = fields.filter(pl.Series(all_words == 0))
    rejections += [Rejection(path, record, "no words left after boilerplate removal") for path, record in empty.select("path", "record").iter_rows()]
    keep = np.flatnonzero(all_words > 0)
    return new_documents(fields[keep], all_words[keep], run, seen_at), Prepared(name, open_segment(segments, name), keep), rejections


def _with_unique_ids(fields: pl.DataFrame, taken: set[str]) -> pl.DataFrame:
    """``fields`` with ``unique_ids``, a renamed document flagged ``duplicate_id``."""
    ids = fields["doc_id"].to_list()
    unique = unique_ids(ids, taken)
    renamed = [a != b for a, b in zip(ids, unique)]
    if not any(renamed):
        return fields
    flags = [[*f, "duplicate_id"] if r else f for f, r in zip(fields["flags"].to_list(), renamed)]
    return fields.with_columns(pl.Series("doc_id", unique, dtype=pl.String), pl.Series("flags", flags, dtype=ARTICLE_FIELDS["flags"]))
