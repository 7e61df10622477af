"""Engines: what runs the kernels over a feed (``base.Engine``). ``local`` runs them in processes and threads on one machine, ``spark`` on Spark executors."""

from __future__ import annotations

from dedup.config import RuntimeConfig
from dedup.engine.base import Engine
from dedup.engine.local import LocalEngine


def make_engine(runtime: RuntimeConfig) -> Engine:
    """The engine ``runtime`` asks for, with its workers."""
    if runtime.engine == "spark":
        from dedup.engine.spark import spark_engine  # pyspark is imported only here: the local engine never does

        return spark_engine(runtime.spark)
    return LocalEngine(runtime.parallelism())
