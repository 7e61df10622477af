"""Segments: the state's append-only store of sketches and texts.

Each run that brings new documents writes one segment: a directory of raw
arrays (the documents' ``PackedSketches`` and their normalised texts as UTF-8
bytes) and a manifest of their types and shapes, written a chunk at a time as
the documents are sketched and never changed afterwards. Later runs
memory-map them and read only the rows they need, so an incremental run costs
what its new documents cost, not what the window holds. Each file's checksum,
taken as it is written, is in the manifest: ``verify_segment`` reads the
files once to check them before a run maps them. A state snapshot names the
segments it uses (and its manifest's checksum); a segment no snapshot names (all its documents expired, or a killed run's
leftover) is deleted by the next run. A segment whose live documents fall
below half of its rows has them copied into the next run's segment, so the
store stays within about twice the window.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import xxhash

from dedup.arrays import Ragged
from dedup.kernels.sketch import PackedSketches
from dedup.store.atomic import check_file, file_digest, fsync_dir, new_digest

SEGMENTS = "segments"


@dataclass(slots=True)
class Segment:
    """Sketches and texts of some documents (row ``i``: document ``i``)."""

    sketches: PackedSketches
    texts: Ragged
    """UTF-8 bytes of each normalised text."""
    mappings: tuple[mmap.mmap, ...] = ()
    """The file mappings a written segment's arrays are views of (none for one in memory)."""

    def release_pages(self) -> None:
        """Unmap the pages of the segment's files that this process has read.

        They stay in the operating system's page cache and are mapped again
        on the next read (a minor fault, no disk read), but no longer count in
        the process's resident memory: scanning a large window's sketches
        would otherwise keep all of them resident until the run ends."""
        if not hasattr(mmap, "MADV_DONTNEED"):  # not on every platform: the pages then stay mapped
            return
        for mapping in self.mappings:
            mapping.madvise(mmap.MADV_DONTNEED)

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


MANIFEST = "manifest.json"


class SegmentWriter:
    """Writes a segment a chunk of documents at a time, so that the documents
    of a run never need to be in memory together: each array goes to its own
    raw file, and ``manifest.json`` (dtype, shape and checksum of each) is written last."""

    def __init__(self, root: Path, run: int, durable: bool) -> None:
        self.name = f"{run:06d}-{os.getpid()}-{time.monotonic_ns()}"
        self.directory = root / SEGMENTS / self.name
        self.directory.mkdir(parents=True)
        self._durable = durable
        self._files: dict[str, BinaryIO] = {}
        self._shapes: dict[str, list[int]] = {}
        self._dtypes: dict[str, str] = {}
        self._digests: dict[str, xxhash.xxh3_128] = {}
        self._ends: dict[str, int] = {}
        """Each offsets array's last value so far: later chunks' offsets continue from it."""
        self.documents = 0

    def append(self, segment: Segment) -> None:
        for key, values in _arrays(segment).items():
            if key.endswith(".offsets"):  # rebase, and drop the leading 0 of every chunk but the first
                start = self._ends.get(key)
                values = values if start is None else values[1:] + start
                self._ends[key] = int(values[-1]) if len(values) else self._ends.get(key, 0)
            if key not in self._files:
                self._files[key] = open(self.directory / f"{key}.bin", "wb")
                self._shapes[key] = [0, *values.shape[1:]]
                self._dtypes[key] = values.dtype.str
                self._digests[key] = new_digest()
            data = np.ascontiguousarray(values, dtype=self._dtypes[key]).reshape(-1).view(np.uint8)
            self._digests[key].update(data)
            self._files[key].write(data)  # not ndarray.tofile: it loses the OS error (a full disk) for a count of bytes
            self._shapes[key][0] += len(values)
        self.documents += len(segment)

    def close(self) -> str:
        """Finish the segment (fsynced when durable); returns its name."""
        for fh in self._files.values():
            fh.flush()
            if self._durable:
                os.fsync(fh.fileno())
            fh.close()
        manifest = {key: {"dtype": self._dtypes[key], "shape": shape, "xxh3_128": self._digests[key].hexdigest()} for key, shape in self._shapes.items()}
        (self.directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        if self._durable:  # the files, then their directory entries: a snapshot naming this segment must find it whole
            with open(self.directory / MANIFEST, "rb") as fh:
                os.fsync(fh.fileno())
            fsync_dir(self.directory)
            fsync_dir(self.directory.parent)
        return self.name


def _arrays(segment: Segment) -> dict[str, np.ndarray]:
    return segment.sketches.arrays() | {"texts.values": segment.texts.values, "texts.offsets": segment.texts.offsets}


def write_segment(root: Path, segment: Segment, run: int) -> str:
    """Write ``segment`` (fsynced) under ``root``; returns its name."""
    writer = SegmentWriter(root, run, durable=True)
    writer.append(segment)
    return writer.close()


def open_segment(root: Path, name: str) -> Segment:
    """A written segment, memory-mapped: rows are read from disk when used."""
    directory = root / SEGMENTS / name
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    arrays: dict[str, np.ndarray] = {}
    mappings = []
    for key, spec in manifest.items():
        if not math.prod(spec["shape"]):  # an empty file cannot be mapped
            arrays[key] = np.empty(spec["shape"], dtype=spec["dtype"])
            continue
        with open(directory / f"{key}.bin", "rb") as fh:
            mappings.append(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
        arrays[key] = np.frombuffer(mappings[-1], dtype=spec["dtype"], count=math.prod(spec["shape"])).reshape(spec["shape"])
    texts = Ragged(arrays.pop("texts.values"), arrays.pop("texts.offsets"))
    return Segment(PackedSketches.from_arrays(arrays), texts, tuple(mappings))


def manifest_digest(root: Path, name: str) -> str:
    """The checksum a state snapshot records for segment ``name``: its manifest's, which holds its files'."""
    return file_digest(root / SEGMENTS / name / MANIFEST)


def verify_segment(root: Path, name: str, digest: str) -> None:
    """Raise ``Damaged`` unless segment ``name`` is whole: its manifest has
    ``digest`` and each of its files the size and checksum written. Every
    byte is read, streaming, not mapped (the 100,000-document state's 835 MB
    take 0.24 s from the page cache, 0.9 s from disk)."""
    directory = root / SEGMENTS / name
    check_file(directory / MANIFEST, digest)
    for key, spec in json.loads((directory / MANIFEST).read_text(encoding="utf-8")).items():
        check_file(directory / f"{key}.bin", spec["xxh3_128"], math.prod(spec["shape"]) * np.dtype(spec["dtype"]).itemsize)


def remove_unused_segments(state_dir: Path, used: set[str]) -> None:
    """Delete the segments no snapshot uses (expired, or left by a killed run)."""
    for directory in (state_dir / SEGMENTS).glob("*"):
        if directory.name not in used:
            shutil.rmtree(directory, ignore_errors=True)
