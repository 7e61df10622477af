"""What a person looks at: stories ranked, and each story's canonical, members
and diffs, as plain Python values (for ``dedup show``, its ``--json`` and
``report.html``).

The frames are the reports' (docs/reports.md), read from a report directory
(``load_report``) or handed over by the run that writes them. The variants'
diff columns are read as they come: every column of the variants frame that
is not a document's score is a diff field, shown under its own name, so that
the views follow the diff schema as it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

SortOrder = Literal["size", "recent"]
VARIANT_FILES = ("variants.parquet", "diffs.parquet")
"""Where a report directory keeps the variants' diffs (the first found)."""
MEMBER_COLUMNS = ["doc_id", "match", "jaccard", "containment", "paraphrase_score", "source", "published", "title", "url", "words", "group_id", "path", "record"]
"""The documents.parquet columns shown for each member of a story."""
VARIANT_KEYS = {"doc_id", "cluster_id", "canonical_doc_id", "match", "jaccard", "containment", "paraphrase_score", "event_id", "group_id"}
"""Variants columns that are not part of the diff (a document's cluster and scores)."""


class ReportError(Exception):
    """A report directory that cannot be shown; the message is one line naming the path."""


@dataclass
class ReportData:
    """The frames of one run's reports (``variants`` holds the diffs) and its run.json."""

    documents: pl.DataFrame
    clusters: pl.DataFrame
    variants: pl.DataFrame
    events: pl.DataFrame | None = None
    rejected: pl.DataFrame | None = None
    run: dict[str, Any] = field(default_factory=dict)
    canonical_texts: dict[str, str] = field(default_factory=dict)
    """Canonical texts by doc_id, when the run gives them (report.html); a report directory keeps none."""


def load_report(directory: Path) -> ReportData:
    """The reports under ``directory`` (as ``dedup run --out`` wrote them).

    documents.parquet and clusters.parquet are required; the variants' diffs,
    events, rejections and run.json are read when present."""
    if not directory.is_dir():
        raise ReportError(f"report directory not found: {directory}")
    if not (directory / "clusters.parquet").exists() or not (directory / "documents.parquet").exists():
        raise ReportError(f"{directory} is not a report directory: no clusters.parquet and documents.parquet (written by `dedup run --out`)")
    variants_path = next((directory / name for name in VARIANT_FILES if (directory / name).exists()), None)
    return ReportData(
        documents=_read(directory / "documents.parquet"),
        clusters=_read(directory / "clusters.parquet"),
        variants=_read(variants_path) if variants_path else pl.DataFrame({"doc_id": []}, schema={"doc_id": pl.String}),
        events=_read(directory / "events.parquet") if (directory / "events.parquet").exists() else None,
        rejected=_read(directory / "rejected.parquet") if (directory / "rejected.parquet").exists() else None,
        run=_read_json(directory / "run.json"),
    )


