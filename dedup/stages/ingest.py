"""Stages ingest and sketch: read the feed files, normalise, strip boilerplate, sketch into a segment.

Workers read the files (by path, once, streaming), normalise each chunk and
spill it to a scratch file, then (once recurring lines are known) clean and
sketch it.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.engine.base import Engine
from dedup.kernels.normalise import Boilerplate, normalise_text
from dedup.kernels.sketch import sketch_texts
from dedup.progress import Progress, Timings
from dedup.readers.base import FilePart
from dedup.readers.files import file_parts, read_part, unique_ids
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


def _full_text(title: str, text: str) -> str:
    """The title, then the text, unless the text holds the title already (a
    text file's title is a piece of it, perhaps after a markdown ``#``, a caption
    or a date line: put in front again, its words would count twice)."""
    return text if not title or text.startswith(title) or title in text else f"{title}\n{text}"


@dataclass
class Reading:
    """What a reading task sends back: its articles (their texts spilled, not
    here), rejections, spill files and short-line counts."""

    articles: list[Article]
    rejections: list[Rejection]
    spills: list[tuple[Path, int]]
    """Each spill file and its number of texts."""
    line_counts: Counter[int]
    """Of each short-line key (``Boilerplate.short_line_keys``), the number of its texts holding it."""


def _read_normalise_and_spill(tasks: list[list[FilePart]], feed_dir: Path, config: Config, now: datetime, spill_dir: Path) -> Reading:
    """Worker: the articles of the parts of ``tasks`` (``_reading_tasks``; in order), normalised, their texts
    spilled to new files in ``spill_dir`` every ``runtime.chunk_docs``.
    ``now``: the run's clock (later dates are not a news item's)."""
    boilerplate = Boilerplate(config.normalise)
    read = Reading([], [], [], Counter())
    texts: list[str] = []

    def spill() -> None:
        with tempfile.NamedTemporaryFile(dir=spill_dir, suffix=".pickle", delete=False) as file:
            pickle.dump(texts, file, protocol=pickle.HIGHEST_PROTOCOL)
        read.spills.append((Path(file.name), len(texts)))
        for text in texts:
            read.line_counts.update(boilerplate.short_line_keys(text))
        texts.clear()

    for part in chain.from_iterable(tasks):
        for item in read_part(part, feed_dir, config.ingest, now):
            if isinstance(item, Rejection):
                read.rejections.append(item)
                continue
            texts.append(normalise_text(_full_text(item.title, item.text)))
            item.text = ""  # spilled: not sent back
            read.articles.append(item)
            if len(texts) == config.runtime.chunk_docs:
                spill()
    if texts:
        spill()
    return read


def _reading_tasks(files: list[Path], config: Config, workers: int) -> list[list[FilePart]]:
    """The feed's files as reading tasks, in feed order: large JSONL files cut
    in parts (``file_parts``), consecutive parts grouped so that each task
    reads about an even share of the feed, ``_TASKS_PER_WORKER`` a worker,
    within ``_MIN_TASK_BYTES`` and ``_MAX_TASK_BYTES``."""
    sizes = [_size(path) for path in files]
    task_bytes = min(max(sum(sizes) // (_TASKS_PER_WORKER * workers), _MIN_TASK_BYTES), _MAX_TASK_BYTES)
    tasks: list[list[FilePart]] = []
    held = task_bytes  # bytes in the last task: full, so that the first part opens one
    for path, size in zip(files, sizes):
        for part in file_parts(path, task_bytes, config.ingest.max_lines):
            if held >= task_bytes:
                tasks.append([])
                held = 0
            tasks[-1].append(part)
            held += (size if part.end is None else part.end) - part.start
    return tasks


_TASKS_PER_WORKER = 8
"""Tasks a worker of a pass (reading, sketching), at least: uneven ones even out."""


_MIN_TASK_BYTES = 1 << 20
"""Less is not worth a task of its own."""


_MAX_TASK_BYTES = 64 << 20
"""A reading task's bytes at most (a large file is cut into parts of about this size): what one worker reads, in a feed of many gigabytes, is not much more than another."""


def _size(path: Path) -> int:
    """The file's size (0 if it cannot be read: its reader rejects it)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
    wanted = -(-_TASKS_PER_WORKER * workers // len(spills)) if spills else 1
    tasks = []
    for path, documents in spills:
        parts = max(1, min(wanted, documents // _MIN_PART_DOCS))
        tasks += [SpillPart(path, part, parts) for part in range(parts)]
    return tasks


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

    The files are read by the workers, by path, streaming, so that their
    texts are never all in memory, nor ever in this process: each reading
    task (``_reading_tasks``: files, or parts of a large JSONL file) reads,
    normalises, counts its short lines (``line_counts``, over the whole
    window, is updated before recurring lines are judged) and spills the
    normalised texts to temporary files; once every file is read, workers
    clean and sketch the spilled chunks.
    Each chunk's sketches are written as they arrive.
    ``taken_ids``: the ids of the window's other documents, kept by them.
    """
    read: list[pl.DataFrame] = []
    rejections: list[Rejection] = []
    with scratch_directory("spill") as spill_dir:
        spills: list[tuple[Path, int]] = []
        with timings.stage("ingest"), progress.task("ingest", None) as advance:  # documents: not known before reading
            tasks = _reading_tasks(files, config, engine.workers)
            reading = partial(_read_normalise_and_spill, feed_dir=feed_dir, config=config, now=seen_at, spill_dir=Path(spill_dir))
            for done in engine.map_batches(reading, tasks, 1):
                read.append(article_fields(done.articles))  # as columns: a large run's Article objects would hold, and once freed keep, hundreds of MB
                rejections += done.rejections
                spills += done.spills
                line_counts.update(done.line_counts)
                advance(len(done.articles))
            fields = _with_unique_ids(pl.concat(read) if read else article_fields([]), taken_ids)
            del read
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
