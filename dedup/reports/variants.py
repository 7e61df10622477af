"""variants.parquet: each variant's match and scores against its story's canonical, and its diff; and the diffs' frame the state keeps."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
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


@dataclass(frozen=True)
class DiffColumns:
    """Diffs as flat columns, made where the diffs are made (a worker): the
    process that gathers them loads flat lists of strings and numbers several
    times faster than a dict a diff and a dict a changed sentence, and lays
    them into a frame with no Python loop over the changes (``diffs_frame``)."""

    values: dict[str, list[Any]]
    """Each column's values, those of its rows one after another (a changed sentence's fields: ``sentences_changed.<field>``)."""
    lengths: dict[str, list[int]]
    """For a list column, how many values each of its rows holds."""

    @property
    def rows(self) -> int:
        """How many diffs."""
        return len(self.values["summary"])


_LIST_COLUMNS = ("sentences_added", "sentences_removed", "facts_added", "facts_removed")
_CHANGED_FIELDS = {field.name: field.dtype for field in CHANGED.fields}
_CHANGED_LISTS = {name for name, dtype in _CHANGED_FIELDS.items() if dtype == pl.List(pl.String)}


def diff_columns(diffs: list[VariantDiff]) -> DiffColumns:
    """``diffs`` as flat columns (no polars: it runs in the workers, forked processes)."""
    values: dict[str, list[Any]] = {"summary": [d["summary"] for d in diffs], "sentences_same": [d["sentences_same"] for d in diffs]}
    lengths: dict[str, list[int]] = {}

    def flat(name: str, rows: list[list[str]]) -> None:
        values[name], lengths[name] = list(chain.from_iterable(rows)), [len(row) for row in rows]

    for name in _LIST_COLUMNS:
        flat(name, [d[name] for d in diffs])  # type: ignore[literal-required]
    changes = [change for d in diffs for change in d["sentences_changed"]]
    lengths["sentences_changed"] = [len(d["sentences_changed"]) for d in diffs]
    for field in _CHANGED_FIELDS:
        if field in _CHANGED_LISTS:
            flat(f"sentences_changed.{field}", [c[field] for c in changes])  # type: ignore[literal-required]
        else:
            values[f"sentences_changed.{field}"] = [c[field] for c in changes]  # type: ignore[literal-required]
    return DiffColumns(values, lengths)


def diffs_frame(keys: list[tuple[str, int, str, int]], diffs: DiffColumns) -> pl.DataFrame:
    """A ``DIFFS_SCHEMA`` frame of variants' keys and their diffs.

    The list columns are built from flat ones (``_nest``): polars makes a
    list column from nested Python lists element by element, about ten
    times slower, which made this the costliest step of the diff stage."""
    columns: dict[str, Any] = {name: [key[k] for key in keys] for k, name in enumerate(DIFF_KEY_SCHEMA)}
    columns["summary"], columns["sentences_same"] = diffs.values["summary"], diffs.values["sentences_same"]
    for name in _LIST_COLUMNS:
        columns[name] = _nest_flat(name, diffs)
    changed = pl.DataFrame(
        {
            field: _nest_flat(f"sentences_changed.{field}", diffs).alias(field)
            if field in _CHANGED_LISTS
            else pl.Series(field, diffs.values[f"sentences_changed.{field}"], dtype=dtype)
            for field, dtype in _CHANGED_FIELDS.items()
        }
    ).to_struct("sentences_changed")
    columns["sentences_changed"] = _nest(diffs.rows, diffs.lengths["sentences_changed"], changed)
    return pl.DataFrame(columns, schema=DIFFS_SCHEMA)


def _nest_flat(name: str, diffs: DiffColumns) -> pl.Series:
    """The list-of-strings column ``name`` of ``diffs``, by ``_nest``."""
    lengths = diffs.lengths[name]
    return _nest(len(lengths), lengths, pl.Series(name, diffs.values[name], dtype=pl.String))


def _nest(n: int, lengths: list[int], values: pl.Series) -> pl.Series:
    """A list column of ``n`` rows: row ``i`` holds the next ``lengths[i]`` of ``values``, in order."""
    rows = np.repeat(np.arange(n, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    grouped = pl.DataFrame({"_row": rows, values.name: values}).group_by("_row", maintain_order=True).agg(values.name)
    every = pl.DataFrame({"_row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    nested = every.join(grouped, on="_row", how="left", maintain_order="left")[values.name]
    return nested.fill_null(pl.lit([], dtype=pl.List(values.dtype)))
