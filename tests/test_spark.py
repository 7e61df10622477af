"""The spark engine (issue #16): the same reports as the local engine, with
and without a state; connected components and capped band buckets on
DataFrames against the local references; one-line errors without pyspark or
Java. One local[2] session a test process (module fixture), its tests one
xdist group (``shared_session``): one worker and one JVM run them."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from corpus import FIXTURES, SEEDS, wikiref, write_jsonl
from typer.testing import CliRunner

from dedup.cli import EXIT_USAGE, app
from dedup.config import Config, ConfigError, load_config
from dedup.engine import make_engine
from dedup.engine.spark import INSTALL_JAVA, INSTALL_PYSPARK, _java
from dedup.kernels.lsh import candidate_pairs
from dedup.pipeline import run_job
from dedup.progress import SILENT

SPARK = {
    "runtime.engine": "spark", "runtime.spark.master": "local[2]", "runtime.spark.shuffle_partitions": 2,
    "runtime.spark.conf": {"spark.ui.enabled": "false", "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC", "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"},
}  # fmt: skip
"""A test's JVM is short-lived and its data tiny: C1 only, no whole-stage code generation or adaptive replanning (both cost more than they save here)."""
shared_session = pytest.mark.xdist_group("spark")
"""The tests of the module's session: one worker runs them all, one JVM, not one a worker (the others run anywhere)."""
_compare = importlib.util.spec_from_file_location("compare_reports", Path(__file__).parent.parent / "benchmarks" / "compare_reports.py")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    if _java() is None:
        pytest.skip("no Java on this machine: the spark engine needs Java 17+")
    return make_engine(load_config(None, SPARK).runtime).session  # not stopped: a later module's getOrCreate takes it up


