"""variants.parquet: each variant's match and scores against its story's canonical, and its diff; and the diffs' frame the state keeps."""

from __future__ import annotations

from itertools import chain
from typing import Any

import polars as pl

from dedup.kernels.diff import VariantDiff
from dedup.schema import CHANGED, DIFF_COLUMNS, DIFF_KEY_SCHEMA, DIFFS_SCHEMA, VARIANTS_SCHEMA


def variants_report(documents: pl.DataFrame, diffs: pl.DataFrame) -> pl.DataFrame:
    """The variants (documents, with their results, that are not their story's canonical) and their ``diffs`` (``DIFFS_SCHEMA``)."""
    variants = documents.filter(~pl.col("is_canonical")).select([name for name in VARIANTS_SCHEMA if name not in DIFF_COLUMNS])
    if diffs["doc_id"].equals(variants["doc_id"]):  # in the variants' order (no earlier diffs reused): beside them, not a copy
        variants = variants.hstack(diffs.select(DIFF_COLUMNS))
    else:
        variants = variants.join(diffs.select("doc_id", *DIFF_COLUMNS), on="doc_id", how="left", maintain_order="left")
    return variants.select(list(VARIANTS_SCHEMA))


def diffs_frame(keys: list[tuple[str, int, str, int]], diffs: list[VariantDiff]) -> pl.DataFrame:
    """A ``DIFFS_SCHEMA`` frame of variants' keys and their diffs.

    The nested columns are built from flat ones (``_nest``): polars makes a
    list column from nested Python lists element by element, about ten
    times slower, which made this the costliest step of the diff stage."""
    columns: dict[str, Any] = {name: [key[k] for key in keys] for k, name in enumerate(DIFF_KEY_SCHEMA)}
    columns["summary"] = [d["summary"] for d in diffs]
    columns["sentences_same"] = [d["sentences_same"] for d in diffs]
    for name in ("sentences_added", "sentences_removed", "facts_added", "facts_removed"):
        columns[name] = _nest_strings(name, [d[name] for d in diffs])  # type: ignore[literal-required]
    changes = [change for d in diffs for change in d["sentences_changed"]]
    changed = pl.DataFrame(
        {
            name: _nest_strings(name, [c[name] for c in changes]) if dtype == pl.List(pl.String) else pl.Series(name, [c[name] for c in changes], dtype=dtype)  # type: ignore[literal-required]
            for name, dtype in CHANGED.to_schema().items()
        }
    ).to_struct("sentences_changed")
    columns["sentences_changed"] = _nest(len(diffs), [i for i, d in enumerate(diffs) for _ in d["sentences_changed"]], changed)
    return pl.DataFrame(columns, schema=DIFFS_SCHEMA)


def _nest_strings(name: str, rows: list[list[str]]) -> pl.Series:
    """``pl.Series(name, rows, dtype=pl.List(pl.String))``, by ``_nest``."""
    return _nest(len(rows), [i for i, row in enumerate(rows) for _ in row], pl.Series(name, list(chain.from_iterable(rows)), dtype=pl.String))


def _nest(n: int, rows: list[int], values: pl.Series) -> pl.Series:
    """A list column of ``n`` rows: row ``i`` holds, in order, the ``values`` whose entry in ``rows`` is ``i``."""
    grouped = pl.DataFrame({"_row": pl.Series(rows, dtype=pl.Int64), values.name: values}).group_by("_row", maintain_order=True).agg(values.name)
    every = pl.DataFrame({"_row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    nested = every.join(grouped, on="_row", how="left", maintain_order="left")[values.name]
    return nested.fill_null(pl.lit([], dtype=pl.List(values.dtype)))
