"""Order-preserving map of a function over chunks of a list, on worker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_chunks(
    fn: Callable[[list[Item]], Result],
    items: list[Item],
    chunk_size: int,
    workers: int,
    on_chunk: Callable[[int], None] | None = None,
) -> list[Result]:
    """``list(iter_chunks(...))``."""
    return list(iter_chunks(fn, items, chunk_size, workers, on_chunk))


def iter_chunks(
    fn: Callable[[list[Item]], Result],
    items: list[Item],
    chunk_size: int,
    workers: int,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[Result]:
    """``fn(chunk)`` for each chunk of items in order, over ``workers`` processes,
    each result as it arrives (so a caller can store it and let it go).

    Chunks hold at most ``chunk_size`` items, evened out over the workers.
    ``fn`` must be picklable (a module-level function or a ``functools.partial``
    of one). With one worker or one chunk it runs in this process.
    ``on_chunk(len(chunk))`` is called as each chunk's result arrives, in order.
    """
    if workers > 1:  # as many chunks per worker, so that none waits for another's last chunk
        rounds = -(-len(items) // (workers * chunk_size))
        chunk_size = max(1, -(-len(items) // (workers * rounds))) if items else chunk_size
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk, result in zip(chunks, pool.map(fn, chunks)):
                if on_chunk:
                    on_chunk(len(chunk))
                yield result
        return
    for chunk in chunks:
        result = fn(chunk)
        if on_chunk:
            on_chunk(len(chunk))
        yield result
