"""report.html: one self-contained page for people (no network: CSS, JS and
charts inline, so it works opened from disk).

It holds the run's summary (inputs, rejections, stories, events, duplicate
rate, stage timings), a histogram of all story sizes, and the largest
stories (``report.html_stories``): a sortable, searchable list, and for each
its canonical, the members, a timeline of when they were published, and each
variant's diff side by side against the canonical. The page is bounded
whatever the feed's size (``report.*`` options cap stories, members, diffs
and lines); the rest is in the Parquet reports, and the page says so.

Every value from the feed is escaped (``_e``): titles and texts may hold HTML.
"""

from __future__ import annotations

import difflib
import html
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from dedup.config import ReportConfig
from dedup.reports.views import ReportData, canonical_sentences, counted, diff_counts, diff_lists, diff_notes, label, ranked, story_details, summary

CHART_WIDTH, BAR_HEIGHT, TIMELINE_HEIGHT = 640, 120, 36
"""Inline SVG sizes in pixels: the charts' width, the histogram's bar area and a timeline's height."""


class _Frames(Protocol):
    documents: pl.DataFrame
    clusters: pl.DataFrame
    variants: pl.DataFrame
    events: pl.DataFrame
    rejected: pl.DataFrame
    canonical_texts: dict[str, str]


def write_report_html(path: Path, reports: _Frames, run_info: dict[str, Any]) -> None:
    """Write report.html for a run's report frames and run.json (whose ``config.report`` bounds the page)."""
    data = ReportData(reports.documents, reports.clusters, reports.variants, reports.events, reports.rejected, run_info, reports.canonical_texts)
    settings = ReportConfig.model_validate((run_info.get("config") or {}).get("report") or {})
    path.write_text(render(data, settings), encoding="utf-8")


def render(data: ReportData, settings: ReportConfig) -> str:
    """The page, from the report frames; the same frames give the same bytes."""
    top = ranked(data.clusters, "size").head(settings.html_stories)
    details = story_details(data, top["cluster_id"].to_list(), settings.html_members)
    shown = f"the {len(details)} largest of {counted(data.clusters.height, 'story')}" if len(details) < data.clusters.height else f"{counted(len(details), 'story')} (all of them)"
    body = [
        "<header><h1>newsdedup report</h1>",
        f"<p>Feed <code>{_e(data.run.get('feed_dir', ''))}</code>, run {_e(data.run.get('run', ''))}. This page shows {shown}; "
        "every story, document and diff is in the Parquet reports beside it (clusters.parquet, documents.parquet, variants.parquet).</p></header>",
        _summary(data),
        _story_list(details, shown),
        '<section id="details"><h2>Stories</h2>',
        *(_story(detail, settings, data.canonical_texts.get(detail['canonical'].get('doc_id'))) for detail in details),
        "</section>",
        f"<script>{SCRIPT}</script>",
    ]
    return f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\n<title>newsdedup report</title><style>{STYLE}</style></head>\n<body>\n' + "\n".join(body) + "\n</body></html>\n"


