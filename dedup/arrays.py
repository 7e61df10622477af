"""Array helpers the stages share."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by sorting: ``np.unique`` gives the same, but
    numpy 2's hash-based path for it is many times slower on large integer
    arrays with few repeats (shingles, pair codes)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
