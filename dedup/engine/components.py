"""Graph steps on Spark DataFrames, for feeds past one machine: connected
components and LSH band-bucket pairs, computed by joins and aggregations on
the executors; neither the graph nor the buckets are collected to the driver.

Connected components: the alternating large-star / small-star algorithm of
Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected
Components in MapReduce and Beyond" (SoCC 2014). With Γ(u) the neighbours
of u and m(S) the smallest id in S:

- large-star: for every node u, each neighbour v > u is linked to
  m(Γ(u) ∪ {u}) instead of u;
- small-star: for every node u, u and each neighbour v < u are linked to
  m({v ∈ Γ(u) : v < u} ∪ {u}).

Both keep each component connected and only lower the ids nodes point to;
alternated, they end (in O(log² n) rounds, in practice a handful) with a star
per component, each node linked to its component's smallest id. The rounds
stop when the edges form such stars: every linked node has one parent and no
parent has one. Every few rounds the edges are checkpointed, so that the
query plan of round k does not hold rounds 1..k-1.

Band buckets: documents sharing a band's key are candidates, as in
``dedup.kernels.lsh.Buckets``, with its cap: a bucket of more than
``max_bucket`` members gives the pairs of its first ``max_bucket`` members
(by id) and each later member with the first, so a boilerplate bucket of n
members costs n pairs, not n²/2, and no join on its key (see ``band_pairs``).

Imports pyspark: only the spark engine and its tests import this module.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

CHECKPOINT_EVERY = 2
"""Rounds of large-star and small-star between checkpoints of the edges."""
MAX_ROUNDS = 100
"""Rounds after which ``connected_components`` gives up (the algorithm needs O(log² n): 100 is never reached but for a bug)."""


def connected_components(edges: DataFrame, checkpoint_every: int = CHECKPOINT_EVERY) -> DataFrame:
    """``(node, component)`` for every node of ``edges`` (integer columns
    ``src``, ``dst``; undirected, repeats and self-loops allowed): its
    component's smallest node id, the same whatever the order of the edges or
    the partitioning (deterministic). Checkpoints go to the SparkContext's
    checkpoint directory when it has one, else are local (on the executors)."""
    nodes = edges.select(F.col("src").alias("node")).union(edges.select(F.col("dst").alias("node"))).distinct()
    linked = edges.where(F.col("src") != F.col("dst")).select(_link(F.greatest("src", "dst"), F.least("src", "dst"))).distinct().persist()
    for round_ in range(1, MAX_ROUNDS + 1):
        previous = linked
        linked = _small_star(_large_star(linked))
        linked = _checkpointed(linked) if round_ % checkpoint_every == 0 else linked.persist()
        done = _is_star_forest(linked)  # computes the new edges (one job), before the old ones are let go
        previous.unpersist()
        if done:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    stars = linked.select(F.col("child").alias("node"), F.col("parent").alias("component"))
    return nodes.join(stars, "node", "left").select("node", F.coalesce("component", "node").alias("component"))


def _link(child: Column, parent: Column) -> list[Column]:
    """An edge as the algorithm keeps it: ``child`` > ``parent``."""
    return [child.alias("child"), parent.alias("parent")]


def _large_star(linked: DataFrame) -> DataFrame:
    """Each node's larger neighbours linked to the smallest of its closed
    neighbourhood (a window over each node's edges: one shuffle, and a hub's
    edges are one sorted, spillable partition rather than a join's build side)."""
    both = linked.select(F.col("child").alias("u"), F.col("parent").alias("v")).union(linked.select(F.col("parent").alias("u"), F.col("child").alias("v")))
    with_smallest = both.select("u", "v", F.min("v").over(Window.partitionBy("u")).alias("m"))
    return with_smallest.where(F.col("v") > F.col("u")).select(_link(F.col("v"), F.least("m", "u"))).distinct()


def _small_star(linked: DataFrame) -> DataFrame:
    """Each node and its smaller neighbours linked to the smallest of them."""
    with_smallest = linked.select("child", "parent", F.min("parent").over(Window.partitionBy("child")).alias("m"))
    others = with_smallest.where(F.col("parent") != F.col("m")).select(_link(F.col("parent"), F.col("m")))
    return others.union(with_smallest.select(_link(F.col("child"), F.col("m")))).distinct()


def _is_star_forest(linked: DataFrame) -> bool:
    """Whether every linked node has one parent and no parent is linked to
    another: then each star is a component, its centre the smallest id. One
    aggregation over each id's roles (times a child, whether a parent)."""
    roles = linked.select(F.col("child").alias("id"), F.lit(1).alias("as_child"), F.lit(0).alias("as_parent"))
    roles = roles.union(linked.select(F.col("parent").alias("id"), F.lit(0), F.lit(1)))
    counted = roles.groupBy("id").agg(F.sum("as_child").alias("as_child"), F.max("as_parent").alias("as_parent"))
    return counted.where((F.col("as_child") > 1) | ((F.col("as_child") > 0) & (F.col("as_parent") > 0))).isEmpty()


def _checkpointed(frame: DataFrame) -> DataFrame:
    """``frame`` computed and its lineage cut: in the checkpoint directory, else on the executors.

    A checkpoint to the directory writes what a second job computes again, unless
    the first kept it: ``frame`` is cached for the two jobs, then let go."""
    if not frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.localCheckpoint(eager=True)
    cached = frame.persist()
    checkpointed = cached.checkpoint(eager=True)
    cached.unpersist()
    return checkpointed


def band_pairs(keys: DataFrame, max_bucket: int) -> DataFrame:
    """Distinct pairs ``(low, high)``, ``low < high``, of documents sharing a
    bucket of ``keys`` (columns ``doc``, ``band``, ``key``: a document's
    band key, one row per document and band), a bucket of more than
    ``max_bucket`` members capped as ``dedup.kernels.lsh.Buckets`` caps it.

    One window over each bucket, ordered by ``doc``, gives each member its
    rank and the bucket's first member; members ranked past ``max_bucket``
    pair with the first with no join, and only the first ``max_bucket`` of a
    bucket meet in the self-join. A skewed bucket (boilerplate shared by 100k
    documents) is thus one sorted, spillable partition of the window and n
    pairs, never a join of n rows with n rows."""
    bucket = Window.partitionBy("band", "key").orderBy("doc")
    ranked = keys.select("doc", "band", "key", F.row_number().over(bucket).alias("rank"), F.min("doc").over(bucket).alias("first"))
    heads = ranked.where(F.col("rank") <= max_bucket)
    a, b = heads.alias("a"), heads.alias("b")
    same_bucket = (F.col("a.band") == F.col("b.band")) & (F.col("a.key") == F.col("b.key")) & (F.col("a.rank") < F.col("b.rank"))
    within = a.join(b, same_bucket).select(F.col("a.doc").alias("low"), F.col("b.doc").alias("high"))
    tails = ranked.where(F.col("rank") > max_bucket).select(F.col("first").alias("low"), F.col("doc").alias("high"))
    return within.union(tails).distinct()
