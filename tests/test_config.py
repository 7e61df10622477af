"""Configuration: YAML validated with the key's path; the documented defaults match the code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dedup.cli import app
from dedup.config import MAX_WORKERS_PER_CORE, Config, ConfigError, RuntimeConfig, config_yaml, load_config

REPO = Path(__file__).parent.parent


def test_default_yaml_documents_every_option_with_the_code_defaults() -> None:
    text = (REPO / "configs" / "default.yaml").read_text(encoding="utf-8")
    assert text == config_yaml(Config(), commented=True)
    assert load_config(REPO / "configs" / "default.yaml") == Config()


def test_unknown_key_is_rejected_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("near_copy:\n  treshold: 0.6\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: near_copy\.treshold: unknown key"):
        load_config(path)


def test_wrong_type_and_range_are_rejected_with_path_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("paraphrase:\n  enabled: maybe\nnear_copy:\n  threshold: 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "paraphrase.enabled: Input should be a valid boolean" in str(err.value)
    assert "near_copy.threshold: Input should be less than 1" in str(err.value)
    assert "\n" not in str(err.value)  # one line, errors joined


def test_canonical_order_must_end_in_a_total_order() -> None:
    with pytest.raises(ConfigError, match="canonical.order: .*doc_id"):
        load_config(overrides={"canonical.order": ["earliest_published"]})


def test_cli_flags_and_set_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("near_copy:\n  threshold: 0.6\n")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path), "--set", "story.window_hours=24"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["near_copy"]["threshold"] == 0.6
    assert shown["story"]["window_hours"] == 24


def test_invalid_config_stops_the_run_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("ingest: [1, 2]\n")
    result = CliRunner().invoke(app, ["run", str(REPO / "seeds"), "--out", str(tmp_path / "r"), "--config", str(path)])
    assert result.exit_code == 2
    assert "bad.yaml: ingest: Input should be a valid dictionary" in result.output
    assert not (tmp_path / "r").exists()


def test_workers_are_capped_at_a_few_per_core() -> None:
    cores = len(os.sched_getaffinity(0))
    assert load_config(overrides={"runtime.workers": 100_000}).runtime.parallelism() == MAX_WORKERS_PER_CORE * cores
    assert RuntimeConfig(workers=1).parallelism() == 1
    assert RuntimeConfig().parallelism() == cores
