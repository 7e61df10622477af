"""Titles of text files (headlines, not captions, credits or date lines), the
title counted once, and report and state directories never read as feed input."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from corpus import SEEDS, run

from dedup.config import load_config
from dedup.readers.files import list_feed_files, read_file
from dedup.stages.ingest import _full_text
from dedup.records import Article
from dedup.readers.titles import text_title

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _article(path: Path) -> Article:
    (article,) = read_file(path, path.parent, load_config().ingest, NOW)
    assert isinstance(article, Article)
    return article


def test_seed_000_title_is_its_lede_not_the_photo_caption_and_credit() -> None:
    article = _article(next(SEEDS.glob("000_*.txt")))
    assert article.title.startswith("Scale AI founder Alexandr Wang told staff members in a memorandum")
    assert "Squawk Box" not in article.title and "CNBC" not in article.title
    assert article.published is None


def test_seed_003_date_line_becomes_published_and_the_title_follows_it() -> None:
    article = _article(next(SEEDS.glob("003_*.txt")))
    assert article.published == datetime(2025, 6, 13, tzinfo=timezone.utc)
    assert article.title.startswith("New Delhi: Alexandr Wang, the founder and CEO of Scale AI")
    assert article.title.endswith("WhatsApp).")  # its first sentence


def test_seed_headlines_are_kept_as_they_are() -> None:
    assert _article(next(SEEDS.glob("002_*.txt"))).title == "Meta hires 28-year-old CEO of Scale AI following significant investment in the startup."
    assert _article(next(SEEDS.glob("004_*.txt"))).title == "Scale AI Receives Investment from Meta, CEO Alexandr Wang Steps Down"


def test_a_long_title_is_cut_after_a_whole_word() -> None:
    text = " ".join(["reconstruction"] * 40) + "\nbody"
    title, _ = text_title(text, 300)
    assert len(title) <= 300 and title.endswith("reconstruction") and text.startswith(title + " ")
    assert text_title("数" * 400, 300)[0] == "数" * 300  # no spaces: cut at the limit


def test_written_dates_labels_and_credits() -> None:
    assert text_title("Published: June 13, 2025\nMarkets fall | Reuters\nBody.", 300) == ("Markets fall | Reuters", "2025-06-13")
    assert text_title("Photo: AP\nStorm hits coast\nBody.", 300) == ("Storm hits coast", None)
    assert text_title("Friday, 13 Sept. 2025 - Floods reach the capital. More later.", 300) == ("Floods reach the capital.", "2025-09-13")
    assert text_title("Headline here\nBy Jane Doe | Reuters\nBody.", 300) == ("Headline here", None)  # a byline is no credit


def test_a_markdown_title_counts_once(tmp_path: Path) -> None:
    body = "Winds of 120 km/h tore roofs off homes along the shore on Tuesday, officials said."
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "storm.md").write_text(f"# Storm hits coast\n\n{body}\n", encoding="utf-8")
    (document,) = run(tmp_path / "feed", tmp_path / "out").iter_rows(named=True)
    assert document["title"] == "Storm hits coast"
    assert document["words"] == 3 + 16  # the heading's words and the body's, once


def test_a_title_inside_the_text_is_not_put_in_front_again() -> None:
    for name in ("000_*.txt", "003_*.txt"):
        article = _article(next(SEEDS.glob(name)))
        assert _full_text(article.title, article.text) == article.text
    assert _full_text("Storm hits coast", "Winds tore roofs.") == "Storm hits coast\nWinds tore roofs."  # a record's own title field


def test_report_and_state_directories_inside_the_feed_are_not_read(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.txt").write_text("Storm hits coast\nWinds tore roofs off homes on Tuesday.\n", encoding="utf-8")
    for _ in range(2):  # the second run finds the first one's reports and state inside the feed
        documents = run(feed, feed / "reports", state_dir=feed / "state")
    assert documents["path"].to_list() == ["a.txt"]
    assert pl.read_parquet(feed / "reports" / "rejected.parquet").height == 0
    assert list_feed_files(feed, skip=[feed / "reports", feed / "state"]) == [feed / "a.txt"]
    assert len(list_feed_files(feed)) > 1  # without skip, the reports would be read
