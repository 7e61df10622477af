"""run.json: what a run read, found and took, with its effective config and the versions it ran on."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from dedup.config import Config
from dedup.progress import Timings
from dedup.reports import builders as report


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("newsdedup", "datasketch", "polars", "numpy", "scikit-learn", "xxhash", "trafilatura", "wordfreq"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def summarise(
    reports: report.Reports, feed_dir: Path, files: int, files_read: int, timings: Timings, config: Config, run: int
) -> dict[str, Any]:
    """run.json: effective config, counts, timings per stage, versions."""
    documents, rejected, clusters = reports.documents.height, reports.rejected.height, reports.clusters.height
    return {
        "run": run,
        "feed_dir": str(feed_dir.resolve()),
        "config": config.model_dump(mode="json"),
        "counts": {
            "files": files,
            "files_read": files_read,
            "inputs": documents + rejected,
            "documents": documents,
            "rejected": rejected,
            "clusters": clusters,
            "duplicates": documents - clusters,
            "duplicate_rate": round((documents - clusters) / documents, 4) if documents else 0.0,
            "matches": dict(sorted(reports.documents.group_by("match").len().iter_rows())),
            "canonical_changed": int(reports.clusters["canonical_changed"].sum()),
        },
        "timings_seconds": timings.seconds | {"total": round(sum(timings.seconds.values()), 4)},
        "versions": versions(),
    }