def _error_line(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_USAGE, result.output
    [line] = result.output.strip().splitlines()[-1:]
    assert "Traceback" not in result.output
    return line


def test_without_pyspark_or_java_a_spark_run_exits_2_with_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import pyspark.sql raises ImportError
    assert _error_line(["run", str(SEEDS), "--out", str(tmp_path / "r"), "--engine", "spark"]) == f"error: {INSTALL_PYSPARK}"
    monkeypatch.delitem(sys.modules, "pyspark.sql")
    pytest.importorskip("pyspark", reason="pyspark is not installed: the Java check comes after it")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(ConfigError, match="Java 17"):
        make_engine(load_config(None, SPARK).runtime)
    assert INSTALL_JAVA.startswith("the spark engine needs Java 17")


def test_the_local_engine_never_imports_pyspark(tmp_path: Path) -> None:
    code = f"import sys; from dedup.cli import app; sys.argv = ['dedup', 'run', {str(SEEDS)!r}, '--out', {str(tmp_path / 'r')!r}]\n"
    code += "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\nassert not [m for m in sys.modules if m.startswith(('pyspark', 'py4j'))]"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_a_driver_out_of_heap_stops_the_run_with_one_line_instead_of_hanging(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    if _java() is None:
        pytest.skip("no Java on this machine: the spark engine needs Java 17+")
    # a kernel whose results (200 MB each) cannot all be held in a 512 MB heap; its own JVM, in a child process
    (tmp_path / "huge.py").write_text("def results(batch):\n    return [b'x' * (200 << 20) for _ in batch]\n")
    code = (
        "from dedup.config import load_config\nfrom dedup.engine import make_engine\nfrom dedup.engine.spark import SparkStopped\nfrom huge import results\n"
        "config = load_config(None, {'runtime.engine': 'spark', 'runtime.spark.master': 'local[2]', 'runtime.spark.driver_memory': '512m', "
        "'runtime.spark.conf': {'spark.ui.enabled': 'false', 'spark.driver.extraJavaOptions': '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'}})\n"
        "try:\n    list(make_engine(config.runtime).map_batches(results, list(range(6)), 2))\nexcept SparkStopped as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=600)
    assert "the Spark driver's JVM stopped during the run" in done.stdout and "runtime.spark.driver_memory (now 512m)" in done.stdout, done.stderr[-2000:]


def _feed(feed: Path, part: int) -> None:
    """Part 1: seeds, the bad feed (rejections) and wikiref articles with copies; part 2 adds copies of part 1's and new articles."""
    articles = sorted(wikiref().items())
    if part == 1:
        shutil.copytree(SEEDS, feed / "seeds")
        shutil.copytree(FIXTURES / "bad_feed", feed / "bad", symlinks=True)
    fresh = articles[(part - 1) * 20 : part * 20]
    records = [{"id": i, "text": t, "published": f"2014-03-1{part}T08:00:00Z"} for i, t in fresh]
    records += [{"id": f"{i}/copy", "text": t[: len(t) // 2], "published": f"2014-03-1{part}T09:00:00Z"} for i, t in articles[::25]]
    write_jsonl(feed / f"{part}.jsonl", records)


def _differences(a: Path, b: Path) -> list[tuple[str, str | None]]:
    """compare_reports.compare, run.json compared without the runtime section (the engine)."""
    module = importlib.util.module_from_spec(_compare)
    _compare.loader.exec_module(module)
    found = [(name, diff) for name, diff in module.compare(a, b) if diff is not None and name != "run.json"]
    infos = [json.loads((d / "run.json").read_text()) for d in (a, b)]
    for info in infos:
        del info["config"]["runtime"], info["timings_seconds"], info["versions"]
    return found + ([("run.json", "differs")] if infos[0] != infos[1] else [])


@shared_session
def test_spark_and_local_runs_give_the_same_reports_with_a_state(spark, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    engines: dict[str, Config] = {
        "local": load_config(None, {"runtime.workers": 2, "runtime.chunk_docs": 16}),
        "spark": load_config(None, SPARK | {"runtime.chunk_docs": 16}),  # several batches a stage: their order is kept
    }
    for part in (1, 2):
        _feed(feed, part)
        for name, config in engines.items():
            run_job(feed, tmp_path / f"out-{name}", config, SILENT, state_dir=tmp_path / f"state-{name}")
        assert _differences(tmp_path / "out-local", tmp_path / "out-spark") == []
    info = json.loads((tmp_path / "out-spark" / "run.json").read_text())
    assert info["run"] == 2 and info["config"]["runtime"]["engine"] == "spark" and info["counts"]["rejected"] > 0


def _union_find(edges: list[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in parent}


@shared_session
def test_connected_components_are_those_of_union_find(spark, tmp_path: Path) -> None:
    from dedup.engine.components import connected_components

    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
    rng = random.Random(7)
    chain = [(i, i + 1) for i in range(16)]  # a min-label propagation would need a round an edge
    stars = [(100, 100 + k) for k in range(1, 12)] + [(200 + k, 200) for k in range(1, 12)]  # centre smallest, centre largest
    two = [(1000, 1003), (1003, 1001), (1001, 1001), (1003, 1000), (2005, 2002), (2002, 2002)]  # self-loops and repeats
    shuffled_chain = rng.sample([(3000 + b, 3000 + a) for a, b in chain], len(chain))
    random_graph = [(rng.randrange(5000, 5080), rng.randrange(5000, 5080)) for _ in range(60)]
    edges = chain + stars + two + shuffled_chain + random_graph
    found = connected_components(spark.createDataFrame(edges, "src long, dst long")).collect()
    assert {row.node: row.component for row in found} == _union_find(edges)
    assert len(found) == len(_union_find(edges))


@shared_session
def test_band_pairs_equal_the_local_buckets_and_a_skewed_bucket_costs_its_size(spark) -> None:
    from dedup.engine.components import band_pairs

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 40, size=(300, 4)).astype(np.uint64)  # buckets of about 7 rows, some over the cap
    rows = [(doc, band, int(keys[doc, band])) for doc in range(300) for band in range(4)]
    found = band_pairs(spark.createDataFrame(rows, "doc long, band int, key long"), max_bucket=5).orderBy("low", "high").collect()
    assert [(r.low, r.high) for r in found] == [tuple(p) for p in candidate_pairs(keys, 5).tolist()]
    skewed = spark.range(100_000).selectExpr("id as doc", "0 as band", "42L as key")  # boilerplate shared by 100k documents
    assert band_pairs(skewed, max_bucket=100).count() == 100 * 99 // 2 + (100_000 - 100)