def _e(value: Any) -> str:
    """``value`` as text safe in HTML content and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _summary(data: ReportData) -> str:
    counts = summary(data)
    figures = [
        ("inputs", counts.get("inputs")), ("documents", counts.get("documents")), ("rejected", counts.get("rejected")),
        ("stories", counts.get("clusters")), ("events", counts.get("events")), ("duplicates", counts.get("duplicates")),
        ("duplicate rate", f"{counts.get('duplicate_rate', 0):.1%}"),
    ]  # fmt: skip
    figures += [(f"matched: {kind}", n) for kind, n in (counts.get("matches") or {}).items()]
    cells = "".join(f"<div class='figure'><b>{_e(value)}</b><span>{_e(name)}</span></div>" for name, value in figures if value is not None)
    return (
        f"<section id='summary'><h2>Summary</h2><div class='figures'>{cells}</div>"
        f"<div class='columns'><div><h3>Story sizes (all stories)</h3>{_histogram(data.clusters['size'])}</div>"
        f"<div><h3>Stage timings</h3>{_timings(data.run.get('timings_seconds') or {})}</div></div>{_rejections(data.rejected)}</section>"
    )


def _timings(timings: dict[str, float]) -> str:
    total = timings.get("total") or sum(timings.values()) or 1.0
    rows = "".join(
        f"<tr><td>{_e(stage)}</td><td class='num'>{seconds:.2f} s</td><td class='bar'><span style='width:{100 * seconds / total:.1f}%'></span></td></tr>"
        for stage, seconds in timings.items()
        if stage != "total"
    )
    return f"<table class='timings'>{rows}<tr><th>total</th><th class='num'>{total:.2f} s</th><td></td></tr></table>" if timings else "<p>No timings.</p>"


def _rejections(rejected: pl.DataFrame | None) -> str:
    """The commonest rejection reasons (all rows are in rejected.parquet)."""
    if rejected is None or rejected.is_empty():
        return "<p>No input was rejected.</p>"
    top = rejected.group_by("reason").len().sort(["len", "reason"], descending=[True, False]).head(10)
    rows = "".join(f"<tr><td class='num'>{n}</td><td>{_e(reason)}</td></tr>" for reason, n in top.iter_rows())
    return f"<h3>Rejected inputs ({rejected.height}; the commonest reasons, every one in rejected.parquet)</h3><table>{rows}</table>"


def _histogram(sizes: pl.Series) -> str:
    """Stories by size in power-of-two bins (1, 2, 3-4, 5-8, …); bar heights
    grow with log(1 + count), so that the many small stories leave the rare
    large ones visible; each bar is labelled with its count."""
    if sizes.is_empty():
        return "<p>No stories.</p>"
    size = pl.col(sizes.name)
    bins = sizes.to_frame().select(pl.when(size <= 1).then(0).otherwise(size.cast(pl.Float64).log(2).ceil().cast(pl.Int64)).alias("bin"))
    counts = dict(bins.group_by("bin").len().iter_rows())
    last = max(counts)
    width = CHART_WIDTH / (last + 1)
    tallest = math.log1p(max(counts.values()))
    bars = []
    for k in range(last + 1):
        n = counts.get(k, 0)
        h = BAR_HEIGHT * math.log1p(n) / tallest
        low, high = (1, 1) if k == 0 else (2 ** (k - 1) + 1, 2**k)
        name = str(high) if low == high else f"{low}-{high}"
        x = k * width
        bars.append(
            f"<g><title>{counted(n, 'story')} of {name} {'document' if name == '1' else 'documents'}</title><rect x='{x + 2:.1f}' y='{16 + BAR_HEIGHT - h:.1f}' width='{width - 4:.1f}' height='{h:.1f}'/>"
            f"<text x='{x + width / 2:.1f}' y='{12 + BAR_HEIGHT - h:.1f}'>{n}</text><text x='{x + width / 2:.1f}' y='{BAR_HEIGHT + 30}'>{name}</text></g>"
        )
    return f"<svg class='histogram' viewBox='0 0 {CHART_WIDTH} {BAR_HEIGHT + 36}' role='img' aria-label='story sizes'>{''.join(bars)}</svg><p class='note'>documents per story (x), stories (bar labels; heights on a log scale)</p>"


def _story_list(details: list[dict[str, Any]], shown: str) -> str:
    """The stories as a table: a click on a heading sorts by it, the search box filters by title, source or id."""
    head = "".join(f"<th data-type='{kind}'>{name}</th>" for name, kind in (("#", "num"), ("headline", "text"), ("size", "num"), ("texts", "num"), ("sources", "num"), ("first published", "text"), ("last published", "text")))
    rows = []
    for rank, d in enumerate(details, 1):
        search = " ".join([d.get("title") or "", *(d.get("sources") or []), d["cluster_id"]]).lower()
        cells = [
            (rank, str(rank)), (d.get("title") or "", f"<a href='#story-{_e(d['cluster_id'])}'>{_e(d.get('title') or '(no title)')}</a>"),
            (d.get("size"), _e(d.get("size"))), (d.get("near_copy_groups"), _e(d.get("near_copy_groups"))),
            (len(d.get("sources") or []), _e(len(d.get("sources") or []))),
            (d.get("first_published") or "", _e(_when(d.get("first_published")))), (d.get("last_published") or "", _e(_when(d.get("last_published")))),
        ]  # fmt: skip
        tds = "".join(f"<td data-v='{_e(value)}'>{shown_value}</td>" for value, shown_value in cells)
        rows.append(f"<tr data-search='{_e(search)}'>{tds}</tr>")
    return (
        f"<section id='list'><h2>Story list</h2><p>{_e(shown.capitalize())}, largest first. "
        "<input type='search' id='filter' placeholder='search titles, sources, ids' aria-label='search stories'> <span id='matching'></span></p>"
        f"<table id='stories' class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _story(detail: dict[str, Any], settings: ReportConfig, full_text: str | None) -> str:
    """One story: its canonical (the whole text when the run gave it, else the
    sentences its variants' diffs quote), when its members appeared, its members and their diffs."""
    canonical, members = detail["canonical"], detail["members"]
    if full_text is not None:
        paragraphs = [line for line in full_text.splitlines() if line.strip()]
        text = "<p class='note'>Its text, as clustered (normalised, boilerplate removed):</p>" + "".join(f"<p>{_e(line)}</p>" for line in paragraphs)
    else:
        quoted = canonical_sentences(members)
        more = len(quoted) - settings.html_diff_items
        text = (
            "<p class='note'>Its sentences as its variants' diffs quote them (the reports keep no full texts):</p>"
            + "".join(f"<p>{_e(s)}</p>" for s in quoted[: settings.html_diff_items])
            + (f"<p class='note'>… {more} more sentences</p>" if more > 0 else "")
        ) if quoted else ""
    facts = "".join(
        f"<tr><th>{name}</th><td>{_e(value)}</td></tr>"
        for name, value in (
            ("doc_id", canonical.get("doc_id")), ("source", canonical.get("source") or "—"), ("published", _when(canonical.get("published"))),
            ("why canonical", canonical.get("reason")), ("url", canonical.get("url") or "—"), ("file", _where(canonical)), ("words", canonical.get("words")),
        )
    )  # fmt: skip
    variants = [m for m in members if m.get("diff") is not None][: settings.html_diffs]
    hidden = sum(m.get("diff") is not None for m in members) - len(variants)
    return (
        f"<details class='story' id='story-{_e(detail['cluster_id'])}'><summary><b>{_e(detail.get('title') or '(no title)')}</b> "
        f"<span class='tag'>{_e(detail['members_total'])} documents</span> <span class='tag'>{_e(len(detail.get('sources') or []))} sources</span></summary>"
        f"<p class='note'>story {_e(detail['cluster_id'])}, event {_e(detail.get('event_id'))}</p>"
        f"<h4>Canonical</h4><table class='facts'>{facts}</table>"
        + (f"<div class='text'>{text}</div>" if text else "")
        + f"<h4>When the members appeared</h4>{_timeline(members)}"
        + f"<h4>Members</h4>{_members(members, detail['members_total'])}"
        + "".join(_diff(m, canonical.get("doc_id"), settings) for m in variants)
        + (f"<p class='note'>{hidden} more variants' diffs are in variants.parquet.</p>" if hidden > 0 else "")
        + "</details>"
    )  # fmt: skip


def _members(members: list[dict[str, Any]], total: int) -> str:
    head = "<tr><th>document</th><th>match</th><th>jaccard</th><th>containment</th><th>paraphrase</th><th>source</th><th>published</th><th>title</th></tr>"
    rows = "".join(
        f"<tr><td>{_e(m['doc_id'])}</td><td><span class='match {_e(m.get('match'))}'>{_e(m.get('match'))}</span></td>"
        + "".join(f"<td class='num'>{_score(m.get(k))}</td>" for k in ("jaccard", "containment", "paraphrase_score"))
        + f"<td>{_e(m.get('source') or '—')}</td><td>{_e(_when(m.get('published')))}</td><td>{_e(m.get('title'))}</td></tr>"
        for m in members
    )
    more = f"<p class='note'>{len(members)} of {total} members shown; all are in documents.parquet.</p>" if total > len(members) else ""
    return f"<table class='members'>{head}{rows}</table>{more}"


def _timeline(members: list[dict[str, Any]]) -> str:
    """A dot per dated member on a line from the first to the last publication time."""
    dated = sorted((m["published"], m["doc_id"]) for m in members if m.get("published"))
    if not dated:
        return "<p class='note'>No member has a publication date.</p>"
    times = [_seconds(when) for when, _ in dated]
    start, span = times[0], (times[-1] - times[0]) or 1.0
    margin = 12
    dots = "".join(
        f"<circle cx='{margin + (CHART_WIDTH - 2 * margin) * (t - start) / span:.1f}' cy='{TIMELINE_HEIGHT / 2}' r='5'><title>{_e(doc)}: {_e(_when(when))}</title></circle>"
        for t, (when, doc) in zip(times, dated)
    )
    undated = len(members) - len(dated)
    return (
        f"<svg class='timeline' viewBox='0 0 {CHART_WIDTH} {TIMELINE_HEIGHT}' role='img' aria-label='publication times'>"
        f"<line x1='{margin}' y1='{TIMELINE_HEIGHT / 2}' x2='{CHART_WIDTH - margin}' y2='{TIMELINE_HEIGHT / 2}'/>{dots}</svg>"
        f"<p class='note'>{_e(_when(dated[0][0]))} to {_e(_when(dated[-1][0]))}" + (f"; {undated} undated" if undated else "") + "</p>"
    )


def _diff(member: dict[str, Any], canonical_id: str | None, settings: ReportConfig) -> str:
    """A variant against the canonical, side by side: aligned sentences with
    their changed words marked (difflib's, so a pair's own ``words_…`` lists
    are not repeated), sentences only in one of them, and every other field of
    the diff (figures or names added and dropped, a similarity) under its pair."""
    counts = ", ".join(f"{n} {_e(name)}" for name, n in diff_counts(member["diff"]))
    notes = "".join(f"<p class='summary'><b>{_e(name)}</b>: {_e(note)}</p>" for name, note in diff_notes(member["diff"]))
    rows = []
    for name, value in diff_lists(member["diff"]):
        rows.append(f"<tr><th colspan='2' class='field'>{_e(label(name))} ({len(value)})</th></tr>")
        if all(isinstance(item, str) for item in value) and not name.startswith("sentences"):  # words, facts: short, one row
            rows.append(_terms_row(name, value))
            continue
        for item in value[: settings.html_diff_items]:
            rows.append(_diff_row(name, item))
        if len(value) > settings.html_diff_items:
            rows.append(f"<tr><td colspan='2' class='note'>… {len(value) - settings.html_diff_items} more in variants.parquet</td></tr>")
    table = (
        f"<table class='sbs'><tr><th>canonical {_e(canonical_id)}</th><th>variant {_e(member['doc_id'])}</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p class='note'>No sentence differs from the canonical's.</p>"
    )
    return f"<div class='diff'><h4>{_e(member['doc_id'])} <span class='match {_e(member.get('match'))}'>{_e(member.get('match'))}</span></h4>{notes}<p class='note'>{counts}</p>{table}</div>"


def _diff_row(name: str, item: Any) -> str:
    if isinstance(item, dict):
        left, right = item.get("canonical"), item.get("variant")
        marked = isinstance(left, str) and isinstance(right, str)
        old, new = _marked(left or "", right or "") if marked else (_e(left), _e(right))
        shown = {"canonical", "variant"} | ({key for key in item if key.startswith("words_")} if marked else set())  # the words: marked in the texts
        extra = "".join(
            f"<span class='tag'>{_e(label(key))}: {_e(', '.join(map(str, value)) if isinstance(value, list) else value)}</span>"
            for key, value in item.items()
            if key not in shown and value not in (None, [], "", False)
        )
        return f"<tr><td class='old'>{old}</td><td class='new'>{new}</td></tr>" + (f"<tr><td colspan='2' class='extra'>{extra}</td></tr>" if extra else "")
    if "added" in name:
        return f"<tr><td></td><td class='new'><ins>{_e(item)}</ins></td></tr>"
    if "removed" in name or "dropped" in name:
        return f"<tr><td class='old'><del>{_e(item)}</del></td><td></td></tr>"
    return f"<tr><td colspan='2'>{_e(item)}</td></tr>"


def _terms_row(name: str, terms: list[str]) -> str:
    """Short entries (words, figures, names) as tags on one row, on the side they are in."""
    added = "added" in name
    tags = "".join(f"<{'ins' if added else 'del'} class='term'>{_e(term)}</{'ins' if added else 'del'}> " for term in terms)
    return f"<tr><td></td><td class='new'>{tags}</td></tr>" if added else f"<tr><td class='old'>{tags}</td><td></td></tr>"


_TOKEN = re.compile(r"\s+|[^\s]+")


def _marked(old: str, new: str) -> tuple[str, str]:
    """Two sentences, escaped, their differing words in ``<del>`` and ``<ins>``
    (difflib's alignment of their words; characters when a text has no spaces, as CJK)."""
    split = (lambda s: _TOKEN.findall(s)) if " " in old + new else list
    a, b = split(old), split(new)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        before, after = _e("".join(a[i1:i2])), _e("".join(b[j1:j2]))
        left.append(before if op == "equal" else f"<del>{before}</del>" if before else "")
        right.append(after if op == "equal" else f"<ins>{after}</ins>" if after else "")
    return "".join(left), "".join(right)


def _score(value: Any) -> str:
    return "—" if value is None or value != value else f"{value:.2f}"


def _when(value: Any) -> str:
    return value[:16].replace("T", " ") + " UTC" if isinstance(value, str) and value else "—"


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _where(canonical: dict[str, Any]) -> str:
    path = canonical.get("path") or "—"
    return f"{path}, record {canonical['record']}" if canonical.get("record") is not None else path


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 48px;color:#1d1d1f}
h1{margin:16px 0 4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}h4{margin:14px 0 6px}
code{background:#f3f3f3;padding:0 4px}.note{color:#666;font-size:13px}
.figures{display:flex;flex-wrap:wrap;gap:10px}.figure{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:90px}
.figure b{display:block;font-size:20px}.figure span{color:#666;font-size:12px}
.columns{display:flex;flex-wrap:wrap;gap:32px}.columns>div{flex:1 1 420px}
table{border-collapse:collapse;margin:4px 0}td,th{padding:3px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
.num{text-align:right;font-variant-numeric:tabular-nums}
.timings .bar{width:180px}.timings .bar span{display:block;height:10px;background:#4a7bd0}
.histogram rect{fill:#4a7bd0}.histogram text{font-size:11px;text-anchor:middle;fill:#333}
.timeline line{stroke:#999}.timeline circle{fill:#d05a4a;fill-opacity:.7}svg{max-width:100%}
#stories{width:100%}#stories th{cursor:pointer;user-select:none;background:#f6f6f6}#stories th.asc:after{content:" ▲"}#stories th.desc:after{content:" ▼"}
#filter{font-size:15px;padding:4px 8px;width:280px}
details.story{border:1px solid #ddd;border-radius:6px;margin:10px 0;padding:6px 12px}details.story>summary{cursor:pointer;padding:4px 0}
.tag{display:inline-block;background:#eef;border-radius:4px;padding:0 6px;margin:2px 4px 2px 0;font-size:12px;color:#334}
.match{border-radius:4px;padding:0 6px;font-size:12px;background:#eee}.match.exact{background:#cfe8cf}.match.near-copy{background:#dde8f8}.match.paraphrase{background:#f8ecd0}
.facts th{width:120px;color:#555;font-weight:600}.text{max-height:360px;overflow:auto;border-left:3px solid #ddd;padding-left:12px}
.sbs{width:100%;table-layout:fixed}.sbs td{width:50%}.sbs th.field{background:#f6f6f6;font-weight:600}
del{background:#fdd;text-decoration:line-through;text-decoration-color:#a33}ins{background:#cfc;text-decoration:none}
.term{display:inline-block;margin:2px 2px;padding:0 4px;border-radius:3px}.diff{border-top:1px dashed #ccc;margin-top:12px}.summary{margin:4px 0;background:#fffbe6;padding:4px 8px;border-radius:4px}.extra{background:#fafafa}
"""

SCRIPT = """
(function(){
  var table=document.getElementById('stories'), body=table.tBodies[0];
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc'), num=th.dataset.type==='num';
      Array.prototype.forEach.call(th.parentNode.cells,function(c){c.classList.remove('asc','desc');});
      th.classList.add(asc?'asc':'desc');
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[col].dataset.v, y=b.cells[col].dataset.v;
        var d=num?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y);
        return asc?d:-d;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  var filter=document.getElementById('filter'), matching=document.getElementById('matching');
  filter.addEventListener('input',function(){
    var words=filter.value.toLowerCase().split(/\\s+/).filter(Boolean), n=0;
    Array.prototype.forEach.call(body.rows,function(r){
      var hit=words.every(function(w){return r.dataset.search.indexOf(w)>=0;});
      r.style.display=hit?'':'none'; n+=hit?1:0;
    });
    matching.textContent=words.length?n+' matching':'';
  });
  function openHash(){
    var el=location.hash&&document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView();}
  }
  window.addEventListener('hashchange',openHash);openHash();
})();
"""
