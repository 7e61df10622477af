"""clusters.parquet: one row per story, with its canonical and why, and whether the canonical changed since the last run."""

from __future__ import annotations

import polars as pl

from dedup.schema import CLUSTERS_SCHEMA


def clusters_report(documents: pl.DataFrame, reasons: dict[str, str], previous_canonicals: dict[str, str]) -> pl.DataFrame:
    """The stories of ``documents`` (documents.parquet's frame, most preferred
    first), in the order of their first member, with each story's canonical
    ``reasons`` and the ``previous_canonicals`` (by story id) it may have changed from."""
    clusters = (
        documents.with_row_index("rank")
        .group_by("cluster_id")
        .agg(
            pl.col("doc_id").filter(pl.col("is_canonical")).first().alias("canonical_doc_id"),
            pl.col("event_id").first(),
            pl.len().cast(pl.Int64).alias("size"),
            pl.col("group_id").n_unique().cast(pl.Int64).alias("near_copy_groups"),
            pl.col("source").drop_nulls().unique().sort().alias("sources"),
            pl.col("published").min().alias("first_published"),
            pl.col("published").max().alias("last_published"),
            pl.col("title").filter(pl.col("is_canonical")).first().alias("title"),
            pl.col("rank").min().alias("first_rank"),
        )
        .sort("first_rank")
    )
    clusters = clusters.with_columns(
        pl.col("cluster_id").replace_strict(reasons, return_dtype=pl.String).alias("canonical_reason"),
        pl.col("cluster_id").replace_strict(previous_canonicals, default=None, return_dtype=pl.String).alias("previous_canonical_doc_id"),
    )
    clusters = clusters.with_columns(
        (pl.col("previous_canonical_doc_id").is_not_null() & (pl.col("previous_canonical_doc_id") != pl.col("canonical_doc_id"))).alias("canonical_changed")
    ).select(list(CLUSTERS_SCHEMA))
    return clusters.cast(CLUSTERS_SCHEMA)  # type: ignore[arg-type]
