"""Test corpus helpers: the committed wikiref220 articles and feed builders."""

from __future__ import annotations

import gzip
import json
import shutil
from functools import cache
from pathlib import Path

import polars as pl

from dedup.config import Config, load_config
from dedup.pipeline import run_job
from dedup.progress import SILENT

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).parent.parent / "seeds"


@cache
def wikiref() -> dict[str, str]:
    """doc id -> text of the 220 wikiref articles."""
    with gzip.open(FIXTURES / "wikiref220.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return {row["id"]: row["text"] for row in rows}


def topic(doc_id: str) -> list[str]:
    return sorted(k for k in wikiref() if k.startswith(f"wikiref/{doc_id}"))


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def copy_seeds(feed: Path) -> None:
    shutil.copytree(SEEDS, feed / "seeds")


def run(feed: Path, out: Path, config: Config | None = None, **kwargs) -> pl.DataFrame:
    """Run the job; return documents.parquet."""
    run_job(feed, out, config or load_config(), SILENT, **kwargs)
    return pl.read_parquet(out / "documents.parquet")


def clusters_of(documents: pl.DataFrame) -> dict[str, str]:
    return dict(zip(documents["doc_id"].to_list(), documents["cluster_id"].to_list()))
