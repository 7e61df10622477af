"""Evaluate: predicted story clusters against gold labels.

Pairwise precision/recall/F1 count pairs of documents placed together;
B-cubed averages, per document, the precision and recall of its cluster; the
adjusted Rand index (scikit-learn) is 0 for chance and 1 for a perfect match.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix


class EvaluationError(ValueError):
    """Reports or labels that cannot be scored; the one-line message names the file."""


def _first_line(exc: Exception) -> str:
    """polars' messages run to several lines of hints: the first says what is wrong."""
    return str(exc).strip().splitlines()[0]


def _pairs(counts: np.ndarray) -> float:
    return float((counts * (counts - 1) // 2).sum())


def score_partition(gold: list[str], predicted: list[str]) -> dict[str, float]:
    """Scores of ``predicted`` labels against ``gold`` labels, document by document."""
    # sparse: a million documents make a table of a million rows and columns, nearly all empty
    table = contingency_matrix(gold, predicted, sparse=True).astype(np.int64)
    cells = table.data
    gold_sizes = np.asarray(table.sum(axis=1)).ravel()
    predicted_sizes = np.asarray(table.sum(axis=0)).ravel()
    together = _pairs(cells)
    predicted_pairs = _pairs(predicted_sizes)
    gold_pairs = _pairs(gold_sizes)
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    # B-cubed: each document in cell (g, p) has precision n_gp / |p| and recall n_gp / |g|
    coo = table.tocoo()
    n = int(cells.sum())
    b3_precision = float((coo.data**2 / predicted_sizes[coo.col]).sum() / n)
    b3_recall = float((coo.data**2 / gold_sizes[coo.row]).sum() / n)
    return {
        "documents": int(n),
        "gold_clusters": int(table.shape[0]),
        "predicted_clusters": int(table.shape[1]),
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "bcubed_precision": b3_precision,
        "bcubed_recall": b3_recall,
        "bcubed_f1": 2 * b3_precision * b3_recall / (b3_precision + b3_recall),
        "adjusted_rand_index": float(adjusted_rand_score(gold, predicted)),
    }


def evaluate_reports(report_dir: Path, labels: Path) -> dict[str, float]:
    """Score ``report_dir/documents.parquet`` against a ``doc_id,cluster`` CSV.

    Every labelled document must be in the report (a document the run
    rejected counts as a miss, so it raises); report documents without a
    label are left out and counted.
    """
    documents_path = report_dir / "documents.parquet"
    if not documents_path.exists():
        raise EvaluationError(f"{documents_path}: not found (run `dedup run` first)")
    try:
        gold = pl.read_csv(labels, schema_overrides={"doc_id": pl.String, "cluster": pl.String})
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise EvaluationError(f"{labels}: cannot read labels: {_first_line(exc)}") from exc
    missing_columns = {"doc_id", "cluster"} - set(gold.columns)
    if missing_columns:
        raise EvaluationError(f"{labels}: missing column(s) {', '.join(sorted(missing_columns))}")
    try:
        predicted = pl.read_parquet(documents_path, columns=["doc_id", "cluster_id"])
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise EvaluationError(f"{documents_path}: cannot read the report: {_first_line(exc)}") from exc
    joined = gold.join(predicted, on="doc_id", how="left")
    absent = joined.filter(pl.col("cluster_id").is_null())
    if absent.height:
        raise EvaluationError(f"{labels}: {absent.height} labelled doc_id(s) not in the report, e.g. {absent['doc_id'][0]!r}")
    scores = score_partition(joined["cluster"].to_list(), joined["cluster_id"].to_list())
    return scores | {"unlabelled_documents": predicted.height - joined.height}