def _read(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ReportError(f"{path}: cannot read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
    return found if isinstance(found, dict) else {}


def summary(data: ReportData) -> dict[str, Any]:
    """The run's headline figures: run.json's counts, else counted from the frames."""
    counts = dict(data.run.get("counts") or {})
    documents, stories = data.documents.height, data.clusters.height
    counts.setdefault("documents", documents)
    counts.setdefault("clusters", stories)
    counts.setdefault("rejected", data.rejected.height if data.rejected is not None else 0)
    counts.setdefault("inputs", counts["documents"] + counts["rejected"])
    counts.setdefault("duplicate_rate", round((documents - stories) / documents, 4) if documents else 0.0)
    counts["events"] = data.events.height if data.events is not None else data.clusters["event_id"].n_unique() if "event_id" in data.clusters.columns else None
    return counts


def ranked(clusters: pl.DataFrame, order: SortOrder) -> pl.DataFrame:
    """Stories by size (largest first, then the most recent) or by recency
    (latest member first, then the largest); ``cluster_id`` breaks ties, so
    the order is the same on every call."""
    recent = pl.col("last_published") if "last_published" in clusters.columns else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    keys = [pl.col("size"), recent] if order == "size" else [recent, pl.col("size")]
    return clusters.sort([*keys, pl.col("cluster_id")], descending=[True, True, False], nulls_last=True)


def search(data: ReportData, words: str) -> pl.DataFrame:
    """Stories with a member whose title holds every word of ``words`` (case-insensitive)."""
    title = pl.col("title").fill_null("").str.to_lowercase()
    hit = pl.all_horizontal([title.str.contains(word.lower(), literal=True) for word in words.split()] or [pl.lit(True)])
    ids = data.documents.filter(hit)["cluster_id"].unique()
    return data.clusters.filter(pl.col("cluster_id").is_in(ids.implode()))


def story_rows(clusters: pl.DataFrame) -> list[dict[str, Any]]:
    """One plain row per story (``clusters.parquet``'s columns)."""
    return [plain(row) for row in clusters.to_dicts()]


def story_details(data: ReportData, cluster_ids: list[str], max_members: int | None = None) -> list[dict[str, Any]]:
    """Each story's canonical (title, source, published, reason) and members
    (match kind, scores, source; each variant's ``diff``: its diff fields),
    canonical first, then in the run's preference order; at most
    ``max_members`` members each (``members_total`` says how many there are).

    The documents and variants of all the stories are selected at once: the
    cost is a pass over each frame, however many stories."""
    wanted = pl.Series(cluster_ids, dtype=pl.String).implode()
    clusters = {row["cluster_id"]: row for row in data.clusters.filter(pl.col("cluster_id").is_in(wanted)).to_dicts()}
    documents = data.documents.with_row_index("_rank").filter(pl.col("cluster_id").is_in(wanted))
    documents = documents.sort([pl.col("cluster_id"), ~pl.col("is_canonical"), pl.col("_rank")])
    members: dict[str, list[dict[str, Any]]] = {}
    for row in documents.select("cluster_id", *[c for c in MEMBER_COLUMNS if c in documents.columns]).to_dicts():
        members.setdefault(row.pop("cluster_id"), []).append(row)
    diff_columns = diff_fields(data.variants)
    shown_ids = [m["doc_id"] for cid in cluster_ids for m in members.get(cid, [])[:max_members]]
    variants = data.variants.filter(pl.col("doc_id").is_in(pl.Series(shown_ids, dtype=pl.String).implode())) if diff_columns else data.variants.clear()
    diffs = {row.pop("doc_id"): row for row in variants.select("doc_id", *diff_columns).to_dicts()}
    return [_detail(clusters[cid], members.get(cid, []), diffs, max_members) for cid in cluster_ids if cid in clusters]


def _detail(cluster: dict[str, Any], members: list[dict[str, Any]], diffs: dict[str, dict[str, Any]], max_members: int | None) -> dict[str, Any]:
    canonical = next((m for m in members if m["doc_id"] == cluster.get("canonical_doc_id")), members[0] if members else {})
    shown = members[:max_members]
    for member in shown:
        member["diff"] = diffs.get(member["doc_id"]) if member is not canonical else None
    return plain(
        cluster
        | {
            "canonical": {key: canonical.get(key) for key in ("doc_id", "title", "source", "published", "url", "path", "record", "words")}
            | {"reason": cluster.get("canonical_reason")},
            "members": shown,
            "members_total": len(members),
        }
    )


def diff_fields(variants: pl.DataFrame) -> list[str]:
    """The variants frame's diff columns, in its order."""
    return [name for name in variants.columns if name not in VARIANT_KEYS]


def diff_counts(diff: dict[str, Any] | None) -> list[tuple[str, int]]:
    """A diff's figures: a count field's value, a list field's length, by field name in words (``sentences same``)."""
    if not diff:
        return []
    found = []
    for name, value in diff.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            found.append((label(name), value))
        elif isinstance(value, list):
            found.append((label(name), len(value)))
    return found


def canonical_sentences(members: list[dict[str, Any]]) -> list[str]:
    """The canonical's sentences that its variants' diffs quote (the reports
    keep no full texts), each once, in the order first met: every string a
    diff holds under a ``canonical`` key, and every sentence of a
    ``sentences_…`` list whose name says it left the canonical (``removed``,
    ``dropped``)."""
    seen: dict[str, None] = {}
    for member in members:
        for name, value in (member.get("diff") or {}).items():
            if not isinstance(value, list):
                continue
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("canonical"), str):
                    seen.setdefault(item["canonical"], None)
                elif isinstance(item, str) and name.startswith("sentences") and any(word in name for word in ("removed", "dropped")):
                    seen.setdefault(item, None)
    return list(seen)


def diff_lists(diff: dict[str, Any] | None) -> list[tuple[str, list[Any]]]:
    """A diff's non-empty lists, the most telling first: aligned pairs (lists
    of records), then short entries (words, facts), then whole sentences; in
    column order within each."""

    def rank(entry: tuple[str, list[Any]]) -> int:
        name, value = entry
        return 0 if isinstance(value[0], dict) else 2 if name.startswith("sentences") else 1

    return sorted(((name, value) for name, value in (diff or {}).items() if isinstance(value, list) and value), key=rank)


def diff_notes(diff: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A diff's text fields (as a ``summary`` in words), by field name in words."""
    return [(label(name), value) for name, value in (diff or {}).items() if isinstance(value, str) and value]


def counted(n: int, noun: str) -> str:
    """``1 story``, ``2 stories``, ``3 documents``."""
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def label(name: str) -> str:
    """A column name in words: ``sentences_added`` -> ``sentences added``."""
    return name.replace("_", " ")


def plain(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings, recursively: JSON-ready."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
