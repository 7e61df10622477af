"""Crash-safe publication of a directory of files (reports, state).

A run writes its files into a fresh snapshot directory, fsyncs them, then
swaps the ``current`` symlink to it with one ``rename``, which is atomic on
POSIX file systems. Readers go through ``current`` (or the per-file links
next to it), so they see the previous snapshot whole or the new one whole,
never a mix; a run killed at any moment leaves the previous snapshot in place,
and the next run removes the debris.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

SNAPSHOTS = ".snapshots"
CURRENT = "current"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_snapshot(root: Path) -> Path | None:
    """The directory ``root/current`` points at, or None before the first publication."""
    link = root / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def publish(root: Path, write: Callable[[Path], None], linked_names: list[str] = ()) -> Path:  # type: ignore[assignment]
    """Write a new snapshot with ``write(directory)`` and make it current.

    Each name in ``linked_names`` also gets a stable link ``root/NAME ->
    current/NAME``, so users open ``root/documents.parquet`` directly.
    Returns the new snapshot directory.
    """
    snapshots = root / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    snapshot = snapshots / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    snapshot.mkdir()
    write(snapshot)
    for child in snapshot.iterdir():
        with open(child, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(snapshot)
    previous = current_snapshot(root)
    temp_link = root / f".{CURRENT}.{os.getpid()}.tmp"
    temp_link.unlink(missing_ok=True)
    temp_link.symlink_to(Path(SNAPSHOTS) / snapshot.name)
    os.replace(temp_link, root / CURRENT)
    for name in linked_names:
        link = root / name
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}"):
            temp = root / f".{name}.{os.getpid()}.tmp"
            temp.unlink(missing_ok=True)
            temp.symlink_to(f"{CURRENT}/{name}")
            os.replace(temp, link)
    fsync_dir(root)
    for old in snapshots.iterdir():
        if old != snapshot and old != previous:
            shutil.rmtree(old, ignore_errors=True)
    if previous is not None and previous != snapshot:
        shutil.rmtree(previous, ignore_errors=True)
    return snapshot
