"""Array helpers: each fast path gives what its plain numpy form gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays import distinct_indices


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=300), st.sampled_from([np.int32, np.int64]))
def test_distinct_indices_are_the_sorted_distinct_values(values: list[int], dtype: type) -> None:
    indices = np.array(values, dtype=dtype)
    found = distinct_indices(indices)
    assert found.dtype == np.int64 and found.tolist() == sorted(set(values))
