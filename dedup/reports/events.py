"""events.parquet: one row per event, from its stories."""

from __future__ import annotations

import polars as pl

from dedup.schema import EVENTS_SCHEMA

EVENT_LABEL_TITLES = 3
"""An event's label: the headlines of its largest stories' canonicals, this many at most."""


def events_frame(clusters: pl.DataFrame) -> pl.DataFrame:
    """events.parquet: one row per event, from its stories (``clusters``, in
    rank order), labelled with its largest stories' canonical headlines."""
    events = (
        clusters.with_row_index("rank")
        .group_by("event_id")
        .agg(
            pl.len().cast(pl.Int64).alias("stories"),
            pl.col("size").sum().cast(pl.Int64).alias("documents"),
            pl.col("first_published").min(),
            pl.col("last_published").max(),
            pl.col("title").sort_by([pl.col("size"), pl.col("rank")], descending=[True, False]).drop_nulls().head(EVENT_LABEL_TITLES).alias("titles"),
            pl.col("cluster_id").sort_by("rank").alias("cluster_ids"),
            pl.col("rank").min().alias("first_rank"),
        )
        .sort("first_rank")
    )
    return events.with_columns(pl.col("titles").list.join(" | ").alias("label")).select(list(EVENTS_SCHEMA)).cast(EVENTS_SCHEMA)  # type: ignore[arg-type]
