"""`dedup evaluate`: pairwise, B-cubed and ARI scores against gold labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import SEEDS
from typer.testing import CliRunner

from dedup.cli import app
from dedup.evaluate import score_partition


def test_perfect_and_merged_partitions() -> None:
    perfect = score_partition(list("aabbc"), list("xxyyz"))
    assert perfect["pairwise_f1"] == perfect["bcubed_f1"] == perfect["adjusted_rand_index"] == 1.0
    merged = score_partition(list("aabbc"), list("xxxxx"))
    assert merged["pairwise_precision"] == pytest.approx(2 / 10)
    assert merged["pairwise_recall"] == 1.0
    assert merged["bcubed_precision"] == pytest.approx((2 * 2 * 2 / 5 + 1 / 5) / 5)
    assert merged["adjusted_rand_index"] == pytest.approx(0.0)


def test_cli_scores_a_report_as_table_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "r")]).exit_code == 0
    labels = tmp_path / "labels.csv"
    names = sorted(p.name for p in SEEDS.iterdir())
    labels.write_text("doc_id,cluster\n" + "".join(f"{n},{'story' if i < 4 else 'other'}\n" for i, n in enumerate(names)))
    result = runner.invoke(app, ["evaluate", str(tmp_path / "r"), "--labels", str(labels), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["pairwise_recall"] == 1.0
    assert scores["pairwise_precision"] == pytest.approx(6 / 10)
    assert "adjusted_rand_index" in result.output


def test_a_labelled_document_missing_from_the_report_is_an_error(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "r")])
    labels = tmp_path / "labels.csv"
    labels.write_text("doc_id,cluster\nnot-there,x\n")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "r"), "--labels", str(labels)])
    assert result.exit_code == 2
    assert "not-there" in result.output
