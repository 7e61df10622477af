"""What every engine does with a stage's items: cut them into batches, and
give back the kernel's results in order while at most a few batches run ahead."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def even_batch_size(total: int | None, batch_size: int, workers: int) -> int:
    """``batch_size``, lowered so that ``total`` items make as many batches for
    each of ``workers`` (none waits for another's last batch): with
    ``rounds = ceil(total / (workers * batch_size))``, ``ceil(total / (workers * rounds))``;
    but not below ``batch_size / SMALLEST_SHARE``: a few items are not worth
    a worker of their own (starting one costs more than they do), so a stage
    with fewer than that runs them as one batch (in the local engine, in its own process)."""
    if workers <= 1 or not total:
        return batch_size
    rounds = -(-total // (workers * batch_size))
    return max(1, -(-total // (workers * rounds)), batch_size // SMALLEST_SHARE)


SMALLEST_SHARE = 10
"""A batch is lowered to even out the workers' shares down to this fraction of its size, no further."""


def chunked(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    """``items`` in lists of ``size`` (the last may be shorter), read only as each list is asked for."""
    while chunk := list(islice(items, size)):
        yield chunk


def in_order(pool: Executor, kernel: Callable[[list[Item]], Result], batches: Iterable[list[Item]], ahead: int, on_batch: Callable[[int], None] | None) -> Iterator[Result]:
    """``kernel(batch)`` of each batch, run on ``pool``, yielded in order as
    each is done; at most ``ahead`` batches are submitted and not yet yielded,
    so that ``batches`` (perhaps a generator) is read only that far ahead."""
    pending: deque[tuple[int, Future[Result]]] = deque()
    for batch in batches:
        pending.append((len(batch), pool.submit(kernel, batch)))
        del batch
        if len(pending) >= ahead:
            yield _result(pending.popleft(), on_batch)
    while pending:
        yield _result(pending.popleft(), on_batch)


def _result(entry: tuple[int, Future[Result]], on_batch: Callable[[int], None] | None) -> Result:
    size, future = entry
    result = future.result()
    if on_batch:
        on_batch(size)
    return result


def in_threads(fn: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """``[fn(item) for item in items]``, shared among ``workers`` threads of
    this process when there are several items (for kernels over memory this
    process holds whose work releases the GIL, as scipy's sparse products do)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
