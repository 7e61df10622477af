"""``dedup show``: a report directory's stories on a terminal (rich), or as JSON.

Without ``--story`` or ``--search`` it lists the stories ranked by size or
recency; with one story (by id, or the only one whose titles hold the words
searched) it shows the canonical (title, source, published, why it was
chosen), the members with how they matched, their scores and source, and what
each changed against the canonical (the diff fields of the variants report,
each list cut to ``items`` lines; at most ``limit`` members). Everything
fits 80 columns: long values wrap inside their cells.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dedup.reports.views import (
    ReportData,
    ReportError,
    SortOrder,
    counted,
    diff_counts,
    diff_lists,
    diff_notes,
    label,
    load_report,
    ranked,
    search,
    story_details,
    story_rows,
    summary,
)

MISSING = "—"
"""How a value the report does not have (a null) is shown."""
ADDED, DROPPED, OTHER = "+", "-", "·"
"""Line marks of a diff item: in the variant only, in the canonical only, else."""
HEADLINE_CHARS = 90
"""A headline in the story list is cut (at a word) to this many characters: two lines at 80 columns."""


def show_report(
    report_dir: Path, console: Console, *, story: str | None = None, words: str | None = None, order: str = "size", limit: int = 20, items: int = 3, as_json: bool = False
) -> None:
    """Print what ``dedup show`` prints; a ReportError (one line) for a
    directory that is not a report, an unknown story id or sort order."""
    if order not in get_args(SortOrder):
        raise ReportError(f"--sort {order}: expected one of {', '.join(get_args(SortOrder))}")
    data = load_report(report_dir)
    if story is not None:
        found = data.clusters.filter(data.clusters["cluster_id"] == story)
        if found.is_empty():
            raise ReportError(f"--story {story}: no such story in {report_dir} (`dedup show {report_dir}` lists them)")
    else:
        found = ranked(search(data, words) if words else data.clusters, order)  # type: ignore[arg-type]
    if story is not None or (words and found.height == 1):
        [detail] = story_details(data, found["cluster_id"].to_list(), max_members=limit)
        if as_json:
            _print_json(console, {"story": detail})
        else:
            print_story(console, detail, items)
        return
    rows = story_rows(found.head(limit))
    if as_json:
        _print_json(console, {"report": str(report_dir), "summary": summary(data), "matching": found.height, "stories": rows})
        return
    print_summary(console, data, report_dir)
    if words:
        console.print(Text(f"{found.height} stories with {words!r} in a title" + (": add --story ID to see one" if found.height else "")))
    print_stories(console, rows, found.height)


def _print_json(console: Console, value: dict[str, Any]) -> None:
    """JSON for scripts: plain text on the console's file, neither highlighted nor wrapped."""
    console.file.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def print_summary(console: Console, data: ReportData, report_dir: Path) -> None:
    counts = summary(data)
    events = f" in {counted(counts['events'], 'event')}" if counts.get("events") is not None else ""
    console.print(
        Text(
            f"{report_dir}: {counted(counts['documents'], 'document')} in {counted(counts['clusters'], 'story')}{events}; "
            f"{counted(counts['rejected'], 'input')} rejected; duplicate rate {counts['duplicate_rate']:.1%}"
        )
    )


