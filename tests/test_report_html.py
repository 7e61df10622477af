"""report.html, read with an HTML parser: the seeds' story with its members and
diffs, titles holding HTML shown as text, nothing fetched from the network,
and the page bounded to the largest stories (the rest said to be in Parquet).

The hostile feed is written here: two copies of a story whose title holds a
``<script>`` element, and an unrelated article whose title holds markup.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from corpus import SEEDS, run, write_jsonl
from test_show import hand_report

from dedup.config import load_config
from dedup.reports.html import render
from dedup.reports.views import load_report

HOSTILE_TITLE = "<script>alert('owned')</script> Storm hits the coast"
STORM = (
    "A storm hit the northern coast on Friday, flooding 300 homes in Port Allen and cutting power to 12,000 people. "
    "The mayor, Jane Ortiz, said the sea wall failed at two points. Crews expect to restore power by Sunday evening. "
    "Schools in the district will stay closed until Monday, the education board said in a statement."
)
MARKETS = (
    "Shares in Rotterdam rose for a third day as shipping rates recovered, with the harbour index up 2.4 percent. "
    "Analysts at Veldhoven Bank said container volumes had returned to their level of last spring."
)


@pytest.fixture(scope="module")
def seeds_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lxml.html.HtmlElement]:
    out = tmp_path_factory.mktemp("seeds") / "reports"
    run(SEEDS, out)
    return out, lxml.html.parse(str(out / "report.html")).getroot()


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    feed = tmp_path_factory.mktemp("hostile") / "feed"
    write_jsonl(
        feed / "items.jsonl",
        [
            {"id": "wire", "title": HOSTILE_TITLE, "text": STORM, "source": "Wire", "published": "2025-06-13T09:00:00Z"},
            {"id": "copy", "title": HOSTILE_TITLE, "text": STORM, "source": "Daily <i>News</i>", "published": "2025-06-13T15:30:00Z"},
            {"id": "markets", "title": "Harbour <b>shares</b> & rates rise", "text": MARKETS, "published": "2025-06-12T08:00:00Z"},
        ],
    )
    out = feed.parent / "reports"
    run(feed, out)
    return out


def test_a_story_shows_its_canonicals_whole_text(hostile_report: Path) -> None:
    # the storm's canonical is the wire copy; its last sentence is quoted by no diff (its copy is exact), so only the full text shows it
    page = lxml.html.parse(str(hostile_report / "report.html")).getroot()
    [story] = [d for d in page.iter("details") if "Storm hits the coast" in d.find("summary").text_content()]
    text = " ".join(p.text_content() for p in story.find_class("text")[0].iter("p"))
    assert "Schools in the district will stay closed until Monday" in text


def test_the_seeds_story_with_its_canonical_members_and_diffs(seeds_page: tuple[Path, lxml.html.HtmlElement]) -> None:
    out, page = seeds_page
    documents = load_report(out).documents
    [story] = documents["cluster_id"].unique().to_list()
    canonical = documents.filter(documents["is_canonical"]).row(0, named=True)
    [listed] = page.xpath("//table[@id='stories']/tbody/tr")
    assert listed.xpath(".//a/@href") == [f"#story-{story}"]
    [details] = page.xpath(f"//details[@id='story-{story}']")
    assert canonical["title"] in details.xpath("string(./summary)")
    facts = {row.xpath("string(th)"): row.xpath("string(td)") for row in details.xpath(".//table[@class='facts']/tr")}
    assert facts["doc_id"] == canonical["doc_id"]
    members = {row.xpath("string(td[1])"): row.xpath("string(td[2])") for row in details.xpath(".//table[@class='members']/tr[td]")}
    assert members == dict(zip(documents["doc_id"].to_list(), documents["match"].to_list()))
    diffs = details.xpath(".//div[@class='diff']")
    assert len(diffs) == 4  # the four rewrites, side by side against the canonical
    assert all(d.xpath(".//table[@class='sbs']//ins") for d in diffs)
    figures = {f.xpath("string(span)"): f.xpath("string(b)") for f in page.xpath("//div[@class='figure']")}
    assert figures["documents"] == "5" and figures["stories"] == "1" and figures["rejected"] == "0" and figures["duplicate rate"] == "80.0%"
    assert page.xpath("//svg[@class='histogram']//rect") and page.xpath("//table[@class='timings']//td[text()='paraphrase']")


def test_nothing_is_fetched_from_the_network(seeds_page: tuple[Path, lxml.html.HtmlElement], hostile_report: Path) -> None:
    for page in (seeds_page[1], lxml.html.parse(str(hostile_report / "report.html")).getroot()):
        assert not page.xpath("//@src") and not page.xpath("//link") and not page.xpath("//iframe|//object|//embed")
        assert all(href.startswith("#") for href in page.xpath("//@href"))  # in-page anchors only
        assert "url(" not in page.xpath("string(//style)")
        assert "http" not in page.xpath("string(//script)")


def test_titles_holding_html_are_shown_as_text(hostile_report: Path) -> None:
    raw = (hostile_report / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in raw and "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in raw
    page = lxml.html.fromstring(raw)
    assert len(page.xpath("//script")) == 1  # the page's own
    assert not page.xpath("//body//b[text()='shares'] | //body//i[text()='News']")
    titles = [a.text_content() for a in page.xpath("//table[@id='stories']//a")]
    assert titles == [HOSTILE_TITLE, "Harbour <b>shares</b> & rates rise"]  # the copies' story first: larger
    sources = page.xpath("string(//details[1]//table[@class='members'])")
    assert "Daily <i>News</i>" in sources


def test_the_timeline_has_a_mark_per_dated_member(hostile_report: Path) -> None:
    page = lxml.html.parse(str(hostile_report / "report.html")).getroot()
    first = page.xpath("//details[@class='story']")[0]
    marks = first.xpath(".//svg[@class='timeline']/circle")
    assert len(marks) == 2
    assert [c.xpath("string(title)") for c in marks] == ["wire: 2025-06-13 09:00 UTC", "copy: 2025-06-13 15:30 UTC"]
    assert float(marks[0].get("cx")) < float(marks[1].get("cx"))


def test_the_histogram_counts_stories_by_size(hostile_report: Path) -> None:
    page = lxml.html.parse(str(hostile_report / "report.html")).getroot()
    bars = [bar.xpath("string(title)") for bar in page.xpath("//svg[@class='histogram']/g")]
    assert bars == ["1 story of 1 document", "1 story of 2 documents"]  # the lone article, the two copies


def test_the_page_is_bounded_and_says_where_the_rest_is(hostile_report: Path) -> None:
    data = load_report(hostile_report)
    page = lxml.html.fromstring(render(data, load_config(overrides={"report.html_stories": 1}).report))
    assert len(page.xpath("//details[@class='story']")) == 1 and len(page.xpath("//table[@id='stories']/tbody/tr")) == 1
    assert "This page shows the 1 largest of 2 stories" in page.xpath("string(//header)")
    assert "clusters.parquet" in page.xpath("string(//header)")
    assert render(data, load_config().report) == render(load_report(hostile_report), load_config().report)  # the same reports, the same page


def test_another_diff_schema_is_shown_side_by_side_by_its_own_fields(tmp_path: Path) -> None:
    hand_report(tmp_path / "r", "Scale AI chief leaves for Meta")
    page = lxml.html.fromstring(render(load_report(tmp_path / "r"), load_config().report))
    [diff] = page.xpath("//div[@class='diff']")
    assert diff.xpath("string(.//p[@class='summary'])") == "summary: same story; adds $29 billion"
    [old, new] = diff.xpath(".//table[@class='sbs']//tr[td[@class='old'] and td[@class='new']]/td")
    assert old.text_content() == "Meta invests $14.3 billion in Scale AI."
    assert new.text_content() == "Meta puts $14.3 billion into Scale AI, valued at $29 billion."
    assert "valued at $29 billion." in " ".join(new.xpath("./ins/text()"))  # the words only the variant has, marked
    assert diff.xpath("string(.//td[@class='extra'])") == "facts added: $29 billion"  # no "edited: False"
    assert diff.xpath(".//tr[td[2][not(node())]]/td[@class='old']/del/text()") == ["Wang leaves for Meta."]  # the sentence dropped, on the canonical's side
