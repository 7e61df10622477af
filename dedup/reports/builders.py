"""The reports of a run, built and published: one builder per report, registered by file name (schemas in ``dedup.schema``, columns in docs/reports.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dedup.records import Rejection
from dedup.reports.clusters import clusters_report
from dedup.reports.events import events_frame
from dedup.reports.html import write_report_html
from dedup.reports.variants import variants_report
from dedup.schema import DOCUMENTS_SCHEMA, REJECTED_SCHEMA
from dedup.store.atomic import publish, write_parquet


@dataclass
class Reports:
    documents: pl.DataFrame
    clusters: pl.DataFrame
    events: pl.DataFrame
    variants: pl.DataFrame
    rejected: pl.DataFrame
    diffs: pl.DataFrame
    """Not a report: the variants' diffs with their keys, for the state (``DIFFS_SCHEMA``)."""
    canonical_texts: dict[str, str] = field(default_factory=dict)
    """The cleaned texts of the canonicals report.html shows (by doc_id): the Parquet reports keep no texts."""


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
    clusters = clusters_report(documents_frame, reasons, previous_canonicals)
    return Reports(
        documents=documents_frame,
        clusters=clusters,
        events=events_frame(clusters),
        variants=variants_report(frame, diffs),
        rejected=rejected_report(rejections),
        diffs=diffs,
    )


def rejected_report(rejections: list[Rejection]) -> pl.DataFrame:
    """rejected.parquet: every input not clustered, with its file, record (line or item) and reason."""
    return pl.DataFrame(
        {"path": [r.path for r in rejections], "record": [r.record for r in rejections], "reason": [r.reason for r in rejections]},
        schema=REJECTED_SCHEMA,
    )


def _parquet(name: str) -> Callable[[Path, Reports, dict[str, Any]], None]:
    def write(path: Path, reports: Reports, run_info: dict[str, Any]) -> None:
        write_parquet(getattr(reports, name), path)

    return write


def _run_json(path: Path, reports: Reports, run_info: dict[str, Any]) -> None:
    path.write_text(json.dumps(run_info, indent=2, default=str) + "\n", encoding="utf-8")


WRITERS: dict[str, Callable[[Path, Reports, dict[str, Any]], None]] = {
    "documents.parquet": _parquet("documents"),
    "clusters.parquet": _parquet("clusters"),
    "events.parquet": _parquet("events"),
    "variants.parquet": _parquet("variants"),
    "rejected.parquet": _parquet("rejected"),
    "run.json": _run_json,
    "report.html": write_report_html,
}
"""Each report file and what writes it, in the order they are written."""
REPORT_FILES = list(WRITERS)


def write_reports(reports: Reports, out_dir: Path, run_info: dict[str, Any]) -> Path:
    """Publish the reports atomically under ``out_dir``; returns the snapshot directory."""

    def write(directory: Path) -> None:
        for name, writer in WRITERS.items():
            writer(directory / name, reports, run_info)

    return publish(out_dir, write, REPORT_FILES)
