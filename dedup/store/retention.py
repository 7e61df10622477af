"""Retention: the window a run clusters, the state's documents that are still recent plus the new ones.

A story leaves the window when its newest member is older than
``state.retention_days`` (``state.expired``).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.store.segments import Segment
from dedup.store.state import State, expired
from dedup.store.window import Window, assemble


def retained_window(
    state: State, kept: pl.DataFrame, new: pl.DataFrame, new_segment: Segment, new_rows: np.ndarray, config: Config, pair_model_fingerprint: str, now: datetime
) -> Window:
    """The window of the ``kept`` state documents still within retention and
    the ``new`` ones (rows ``new_rows`` of ``new_segment``), ranked. The state's earlier
    decisions are reused when they were made under the same settings."""
    newest = pl.concat([kept["published"], new["published"]]).max()
    kept = kept.filter(~expired(kept, config.state.retention_days, now, newest))
    segment_names = sorted(state.segments)
    kept = kept.with_columns(pl.col("segment").replace_strict({name: k for k, name in enumerate(segment_names)}, return_dtype=pl.Int64).alias("segment_index"))
    reuse = state.decision_settings == config.decision_settings(pair_model_fingerprint)
    return assemble(kept.drop("segment"), [state.segments[name] for name in segment_names], new, new_segment, new_rows, reuse, config.canonical)
