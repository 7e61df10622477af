"""Variant diffs: sentence splitting and the sentence- and word-level changes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.kernels.diff import diff_pairs, split_sentences

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
    (diff,) = diff_pairs([(canonical, variant)], max_sentences=50)
    assert diff["sentences_same"] == 1
    assert diff["sentences_removed"] == ["It cost 40 million."]
    assert diff["sentences_added"] == ["Traffic resumed at noon."]
    (changed,) = diff["sentences_changed"]
    assert changed["words_added"] == ["new"] and changed["words_removed"] == []
