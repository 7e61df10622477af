"""Progress bars for long stages (rich), silent when off or not on a terminal; each stage's wall time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        console = console or Console(stderr=True)
        self._bars = (
            RichProgress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False)
            if enabled and console.is_terminal
            else None
        )

    def __enter__(self) -> Progress:
        if self._bars:
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars:
            self._bars.stop()

    @contextmanager
    def task(self, name: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """A bar for one stage (``total`` None: not known ahead); yields ``advance(n)``."""
        if self._bars is None:
            yield lambda n: None
            return
        task_id = self._bars.add_task(name, total=total)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            self._bars.advance(task_id, n)  # type: ignore[union-attr]

        yield advance
        self._bars.update(task_id, total=done if total is None else total, completed=done if total is None else total)


SILENT = Progress(enabled=False)


@dataclass
class Timings:
    """Seconds per stage name (a stage run twice adds up), for run.json."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)
