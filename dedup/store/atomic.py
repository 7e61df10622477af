"""Crash-safe publication of a directory of files (reports, state).

A run writes its files into a fresh snapshot directory, fsyncs them, then
swaps the ``current`` symlink to it with one ``rename``, which is atomic on
POSIX file systems. Readers go through ``current`` (or the per-file links
next to it), so they see the previous snapshot whole or the new one whole,
never a mix; a run killed at any moment leaves the previous snapshot in place,
and the next run removes the debris. A run that fails (a full disk) removes
its unfinished snapshot at once.

Files are checksummed when written (``file_digest``, xxh3-128) so that a
reader can tell a damaged file from the one written (``check_file``).

Temporary directories under ``TMPDIR`` (``scratch_directory``) are claimed
with a lock their run holds until it ends; the next run removes those whose
run is gone.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import xxhash

SNAPSHOTS = ".snapshots"
CURRENT = "current"
OWNER = ".owner"
"""The lock file of a scratch directory, held by its run."""
_READ_BYTES = 256 << 10
"""Checksums are taken a block at a time: one that stays in the CPU's cache reads 835 MB in 0.22 s, against 0.37 s for 8 MB blocks."""


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


def new_digest() -> xxhash.xxh3_128:
    """The checksum files are written with: ``update`` it with their bytes as they are written."""
    return xxhash.xxh3_128()


def file_digest(path: Path) -> str:
    """The checksum of a file's bytes, read a block at a time (files may be GBs)."""
    digest = new_digest()
    buffer = bytearray(_READ_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while read := fh.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


class Damaged(Exception):
    """A published file is missing, unreadable, or not what was written."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def check_file(path: Path, digest: str, size: int | None = None) -> None:
    """Raise Damaged unless ``path`` has the checksum ``digest`` (and ``size`` bytes, when given)."""
    try:
        found = path.stat().st_size
        if size is not None and found != size:
            raise Damaged(path, f"{found} bytes, {size} written")
        if file_digest(path) != digest:
            raise Damaged(path, "checksum differs from the one written")
    except FileNotFoundError:
        raise Damaged(path, "missing") from None
    except OSError as exc:
        raise Damaged(path, f"unreadable: {exc.strerror or exc}") from None


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk or quota: an
    OSError, or a polars error, which carries only the OS's message."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in codes:
            return True
        if any(f"(os error {code})" in str(exc) for code in codes):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _Sink(io.RawIOBase):
    """A file that keeps the OS error of a failed write."""

    def __init__(self, file: io.BufferedWriter) -> None:
        self.file, self.error = file, None

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = exc
            raise


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """``frame.write_parquet(path)``, except that a failed write raises the
    OS error (ENOSPC for a full disk): polars' own error may not say which
    ("Invalid thrift: transport error")."""
    with open(path, "wb") as file:
        sink = _Sink(file)
        try:
            frame.write_parquet(sink)
        except Exception:
            if sink.error is None:
                raise
            raise sink.error from None


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
    try:
        write(snapshot)
        for child in snapshot.iterdir():
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(snapshot)
    except BaseException:  # the space goes back now: on a full disk, the next run needs it
        shutil.rmtree(snapshot, ignore_errors=True)
        raise
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


@contextmanager
def scratch_directory(kind: str) -> Iterator[Path]:
    """A new directory ``TMPDIR/dedup-KIND-*``, removed on exit. A killed run
    cannot remove its own, so first the ones no live run holds are removed."""
    prefix = f"dedup-{kind}-"
    _remove_abandoned(Path(tempfile.gettempdir()), prefix)
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    owner = _claim(directory)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        os.close(owner)


def _claim(directory: Path) -> int:
    """Lock a file in ``directory`` for as long as this process (or a worker
    it forked) lives. It is locked before it takes its name, so a directory
    with an unlocked ``OWNER`` has lost its run."""
    claiming = directory / f"{OWNER}.claiming"
    fd = os.open(claiming, os.O_CREAT | os.O_WRONLY, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(claiming, directory / OWNER)
    return fd


def _remove_abandoned(root: Path, prefix: str) -> None:
    for directory in root.glob(f"{prefix}*"):
        try:
            fd = os.open(directory / OWNER, os.O_RDONLY)
        except OSError:  # not claimed yet, or not ours
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its run is alive
            continue
        else:
            shutil.rmtree(directory, ignore_errors=True)
        finally:
            os.close(fd)
