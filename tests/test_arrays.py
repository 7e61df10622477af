"""Array helpers: each fast path gives what its plain numpy form gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays import Ragged, distinct_indices, first_occurrences
from dedup.kernels.lsh import Buckets, distinct_pairs, pairs_not_in
from dedup.kernels.verify import set_similarities


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=300), st.sampled_from([np.int32, np.int64]))
def test_distinct_indices_are_the_sorted_distinct_values(values: list[int], dtype: type) -> None:
    indices = np.array(values, dtype=dtype)
    found = distinct_indices(indices)
    assert found.dtype == np.int64 and found.tolist() == sorted(set(values))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=3000))
def test_first_occurrences_number_the_distinct_values_in_order_of_appearance(values: list[int]) -> None:
    spread = np.array(values, dtype=np.uint64) * np.uint64(0x100000001)  # values that differ only above the low 32 bits too
    group, first = first_occurrences(spread)
    seen = list(dict.fromkeys(spread.tolist()))
    assert first.tolist() == [spread.tolist().index(v) for v in seen]
    assert group.tolist() == [seen.index(v) for v in spread.tolist()]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 99), max_size=6), min_size=1, max_size=12), st.data())
def test_ragged_take_gathers_the_rows_in_the_order_asked(rows: list[list[int]], data: st.DataObject) -> None:
    ragged = Ragged.of([np.array(row, dtype=np.int64) for row in rows], np.int64)
    asked = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=20))
    taken = ragged.take(np.array(asked, dtype=np.int64))
    assert [taken.row(k).tolist() for k in range(len(asked))] == [rows[i] for i in asked]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40), st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40))
def test_pairs_not_in_leaves_out_exactly_the_known_pairs(asked: list[tuple[int, int]], known: list[tuple[int, int]]) -> None:
    n = 31
    pairs = np.array(asked, dtype=np.int32).reshape(-1, 2)
    kept = pairs_not_in(pairs, distinct_pairs(np.array(known, dtype=np.int32).reshape(-1, 2), n), n)
    assert [tuple(p) for p in kept.tolist()] == [p for p in asked if p not in set(known)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=6, max_size=6), min_size=1, max_size=12), st.integers(1, 4))
def test_pairs_sharing_a_number_of_bands_are_those_a_count_of_every_band_gives(rows: list[list[int]], times: int) -> None:
    keys = np.array(rows, dtype=np.uint64)  # six bands, few distinct keys: many shared buckets
    found = Buckets(keys, max_bucket=len(rows), min_shared_bands=times).pairs()
    shared = {(i, j): int((keys[i] == keys[j]).sum()) for i in range(len(rows)) for j in range(i + 1, len(rows))}
    assert [tuple(p) for p in found.tolist()] == sorted(pair for pair, count in shared.items() if count >= times)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sets(st.integers(0, 40), max_size=12), min_size=1, max_size=6), st.lists(st.sets(st.integers(0, 40), max_size=12), min_size=1, max_size=6), st.data())
def test_set_similarities_are_those_of_python_sets(first: list[set[int]], second: list[set[int]], data: st.DataObject) -> None:
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(first) - 1), st.integers(0, len(second) - 1)), max_size=10))
    as_ragged = [Ragged.of([np.array(sorted(row), dtype=np.uint32) for row in rows], np.uint32) for rows in (first, second)]
    jaccard, containment, smaller = set_similarities(*as_ragged, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    for k, (i, j) in enumerate(pairs):
        a, b = first[i], second[j]
        assert smaller[k] == min(len(a), len(b))
        assert jaccard[k] == (len(a & b) / len(a | b) if a and b else 0.0)
        assert containment[k] == (len(a & b) / min(len(a), len(b)) if a and b else 0.0)
