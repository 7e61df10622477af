"""row_dots: each pair's dot product, bit for bit what scipy's sparse product gives."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from dedup.kernels.row_dots import row_dots


def _scipy_dots(matrix: csr_matrix, pairs: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[pairs[:, 0]].multiply(matrix[pairs[:, 1]]).sum(axis=1), dtype=np.float32).ravel()


def _random_matrix(rng: np.random.Generator, rows: int, width: int) -> csr_matrix:
    """Rows of 0 to 400 entries (some empty, some sharing a narrow band of columns so that
    pairs share hundreds: numpy's pairwise summation then splits the sums), float32."""
    lengths = rng.integers(0, 400, rows)
    lengths[::9] = 0
    columns = [np.sort(rng.choice(500 if i % 2 else width, size=int(n), replace=False)) for i, n in enumerate(lengths)]
    data = rng.random(int(lengths.sum())).astype(np.float32)
    data[rng.random(len(data)) < 0.01] = 1e-30  # products of two underflow to zero: scipy drops them
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return csr_matrix((data, np.concatenate(columns).astype(np.int32), offsets), shape=(rows, width), dtype=np.float32)


def test_the_same_bits_as_scipy_for_grouped_and_scattered_pairs() -> None:
    rng = np.random.default_rng(3)
    matrix = _random_matrix(rng, 300, 1 << 16)
    scattered = rng.integers(0, 300, (5000, 2)).astype(np.int32)
    grouped = scattered[np.lexsort((scattered[:, 1], scattered[:, 0]))]
    for pairs in (scattered, grouped):
        expected, found = _scipy_dots(matrix, pairs), row_dots(matrix, pairs)
        assert np.array_equal(found.view(np.uint32), expected.view(np.uint32))
    assert (found > 0).sum() > 1000  # the pairs mostly share columns: the sums were tested


def test_a_row_with_itself_is_its_squared_norm_and_disjoint_rows_are_zero() -> None:
    matrix = csr_matrix((np.array([3, 4, 1, 2], dtype=np.float32), np.array([0, 5, 1, 2], dtype=np.int32), np.array([0, 2, 4, 4], dtype=np.int32)), shape=(3, 8))
    assert row_dots(matrix, np.array([[0, 0], [0, 1], [1, 1], [2, 0], [2, 2]])).tolist() == [25.0, 0.0, 5.0, 0.0, 0.0]
    assert row_dots(matrix, np.empty((0, 2), dtype=np.int32)).shape == (0,)


def test_a_matrix_out_of_order_is_summed_as_scipy_sums_it_and_left_as_given() -> None:
    columns = np.array([5, 0, 5, 1, 2], dtype=np.int32)  # row 0 unsorted with column 5 twice
    matrix = csr_matrix((np.array([1, 3, 2, 1, 2], dtype=np.float32), columns, np.array([0, 3, 5], dtype=np.int32)), shape=(2, 8))
    pairs = np.array([[0, 0], [0, 1]])
    assert row_dots(matrix, pairs).tolist() == _scipy_dots(matrix, pairs).tolist() == [18.0, 0.0]
    assert matrix.indices.tolist() == columns.tolist()


def test_rows_longer_than_the_first_table_and_columns_in_step_give_scipys_bits() -> None:
    rng = np.random.default_rng(5)
    width = 1 << 22
    lengths = [3000, 5, 2500, 0, 40, 3000]
    stepped = [np.arange(n, dtype=np.int64) * 1024 for n in lengths[:3]]  # columns in step: the same low bits
    drawn = [np.sort(rng.choice(4000, size=n, replace=False)) * 1024 for n in lengths[3:]]
    data = rng.random(sum(lengths)).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    matrix = csr_matrix((data, np.concatenate(stepped + drawn).astype(np.int32), offsets), shape=(len(lengths), width), dtype=np.float32)
    pairs = np.array([(i, j) for i in range(len(lengths)) for j in range(len(lengths))])  # long rows first, then short ones, then long again
    assert np.array_equal(row_dots(matrix, pairs).view(np.uint32), _scipy_dots(matrix, pairs).view(np.uint32))
