"""The local engine: kernels over batches on this machine's worker processes, results in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def iter_chunks(
    fn: Callable[[list[Item]], Result],
    items: Iterable[Item],
    chunk_size: int,
    workers: int,
    on_chunk: Callable[[int], None] | None = None,
    total: int | None = None,
) -> Iterator[Result]:
    """``fn(chunk)`` for each chunk of ``items`` in order, over ``workers``
    processes, each result as it arrives (so a caller can store it and let it go).

    ``items`` may be a generator: it is read only as chunks are sent, at most
    two per worker ahead, so its items need not all be in memory. Chunks hold
    at most ``chunk_size`` items, evened out over the workers when the number
    of items is known (``total``, or ``len(items)``). ``fn`` must be picklable
    (a module-level function or a ``functools.partial`` of one). With one
    worker, or one chunk, it runs in this process. ``on_chunk(len(chunk))`` is called as each
    chunk's result arrives, in order.
    """
    if total is None and isinstance(items, list):
        total = len(items)
    if workers > 1 and total:  # as many chunks per worker, so that none waits for another's last chunk
        rounds = -(-total // (workers * chunk_size))
        chunk_size = max(1, -(-total // (workers * rounds)))
    chunks = _chunked(iter(items), chunk_size)
    ahead = list(islice(chunks, 2))
    chunks = chain(ahead, chunks)
    if workers <= 1 or len(ahead) < 2:  # one chunk: not worth starting processes
        for chunk in chunks:
            result = fn(chunk)
            if on_chunk:
                on_chunk(len(chunk))
            yield result
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[Result]]] = deque()
        for chunk in chunks:
            pending.append((len(chunk), pool.submit(fn, chunk)))
            del chunk
            if len(pending) >= 2 * workers:
                yield _collect(pending.popleft(), on_chunk)
        while pending:
            yield _collect(pending.popleft(), on_chunk)


@dataclass(frozen=True)
class LocalEngine:
    """``map_batches`` over ``workers`` processes (``iter_chunks``); one worker, or one batch, runs in this process."""

    workers: int
    name: str = "local"

    def map_batches(
        self,
        kernel: Callable[[list[Item]], Result],
        items: Iterable[Item],
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
        total: int | None = None,
    ) -> Iterator[Result]:
        return iter_chunks(kernel, items, batch_size, self.workers, on_batch, total)


def _chunked(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _collect(entry: tuple[int, Future[Result]], on_chunk: Callable[[int], None] | None) -> Result:
    size, future = entry
    result = future.result()
    if on_chunk:
        on_chunk(size)
    return result
