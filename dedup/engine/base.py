"""The engine contract: what a stage asks of whatever runs its kernels.

A stage hands the engine a kernel (a picklable function of one batch of
items) and the items; the engine runs the kernel over batches, wherever it
runs them, and gives back each batch's result in order. Kernels see their
batch and their own config section only, so an engine can ship them to
processes (``local``) or executors without the kernels knowing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Engine(Protocol):
    name: str
    workers: int
    """How many batches run at once; a stage also gives this many threads to the kernels that share memory (sparse products)."""

    def map_batches(
        self,
        kernel: Callable[[list[Item]], Result],
        items: Iterable[Item],
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
        total: int | None = None,
    ) -> Iterator[Result]:
        """``kernel(batch)`` for each batch of at most ``batch_size`` of
        ``items``, in order, each result as it arrives; ``on_batch(len(batch))``
        as each arrives. ``items`` may be a generator, read only as batches are
        sent; ``total`` (their number, when known) lets the engine even out the batches."""
        ...

    def map_threads(self, fn: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """``[fn(item) for item in items]`` on this process's threads (``workers``
        of them): for kernels over memory the driver holds, whose work releases the GIL."""
        ...
