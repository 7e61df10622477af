"""The local engine: kernels over batches on this machine's worker processes, results in order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from typing import TypeVar

from dedup.engine.batches import chunked, even_batch_size, in_order, in_threads

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
    chunks = chunked(iter(items), even_batch_size(total, chunk_size, workers))
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
        yield from in_order(pool, fn, chunks, 2 * workers, on_chunk)


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

    def map_threads(self, fn: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        return in_threads(fn, items, self.workers)
