"""Reports: the run's results as Parquet frames (schemas in docs/reports.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from dedup.kernels.diff import VariantDiff
from dedup.records import Rejection
from dedup.reports.html import write_report_html
from dedup.schema import (
    CHANGED,
    CLUSTERS_SCHEMA,
    DIFF_COLUMNS,
    DIFF_KEY_SCHEMA,
    DIFFS_SCHEMA,
    DOCUMENTS_SCHEMA,
    EVENTS_SCHEMA,
    REJECTED_SCHEMA,
    VARIANTS_SCHEMA,
)
from dedup.store.atomic import publish, write_parquet

REPORT_FILES = ["documents.parquet", "clusters.parquet", "events.parquet", "variants.parquet", "rejected.parquet", "run.json", "report.html"]



def diffs_frame(keys: list[tuple[str, int, str, int]], diffs: list[VariantDiff]) -> pl.DataFrame:
    """A ``DIFFS_SCHEMA`` frame of variants' keys and their diffs.

    The nested columns are built from flat ones (``_nest``): polars makes a
    list column from nested Python lists element by element, about ten
    times slower, which made this the costliest step of the diff stage."""
    columns: dict[str, Any] = {name: [key[k] for key in keys] for k, name in enumerate(DIFF_KEY_SCHEMA)}
    columns["summary"] = [d["summary"] for d in diffs]
    columns["sentences_same"] = [d["sentences_same"] for d in diffs]
    for name in ("sentences_added", "sentences_removed", "facts_added", "facts_removed"):
        columns[name] = _nest_strings(name, [d[name] for d in diffs])  # type: ignore[literal-required]
    changes = [change for d in diffs for change in d["sentences_changed"]]
    changed = pl.DataFrame(
        {
            name: _nest_strings(name, [c[name] for c in changes]) if dtype == pl.List(pl.String) else pl.Series(name, [c[name] for c in changes], dtype=dtype)  # type: ignore[literal-required]
            for name, dtype in CHANGED.to_schema().items()
        }
    ).to_struct("sentences_changed")
    columns["sentences_changed"] = _nest(len(diffs), [i for i, d in enumerate(diffs) for _ in d["sentences_changed"]], changed)
    return pl.DataFrame(columns, schema=DIFFS_SCHEMA)


def _nest_strings(name: str, rows: list[list[str]]) -> pl.Series:
    """``pl.Series(name, rows, dtype=pl.List(pl.String))``, by ``_nest``."""
    return _nest(len(rows), [i for i, row in enumerate(rows) for _ in row], pl.Series(name, list(chain.from_iterable(rows)), dtype=pl.String))


def _nest(n: int, rows: list[int], values: pl.Series) -> pl.Series:
    """A list column of ``n`` rows: row ``i`` holds, in order, the ``values`` whose entry in ``rows`` is ``i``."""
    grouped = pl.DataFrame({"_row": pl.Series(rows, dtype=pl.Int64), values.name: values}).group_by("_row", maintain_order=True).agg(values.name)
    every = pl.DataFrame({"_row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    nested = every.join(grouped, on="_row", how="left", maintain_order="left")[values.name]
    return nested.fill_null(pl.lit([], dtype=pl.List(values.dtype)))


@dataclass
class Reports:
    documents: pl.DataFrame
    clusters: pl.DataFrame
    events: pl.DataFrame
    variants: pl.DataFrame
    rejected: pl.DataFrame
    diffs: pl.DataFrame
    """Not a report: the variants' diffs with their keys, for the state (``DIFFS_SCHEMA``)."""


def make_reports(
    documents: pl.DataFrame,
    results: dict[str, Any],
    diffs: pl.DataFrame,
    reasons: dict[str, str],
    rejections: list[Rejection],
    previous_canonicals: dict[str, str],
) -> Reports:
    """The report frames. ``documents`` (most preferred first) holds the
    documents' fields; ``results`` a value per document for each of
    ``cluster_id``, ``group_id``, ``is_canonical``, ``canonical_doc_id``,
    ``match``, ``jaccard``, ``containment`` and ``paraphrase_score``;
    ``diffs`` (``DIFFS_SCHEMA``) a row per variant; ``reasons`` each cluster's
    canonical reason."""
    columns = [pl.Series(name, values, dtype=DOCUMENTS_SCHEMA.get(name, pl.String)) for name, values in results.items()]
    frame = documents.with_columns(columns)
    documents_frame = frame.select(list(DOCUMENTS_SCHEMA))
    variants = frame.filter(~pl.col("is_canonical")).select([name for name in VARIANTS_SCHEMA if name not in DIFF_COLUMNS])
    if diffs["doc_id"].equals(variants["doc_id"]):  # in the variants' order (no earlier diffs reused): beside them, not a copy
        variants = variants.hstack(diffs.select(DIFF_COLUMNS))
    else:
        variants = variants.join(diffs.select("doc_id", *DIFF_COLUMNS), on="doc_id", how="left", maintain_order="left")
    variants_frame = variants.select(list(VARIANTS_SCHEMA))
    clusters = (
        documents_frame.with_row_index("rank")
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
    clusters = clusters.cast(CLUSTERS_SCHEMA)  # type: ignore[arg-type]
    return Reports(
        documents=documents_frame,
        clusters=clusters,
        events=events_frame(clusters),
        variants=variants_frame,
        rejected=pl.DataFrame(
            {"path": [r.path for r in rejections], "record": [r.record for r in rejections], "reason": [r.reason for r in rejections]},
            schema=REJECTED_SCHEMA,
        ),
        diffs=diffs,
    )


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


def write_reports(reports: Reports, out_dir: Path, run_info: dict[str, Any]) -> Path:
    """Publish the reports atomically under ``out_dir``; returns the snapshot directory."""

    def write(directory: Path) -> None:
        write_parquet(reports.documents, directory / "documents.parquet")
        write_parquet(reports.clusters, directory / "clusters.parquet")
        write_parquet(reports.events, directory / "events.parquet")
        write_parquet(reports.variants, directory / "variants.parquet")
        write_parquet(reports.rejected, directory / "rejected.parquet")
        (directory / "run.json").write_text(json.dumps(run_info, indent=2, default=str) + "\n", encoding="utf-8")
        write_report_html(directory / "report.html", reports, run_info)

    return publish(out_dir, write, REPORT_FILES)
