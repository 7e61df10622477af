"""The pair decision: is a candidate pair one story, one event, or neither?

Two calibrated logistic regressions over the same features of a pair
(each uses some of ``FEATURES``), learned from labelled feeds (``dedup train``;
``benchmarks/train_pair_model.py`` makes the packaged model from real text in
``../shared``):

- **story**: the two documents are one report and what outlets made of it
  (a rewrite, a spin, a summary, a same-day update);
- **event**: they are about the same happening, one story or not (another
  angle, another interviewee, the next development).

The story model weighs what tells a rewrite from another article on its
topic: how alike their words are, and how much more alike than each is to
its topic (the contrast); the event model adds the facts they share and the
time between them. A model is ``P(y = 1 | x) = 1 / (1 + exp(-(w . (x - mean) / scale + b)))``,
with ``mean`` and ``scale`` the training features' mean and standard
deviation (over the model's own features), and an unknown feature (NaN: the time between two documents when
one is undated) taken at its mean; a pair is an edge of a level when its probability reaches
``threshold`` (0.5 unless the file says otherwise). The file is JSON, small,
and names its features: a model asking for features this version does not
compute is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from dedup.config import ConfigError

FORMAT = 1
FEATURES = (
    "word_cosine",  # TF-IDF cosine of content words
    "fact_cosine",  # TF-IDF cosine of names and numbers
    "contrast",  # log of the pair's score over its documents' background levels: stands out from their topic
    "number_share",  # share of the smaller set of numbers found in the other (0 when either has none)
    "shared_numbers",  # log(1 + numbers in common): a rewrite carries its report's figures
    "name_share",  # share of the smaller set of names found in the other
    "shared_names",  # log(1 + names in common)
    "hours_apart",  # log(1 + hours between the publication times); NaN when either is undated
    "length_ratio",  # shorter document's words over the longer's
)
PACKAGED = "story_pairs.json"


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression over some of ``FEATURES``, standardised."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    intercept: float
    threshold: float = 0.5

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(one story, or one event) of pairs, from their ``FEATURES`` (a column each)."""
        mine = features[:, [FEATURES.index(name) for name in self.features]]
        standard = np.nan_to_num((mine - np.asarray(self.mean)) / np.asarray(self.scale))  # an unknown value (NaN) counts as the mean
        z = standard @ np.asarray(self.weights) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def decide(self, features: np.ndarray) -> np.ndarray:
        return self.probability(features) >= self.threshold


@dataclass(frozen=True)
class PairModel:
    story: LinearModel
    event: LinearModel
    trained_on: str
    """What the model was fitted on, in words (and the figures measured on held-out data)."""

    def to_json(self) -> str:
        body = {"format": FORMAT, "trained_on": self.trained_on, "story": asdict(self.story), "event": asdict(self.event)}
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @property
    def fingerprint(self) -> str:
        """Identifies the model: stored decisions are only kept under the same."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")


class ModelError(ConfigError):
    """A pair model file that cannot be used (named in the message)."""


def load_model(path: Path | None) -> PairModel:
    """The model in ``path``, or the packaged one when ``path`` is None."""
    where = str(path) if path is not None else f"the packaged {PACKAGED}"
    try:
        text = path.read_text(encoding="utf-8") if path is not None else files("dedup.models").joinpath(PACKAGED).read_text(encoding="utf-8")
        body = json.loads(text)
        used = {name for level in ("story", "event") for name in body[level]["features"]}
        if body.get("format") != FORMAT or not used <= set(FEATURES):
            raise ModelError(f"pair model {where} was made for other features or another format; train it again with `dedup train`")
        return PairModel(LinearModel(**body["story"]), LinearModel(**body["event"]), str(body.get("trained_on", "")))
    except KeyError as exc:
        raise ModelError(f"pair model {where} lacks the key {exc}; train it again with `dedup train`") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise ModelError(f"pair model {where} cannot be read: {exc}") from exc


def fit_linear(features: np.ndarray, labels: np.ndarray, names: tuple[str, ...] = FEATURES, balanced: bool = False, threshold: float = 0.5) -> LinearModel:
    """A logistic regression of ``labels`` (0/1) on the ``names`` columns of
    ``features`` (all of ``FEATURES``).

    Standardised features and a strong L2 penalty (C = 0.1: labelled feeds
    are small, and a weight learned from a few hundred pairs should not be
    trusted far beyond them). Unless ``balanced``, the probability is
    calibrated to the labelled pairs as they come, so a pair is decided yes
    when that is more likely than not among such candidates; ``balanced``
    weighs the two classes equally, which moves the boundary towards the
    rarer class (more yes when it is the positives)."""
    from sklearn.linear_model import LogisticRegression  # here: only training needs scikit-learn

    features = features[:, [FEATURES.index(name) for name in names]]
    known = np.maximum((~np.isnan(features)).sum(axis=0), 1)  # a feature no pair knows (every document undated) is 0 throughout
    mean = np.nansum(features, axis=0) / known
    scale = np.sqrt(np.nansum((features - mean) ** 2, axis=0) / known)
    scale = np.where(scale > 0, scale, 1.0)
    fitted = LogisticRegression(C=0.1, class_weight="balanced" if balanced else None, max_iter=1000).fit(np.nan_to_num((features - mean) / scale), labels)
    return LinearModel(
        features=list(names), mean=[round(float(v), 6) for v in mean], scale=[round(float(v), 6) for v in scale],
        weights=[round(float(v), 6) for v in fitted.coef_[0]], intercept=round(float(fitted.intercept_[0]), 6), threshold=threshold,
    )  # fmt: skip


def describe(model: PairModel) -> dict[str, Any]:
    """The weights by feature name, for people."""
    return {level: dict(zip(getattr(model, level).features, getattr(model, level).weights)) for level in ("story", "event")}
