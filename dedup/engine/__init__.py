"""Engines: what runs the kernels over a feed (``base.Engine``). ``local`` runs them in processes and threads on one machine."""

from __future__ import annotations

from dedup.config import RuntimeConfig
from dedup.engine.base import Engine
from dedup.engine.local import LocalEngine


def make_engine(runtime: RuntimeConfig) -> Engine:
    """The engine ``runtime`` asks for, with its workers."""
    return LocalEngine(runtime.parallelism())
