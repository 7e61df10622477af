"""Stories and events: the seeds' rewrites are one story and one event, with
margin on every decision threshold and across incremental batches; the pair
model is the packaged one unless the config names another."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from corpus import SEEDS, run, wikiref, write_jsonl

from dedup.config import load_config
from dedup.kernels.pair_model import FEATURES, PACKAGED, ModelError, load_model


def _seed_feed(feed: Path) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        (feed / path.name).parent.mkdir(parents=True, exist_ok=True)
        (feed / path.name).write_bytes(path.read_bytes())


def _one_story_and_event(documents: pl.DataFrame) -> bool:
    return documents["cluster_id"].n_unique() == 1 and documents["event_id"].n_unique() == 1


def test_seeds_are_one_story_and_one_event(tmp_path: Path) -> None:
    _seed_feed(tmp_path / "feed")
    documents = run(tmp_path / "feed", tmp_path / "out")
    assert documents.height == 5 and _one_story_and_event(documents)
    events = pl.read_parquet(tmp_path / "out" / "events.parquet")
    assert events.height == 1 and events["stories"].to_list() == [1] and events["documents"].to_list() == [5]
    assert events["cluster_ids"].to_list() == [[documents["cluster_id"][0]]]


THRESHOLDS = ["near_copy.threshold", "near_copy.containment", "paraphrase.min_score", "story.min_link_fraction", "event.min_link_fraction"]


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_seeds_stay_one_story_when_any_threshold_moves_ten_percent(tmp_path: Path, factor: float) -> None:
    _seed_feed(tmp_path / "feed")
    defaults = load_config()
    for key in THRESHOLDS:
        section, option = key.split(".")
        moved = min(getattr(getattr(defaults, section), option) * factor, 1.0)
        documents = run(tmp_path / "feed", tmp_path / f"out-{key}", load_config(None, {key: moved}))
        assert documents["cluster_id"].n_unique() == 1, f"{key} = {moved}"
    # the story model's own threshold, through a model file
    body = json.loads(load_model(None).to_json())
    body["story"]["threshold"] *= factor
    moved_model = tmp_path / "moved.json"
    moved_model.write_text(json.dumps(body), encoding="utf-8")
    documents = run(tmp_path / "feed", tmp_path / "out-model", load_config(None, {"paraphrase.model": str(moved_model)}))
    assert documents["cluster_id"].n_unique() == 1


@pytest.mark.parametrize("max_candidates", [None, 1])
def test_rewrites_arriving_in_three_batches_give_the_stories_and_events_of_one_run(tmp_path: Path, max_candidates: int | None) -> None:
    """Also when each document's candidates are cut to its one most alike
    (``paraphrase.max_candidates``): an incremental run scores every candidate
    of a document it decides a pair of, so the cut falls where it falls in one
    run. (There the seeds are three stories, and the story the first batch
    made of two of them keeps its id on the side of its later members: the
    same partition, other ids.)"""
    config = load_config(None, {} if max_candidates is None else {"paraphrase.max_candidates": max_candidates})
    seeds = sorted(SEEDS.glob("*.txt"))
    batches = [seeds[:2], seeds[2:4], seeds[4:]]
    for b, batch in enumerate(batches):
        for path in batch:
            target = tmp_path / "all" / f"batch{b}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    once = run(tmp_path / "all", tmp_path / "out-once", config)
    feed = tmp_path / "growing"
    for b, batch in enumerate(batches):
        for path in batch:
            write_target = feed / f"batch{b}" / path.name
            write_target.parent.mkdir(parents=True, exist_ok=True)
            write_target.write_bytes(path.read_bytes())
        batched = run(feed, tmp_path / "out-batched", config, state_dir=tmp_path / "state")
    for column in ("cluster_id", "event_id"):
        assert _partition(batched, column) == _partition(once, column)
        if max_candidates is None:
            assert dict(zip(batched["doc_id"], batched[column])) == dict(zip(once["doc_id"], once[column]))
    if max_candidates is None:
        assert _one_story_and_event(once)
    else:
        assert len(_partition(once, "cluster_id")) > 1  # the cut did change the stories


def _partition(documents: pl.DataFrame, column: str) -> list[list[str]]:
    """The groups of doc ids ``column`` makes, whatever their ids."""
    return sorted(sorted(group) for group in documents.group_by(column).agg("doc_id")["doc_id"].to_list())


def test_a_model_file_of_other_features_is_refused_by_name(tmp_path: Path) -> None:
    body = json.loads(load_model(None).to_json())
    body["story"]["features"] = ["headline_rhyme"]
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(ModelError, match="model.json"):
        load_model(bad)
    assert PACKAGED.endswith(".json")


def test_the_story_model_weighs_its_features_as_a_logistic_regression() -> None:
    model = load_model(None)
    features = np.zeros((2, len(FEATURES)))
    word, contrast = FEATURES.index("word_cosine"), FEATURES.index("contrast")
    features[0, [word, contrast]] = [0.2, 0.0]  # another article on the topic: few shared words, alike to everything else
    features[1, [word, contrast]] = [0.45, 2.5]  # a rewrite: more shared words, and it stands out from the topic
    probability = model.story.probability(features)
    assert probability[0] < 0.5 < probability[1]
    z = (features[:, [word, contrast]] - model.story.mean) / model.story.scale @ np.array(model.story.weights) + model.story.intercept
    assert np.allclose(probability, 1 / (1 + np.exp(-z)))


def test_a_model_fitted_without_equal_class_weights_is_calibrated_and_says_yes_less() -> None:
    from dedup.kernels.pair_model import fit_linear

    rng = np.random.default_rng(5)
    features = rng.normal(size=(400, len(FEATURES)))
    labels = (features[:, 0] + rng.normal(scale=1.5, size=400) > 1.6).astype(int)  # few positives, overlapping the negatives
    as_they_come, balanced = fit_linear(features, labels, FEATURES, balanced=False), fit_linear(features, labels, FEATURES, balanced=True)
    # equal weights move the boundary towards the rare positives: more pairs called yes
    assert as_they_come.decide(features).sum() < balanced.decide(features).sum()
    assert abs(as_they_come.probability(features).mean() - labels.mean()) < 0.02  # calibrated: the mean probability is the positives' share


def test_dedup_train_fits_a_model_that_a_run_then_uses(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dedup.cli import app

    feed, labels = tmp_path / "feed", tmp_path / "labels.csv"
    _seed_feed(feed / "seeds")
    topics = {"malaysia.airlines": "mh370", "michelle.obama": "obama", "ParisAttacks": "paris"}
    background = {doc_id: event for name, event in topics.items() for doc_id in [d for d in wikiref() if name in d][:12]}
    write_jsonl(feed / "background.jsonl", [{"id": doc_id, "text": wikiref()[doc_id]} for doc_id in background])
    rows = [(f"seeds/{path.name}", "seeds", "scale-ai") for path in sorted(SEEDS.glob("*.txt"))] + [(d, d, event) for d, event in background.items()]
    pl.DataFrame(rows, schema=["doc_id", "cluster", "event"], orient="row").write_csv(labels)
    result = CliRunner().invoke(app, ["train", str(feed), "--labels", str(labels), "--out", str(tmp_path / "model.json")])
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "model.json")
    assert model.story.features and model.event.features
    documents = run(feed, tmp_path / "out", load_config(None, {"paraphrase.model": str(tmp_path / "model.json")}))
    assert documents.height == pl.read_csv(labels).height


@pytest.mark.parametrize("body", [None, '{"format": 1}', "not json"])
def test_a_run_with_a_missing_or_broken_model_file_exits_2_with_one_line(tmp_path: Path, body: str | None) -> None:
    from typer.testing import CliRunner

    from dedup.cli import app

    model = tmp_path / "model.json"
    if body is not None:
        model.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(tmp_path / "out"), "--set", f"paraphrase.model={model}"])
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and str(model) in error[0] and "Traceback" not in result.output
