"""The spark engine: kernels over batches on Spark executors, results in order.

Each batch is one Spark job of one task (``parallelize([batch], 1).map(kernel)``)
submitted from a driver thread; as many run at once as the cluster's default
parallelism, and the stage reads its items only two batches a core ahead, as
on the local engine. The kernels are the local engine's (module-level
functions, shipped by reference: the executors import ``dedup``), so both
engines give the same results. The driver keeps what a stage keeps between
batches (the state, the window, the candidate pairs): see README.md, "Past
one machine: Spark", for what runs where.

pyspark is imported here only, when ``runtime.engine`` is ``spark``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dedup.config import ConfigError, SparkConfig
from dedup.engine.batches import chunked, even_batch_size, in_order, in_threads

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

Item = TypeVar("Item")
Result = TypeVar("Result")

INSTALL_PYSPARK = "the spark engine needs pyspark: pip install 'newsdedup[spark]' (runtime.engine, --engine)"
EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError"
JVM_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")
"""The JVM options a session sets (``EXIT_ON_OOM``, before any of ``runtime.spark.conf``'s own for the same keys)."""
INSTALL_JAVA = "the spark engine needs Java 17 or later: install a JDK or JRE (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME (runtime.engine, --engine)"


@dataclass(frozen=True)
class SparkEngine:
    """``map_batches`` as Spark jobs of one task a batch; ``workers``: the context's default parallelism (its executor cores)."""

    session: SparkSession
    workers: int
    driver_memory: str
    name: str = "spark"

    def map_batches(
        self,
        kernel: Callable[[list[Item]], Result],
        items: Iterable[Item],
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
        total: int | None = None,
    ) -> Iterator[Result]:
        if total is None and isinstance(items, list):
            total = len(items)
        batches = chunked(iter(items), even_batch_size(total, batch_size, self.workers))
        on_executor = partial(_run_task, self.session.sparkContext, self.driver_memory, kernel)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="dedup-spark") as pool:
            yield from in_order(pool, on_executor, batches, 2 * self.workers, on_batch)

    def map_threads(self, fn: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        return in_threads(fn, items, self.workers)


class SparkStopped(ConfigError):
    """The Spark driver's JVM stopped during the run (exit 2, one line): most often out of heap."""


def _run_task(context: SparkContext, memory: str, kernel: Callable[[list[Item]], Result], batch: list[Item]) -> Result:
    """``kernel(batch)`` on an executor: one job of one partition holding the batch."""
    from py4j.protocol import Py4JNetworkError

    try:
        return context.parallelize([batch], 1).map(kernel).collect()[0]
    except (Py4JNetworkError, ConnectionError) as exc:  # the JVM is gone (a task's own failure is a Py4JJavaError, and goes on up)
        raise SparkStopped(
            f"the Spark driver's JVM stopped during the run ({type(exc).__name__}), most often out of heap: "
            f"give it more with runtime.spark.driver_memory (now {memory}) or a smaller runtime.chunk_docs; the previous report and state are whole"
        ) from None


def spark_engine(spark: SparkConfig) -> SparkEngine:
    """The engine over the session ``spark`` configures (or the one already running)."""
    session = spark_session(spark)
    return SparkEngine(session, max(1, session.sparkContext.defaultParallelism), session.sparkContext.getConf().get("spark.driver.memory", spark.driver_memory))


def spark_session(spark: SparkConfig) -> SparkSession:
    """A Spark session as ``spark`` says, or the one this process has already.

    The master is ``spark.master``, else the one spark-submit gave (it starts
    this process with ``PYSPARK_GATEWAY_PORT`` set), else ``local[*]``. With a
    local master the executors run this interpreter (``PYSPARK_PYTHON``,
    unless set), so they import the same ``dedup``. Raises ``ConfigError`` (exit 2, one line) when pyspark or Java is missing."""
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkRuntimeError
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(INSTALL_PYSPARK) from None
    if _java() is None:
        raise ConfigError(INSTALL_JAVA)
    master = spark.master or (None if "PYSPARK_GATEWAY_PORT" in os.environ else "local[*]")
    settings: dict[str, Any] = {
        "spark.driver.memory": spark.driver_memory,
        "spark.executor.memory": spark.executor_memory,
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        "spark.ui.showConsoleProgress": "false",
    }
    # a JVM out of heap otherwise lives on with dead threads and the run waits forever: it exits, and the run stops (SparkStopped)
    options = {key: " ".join(filter(None, [EXIT_ON_OOM, spark.conf.get(key, "")])) for key in JVM_OPTIONS}
    if master and master.startswith("local"):  # the executors' Python: this one (pyspark's RDD jobs read the variable, not spark.pyspark.python)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(spark.app_name)
    if master:
        builder = builder.master(master)
    for key, value in (settings | spark.conf | options).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Py4JJavaError as exc:  # the JVM started but the context did not (a heap too small for Spark, a bad option): Java says why
        raise ConfigError(f"Spark did not start: {str(exc.java_exception).splitlines()[0]} (runtime.spark.*)") from None
    except (PySparkRuntimeError, OSError) as exc:  # the JVM did not start (an old Java, no memory): pyspark says why on stderr
        raise ConfigError(f"Spark did not start ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); {INSTALL_JAVA}") from None
    session.sparkContext.setLogLevel("ERROR")
    if spark.checkpoint_dir:
        session.sparkContext.setCheckpointDir(spark.checkpoint_dir)
    return session


def _java() -> str | None:
    """The java that pyspark starts: ``$JAVA_HOME/bin/java``, else the first on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        return str(java) if java.exists() else None
    return shutil.which("java")
