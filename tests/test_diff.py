"""Variant diffs: sentence splitting and the sentence- and word-level changes."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import polars as pl
from corpus import SEEDS, run
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import DiffConfig
from dedup.kernels.diff import diff_pairs, split_sentences
from dedup.kernels.matching import ids, matching_blocks
from dedup.kernels.sentence_facts import _has_words, text_facts

CONFIG = DiffConfig()

# the rule split_sentences implements, as one regex split: its oracle
_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(".!?\"')](['\n\t aB9x")), max_size=30))
def test_sentences_split_as_the_break_rule_says(text: str) -> None:
    expected = [s.strip() for s in _BREAK.split(text) if s and s.strip()]
    assert split_sentences(text, 1000) == expected


def test_sentences_keep_their_end_mark_and_drop_closing_quotes() -> None:
    assert split_sentences('He said "no." Then he left!\n\nA new line', 10) == ['He said "no.', "Then he left!", "A new line"]
    assert split_sentences("One. Two. Three.", 2) == ["One.", "Two."]


def test_a_variant_differs_by_added_removed_and_changed_sentences() -> None:
    canonical = "The mayor opened the bridge on Monday. It cost 40 million. Crowds cheered."
    variant = "The mayor opened the new bridge on Monday. Crowds cheered. Traffic resumed at noon."
    (diff,) = diff_pairs([(canonical, variant)], CONFIG)
    assert diff["sentences_same"] == 1
    assert diff["sentences_removed"] == ["It cost 40 million."]
    assert diff["sentences_added"] == ["Traffic resumed at noon."]
    (changed,) = diff["sentences_changed"]
    assert changed["edited"] and changed["similarity"] is None and changed["words_added"] == ["new"] and changed["words_removed"] == []
    assert diff["facts_removed"] == ["40 million"] and diff["facts_added"] == []
    assert diff["summary"] == "sentences: 1 the same, 1 edited, 1 dropped, 1 new; drops 40 million"


def test_an_exact_copy_is_the_same_text() -> None:
    text = "The mayor opened the bridge on Monday. Crowds cheered."
    (diff,) = diff_pairs([(text, text)], CONFIG)
    assert diff["summary"] == "same text" and diff["sentences_same"] == 2 and not diff["sentences_changed"]


def test_a_rewrite_aligns_each_sentence_to_the_one_it_retells_and_names_the_facts_it_adds_and_drops() -> None:
    canonical = (
        "Meta will invest $14.3 billion in Scale AI, taking a 49% stake. "
        "Founder Alexandr Wang will join Meta to work on superintelligence. "
        "Jason Droege, the chief strategy officer, becomes interim chief executive. "
        "The deal gives Meta no voting rights."
    )
    variant = (
        "Scale AI's founder, Alexandr Wang, is leaving to lead superintelligence work at Meta. "
        "The social network is paying $14.3 billion for 49% of the startup, valuing it at $29 billion. "
        "Strategy chief Jason Droege takes over as interim boss. "
        "Wang grew up in Los Alamos, New Mexico."
    )
    (diff,) = diff_pairs([(canonical, variant)], CONFIG)
    retold = {c["variant"].split()[0]: c["canonical"].split()[0] for c in diff["sentences_changed"]}
    assert retold == {"Scale": "Founder", "The": "Meta", "Strategy": "Jason"}  # each to the sentence it retells, not in order
    assert diff["sentences_removed"] == ["The deal gives Meta no voting rights."]
    assert diff["sentences_added"] == ["Wang grew up in Los Alamos, New Mexico."]
    (valuation,) = [c for c in diff["sentences_changed"] if "$29 billion" in c["variant"]]
    assert valuation["facts_added"] == ["$29 billion"] and valuation["facts_removed"] == [] and not valuation["edited"]
    assert diff["facts_added"] == ["$29 billion", "Los Alamos", "New Mexico"]
    assert diff["summary"] == "sentences: 3 retold, 1 dropped, 1 new; adds $29 billion, Los Alamos, New Mexico"


def test_sentences_end_at_chinese_japanese_and_arabic_marks() -> None:
    assert split_sentences("東京は晴れです。大阪は雨です。", 10) == ["東京は晴れです。", "大阪は雨です。"]
    assert split_sentences("本当ですか?はい!", 10) == ["本当ですか?", "はい!"]  # ！ and ？ once normalised
    assert split_sentences("هل هذا صحيح؟ نعم. شكرا", 10) == ["هل هذا صحيح؟", "نعم.", "شكرا"]
    assert split_sentences("e.g. this stays one. Next one", 10) == ["e.g. this stays one.", "Next one"]


def test_a_japanese_one_sentence_edit_shows_the_sentence_and_the_characters_changed() -> None:
    # from the first paragraph of Japanese Wikipedia's "東京" article (CC BY-SA), one word changed
    canonical = "東京は日本の首都である。人口は約1400万人で、日本で最も多い。多くの企業の本社が集まっている。"
    variant = "東京は日本の首都である。人口は約1400万人で、世界で最も多い。多くの企業の本社が集まっている。"
    (diff,) = diff_pairs([(canonical, variant)], CONFIG)
    assert diff["sentences_same"] == 2 and not diff["sentences_added"] and not diff["sentences_removed"]
    (changed,) = diff["sentences_changed"]
    assert changed["canonical"] == "人口は約1400万人で、日本で最も多い。" and changed["variant"] == "人口は約1400万人で、世界で最も多い。"
    assert changed["edited"] and changed["words_removed"] == ["日本"] and changed["words_added"] == ["世界"]


def test_a_chinese_one_character_edit_is_one_character() -> None:
    canonical = "今天北京下雨。明天会更冷。"
    variant = "今天上海下雨。明天会更冷。"
    (diff,) = diff_pairs([(canonical, variant)], CONFIG)
    (changed,) = diff["sentences_changed"]
    assert (changed["words_removed"], changed["words_added"]) == (["北京"], ["上海"]) and diff["sentences_same"] == 1


def test_seed_rewrites_list_aligned_sentences_and_the_facts_they_add_or_drop(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "feed")
    run(tmp_path / "feed", tmp_path / "out")
    variants = {row["doc_id"][:3]: row for row in pl.read_parquet(tmp_path / "out" / "variants.parquet").iter_rows(named=True)}
    assert set(variants) == {"000", "001", "002", "004"}  # 003, dated, is the canonical
    for row in variants.values():
        assert row["sentences_changed"] and all(c["edited"] or c["similarity"] >= CONFIG.min_similarity for c in row["sentences_changed"])
        assert row["summary"].startswith("sentences: ") and "retold" in row["summary"]
    assert "$29 billion" in variants["002"]["facts_added"] and "$29 billion" in variants["004"]["facts_added"]
    assert "Los Alamos" in variants["002"]["facts_added"]
    assert "January" in variants["001"]["facts_added"]  # the misdated memo
    assert "2025-06-13" in variants["002"]["facts_removed"]  # the canonical's date line
    (lede,) = [c for c in variants["001"]["sentences_changed"] if c["canonical"].startswith("date 2025-06-13 New Delhi")]
    assert lede["variant"].startswith("Alexandr Wang, the founder and CEO of Scale AI, has announced his departure")
    canonical_sentences = [c["canonical"] for c in variants["000"]["sentences_changed"]] + variants["000"]["sentences_removed"]
    assert sum(s.startswith("date 2025-06-13 New Delhi") for s in canonical_sentences) <= 1  # the lede once, not twice


_SIMILARITIES_BYTES = """
import json
import sys
from itertools import permutations
from pathlib import Path
from dedup.config import DiffConfig
from dedup.kernels.diff import diff_pairs, similarities, split_sentences
from dedup.kernels.sentence_facts import Sentence
documents = [path.read_text(encoding="utf-8") for path in sorted(Path(sys.argv[1]).glob("*.txt"))]
sentences = [Sentence(s) for text in documents for s in split_sentences(text, 400)]
sys.stdout.write(similarities(sentences[:40], sentences[40:80], 80).tobytes().hex())
sys.stdout.write(json.dumps(diff_pairs(list(permutations(documents, 2)), DiffConfig())))
"""


def test_similarities_and_diffs_do_not_depend_on_the_string_hash_seed() -> None:
    """The terms' weights are summed in one order whatever order Python's sets
    keep them in (it changes with PYTHONHASHSEED, run to run): a near tie
    between two sentences then goes the same way in every run; and the diffs
    of the seeds' pairs list everything in one order."""
    import os
    import subprocess
    import sys

    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SIMILARITIES_BYTES, str(SEEDS)], env=os.environ | {"PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1 and len(next(iter(outputs))) > 1000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("aB9_-'é. \n")), max_size=8), max_size=6), st.lists(st.text(alphabet=st.sampled_from(list("ab9_-'é")), min_size=1, max_size=6), max_size=6))
def test_a_text_holds_a_name_when_the_set_of_its_words_does(sentences: list[str], keys: list[str]) -> None:
    text = "\n".join(sentences)
    _, words = text_facts(sentences)
    every_word = set(re.findall(r"\w+", text.casefold()))  # the plain rule: the text's words, case-folded
    for key in keys + sorted(every_word):
        assert _has_words(words, key) == set(re.findall(r"\w+", key)).issubset(every_word)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=30), st.lists(st.sampled_from("abcdef"), max_size=30))
def test_compiled_matching_blocks_are_difflibs(a: list[str], b: list[str]) -> None:
    expected = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    assert matching_blocks(*ids(a, b)).tolist() == [list(block) for block in expected]