def print_stories(console: Console, rows: list[dict[str, Any]], total: int) -> None:
    """The ranked stories: size, distinct texts, sources, latest date, headline."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column("story", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("texts", justify="right")
    table.add_column("srcs", justify="right")
    table.add_column("latest", no_wrap=True)
    table.add_column("headline", ratio=1, overflow="fold")
    for row in rows:
        table.add_row(
            row["cluster_id"], str(row.get("size", "")), str(row.get("near_copy_groups", MISSING)), str(len(row.get("sources") or [])),
            _date(row.get("last_published")), Text(_headline(row.get("title"))),
        )  # fmt: skip
    console.print(table)
    if total > len(rows):
        console.print(Text(f"{len(rows)} of {total} stories shown (--limit N shows more)"))


def print_story(console: Console, detail: dict[str, Any], items: int) -> None:
    """One story: its canonical, its members, and what each variant changed."""
    console.print(Text(f"Story {detail['cluster_id']}", style="bold"), Text(f"· event {detail.get('event_id') or MISSING} · {counted(detail['members_total'], 'document')}"))
    canonical = detail["canonical"]
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for name in ("title", "doc_id", "source", "published", "url", "reason"):
        value = canonical.get(name)
        facts.add_row(name, Text(_date(value, with_time=True) if name == "published" else _value(value)))
    console.print(Text("Canonical", style="bold underline"))
    console.print(facts)
    console.print(Text("Members", style="bold underline"))
    console.print(_members_table(detail["members"]))
    if detail["members_total"] > len(detail["members"]):
        console.print(Text(f"{len(detail['members'])} of {detail['members_total']} members shown (--limit N shows more)"))
    for member in detail["members"]:
        if member.get("diff") is not None:
            print_diff(console, member, items)


def _members_table(members: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("document", ratio=1, overflow="fold")
    table.add_column("match", no_wrap=True)
    for name in ("jacc.", "cont.", "para."):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("source", overflow="fold", max_width=16)
    for m in members:
        table.add_row(Text(m["doc_id"]), m.get("match") or MISSING, _score(m.get("jaccard")), _score(m.get("containment")), _score(m.get("paraphrase_score")), Text(m.get("source") or MISSING))
    return table


def print_diff(console: Console, member: dict[str, Any], items: int) -> None:
    """A variant's changes: its figures on one line, its text fields (a
    summary), then each list: sentences and aligned pairs an entry a line (the
    first ``items``), shorter entries (words, facts) on one line."""
    counts = ", ".join(f"{value} {name}" for name, value in diff_counts(member["diff"]))
    console.print(Text(f"\n{member['doc_id']} ({member.get('match')}): {counts or 'no diff'}", style="bold"))
    notes = _lines()
    for name, note in diff_notes(member["diff"]):
        notes.add_row("", OTHER, Text(f"{name}: {note}"))
    console.print(notes)
    for name, value in diff_lists(member["diff"]):
        console.print(Text(f"  {label(name)}:", style="italic"))
        lines = _lines()
        if all(isinstance(item, str) for item in value) and not name.startswith("sentences"):
            lines.add_row("", diff_lines(name, "")[0][0], Text(", ".join(value)))
            console.print(lines)
            continue
        for item in value[:items]:
            for mark, line in diff_lines(name, item):
                lines.add_row("", mark, Text(line))
        console.print(lines)
        if len(value) > items:
            console.print(Text(f"  … {len(value) - items} more (--items N shows more)"))


def _lines() -> Table:
    """A grid of marked lines: an indent, the mark, the text wrapping under itself."""
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True, min_width=1)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def diff_lines(name: str, item: Any) -> list[tuple[str, str]]:
    """A diff entry as marked lines: a sentence added (``+``) or dropped
    (``-``) as its list's name says; an aligned pair as its canonical (``-``)
    and variant (``+``) sides, then its other fields (words or facts added
    and dropped) one line each."""
    if isinstance(item, dict):
        lines = []
        for key, value in item.items():
            if key == "canonical":
                lines.append((DROPPED, _value(value)))
            elif key == "variant":
                lines.append((ADDED, _value(value)))
            elif isinstance(value, list) and value:
                lines.append((OTHER, f"{label(key)}: {', '.join(map(str, value))}"))
            elif value not in (None, [], False) and not isinstance(value, list):
                lines.append((OTHER, f"{label(key)}: {_value(value)}"))
        return lines
    mark = ADDED if "added" in name else DROPPED if any(word in name for word in ("removed", "dropped")) else OTHER
    return [(mark, _value(item))]


def _value(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, float):
        return _score(value)
    return str(value)


def _headline(title: str | None) -> str:
    """A title cut at a word to ``HEADLINE_CHARS``."""
    if not title:
        return MISSING
    if len(title) <= HEADLINE_CHARS:
        return title
    return title[:HEADLINE_CHARS].rsplit(" ", 1)[0] + "…"


def _score(value: Any) -> str:
    return MISSING if value is None or value != value else f"{value:.2f}"


def _date(value: Any, with_time: bool = False) -> str:
    """An ISO 8601 time (UTC) as its date, or its date and minute."""
    if not isinstance(value, str):
        return MISSING
    return value[:16].replace("T", " ") + " UTC" if with_time else value[:10]
