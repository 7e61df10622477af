"""Segments: the state's append-only store of sketches and texts.

Each run that brings new documents writes one segment: a directory of plain
``.npy`` arrays (the documents' ``PackedSketches`` and their normalised texts
as UTF-8 bytes), never changed afterwards. Later runs memory-map them and read
only the rows they need, so an incremental run costs what its new documents
cost, not what the window holds. A state snapshot names the segments it uses;
a segment no snapshot names (all its documents expired, or a killed run's
leftover) is deleted by the next run. A segment whose live documents fall
below half of its rows has them copied into the next run's segment, so the
store stays within about twice the window.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup.arrays import Ragged
from dedup.sketch import PackedSketches

SEGMENTS = "segments"


@dataclass(slots=True)
class Segment:
    """Sketches and texts of some documents (row ``i``: document ``i``)."""

    sketches: PackedSketches
    texts: Ragged
    """UTF-8 bytes of each normalised text."""

    def __len__(self) -> int:
        return len(self.sketches)

    def text(self, i: int) -> str:
        return bytes(self.texts.row(i)).decode("utf-8", "surrogatepass")

    def take(self, rows: np.ndarray) -> Segment:
        return Segment(self.sketches.take(rows), self.texts.take(rows))

    @staticmethod
    def of(sketches: PackedSketches, texts: list[str]) -> Segment:
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        return Segment(sketches, Ragged(np.frombuffer(b"".join(encoded), dtype=np.uint8), np.concatenate([[0], np.cumsum(lengths)])))

    @staticmethod
    def concat(parts: list[Segment]) -> Segment:
        nonempty = [p for p in parts if len(p)]
        if len(nonempty) == 1:
            return nonempty[0]
        return Segment(PackedSketches.concat([p.sketches for p in parts]), Ragged.concat([p.texts for p in parts]))


def write_segment(state_dir: Path, segment: Segment, run: int) -> str:
    """Write ``segment`` (fsynced) under ``state_dir``; returns its name."""
    name = f"{run:06d}-{os.getpid()}-{time.monotonic_ns()}"
    directory = state_dir / SEGMENTS / name
    directory.mkdir(parents=True)
    arrays = segment.sketches.arrays() | {"texts.values": segment.texts.values, "texts.offsets": segment.texts.offsets}
    for key, values in arrays.items():
        path = directory / f"{key}.npy"
        np.save(path, np.ascontiguousarray(values))
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    return name


def open_segment(state_dir: Path, name: str) -> Segment:
    """A written segment, memory-mapped: rows are read from disk when used."""
    arrays = {path.name.removesuffix(".npy"): np.load(path, mmap_mode="r") for path in (state_dir / SEGMENTS / name).glob("*.npy")}
    texts = Ragged(arrays.pop("texts.values"), arrays.pop("texts.offsets"))
    return Segment(PackedSketches.from_arrays(arrays), texts)


def remove_unused_segments(state_dir: Path, used: set[str]) -> None:
    """Delete the segments no snapshot uses (expired, or left by a killed run)."""
    for directory in (state_dir / SEGMENTS).glob("*"):
        if directory.name not in used:
            shutil.rmtree(directory, ignore_errors=True)
