"""Variant diffs: how a story member differs from its canonical, sentence by sentence, fact by fact.

Both texts are split into sentences. Sentences identical in both, in order,
are *the same* (difflib's matching blocks over the sentence lists, compiled:
``matching``). A variant sentence standing
in place of a canonical one (difflib's replaced blocks, side by side) that
keeps at least half its words in order is *edited*: the words (for text
without spaces, the runs of characters) changed are listed. Each other
variant sentence is aligned to the canonical sentence it retells: the most
similar one, by word and fact similarity (``similarities``), if at least
``diff.min_similarity``: *retold*. Variant sentences aligned to none are
*added*; canonical sentences no variant sentence edits or retells are *removed*.

What an editor asks of a rewrite is which facts it adds or drops: the
figures ("$29 billion", "49%") and names ("Los Alamos") of a sentence that
the other text holds nowhere (``sentence_facts``) are listed per aligned pair and for the whole
variant, and ``summary`` says it in one line: "sentences: 12 retold,
9 dropped, 7 new; adds $29 billion, Los Alamos; drops 14.3".
"""
from __future__ import annotations

import gc
import re
from collections.abc import Container, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import TypedDict

import numpy as np

from dedup.config import DiffConfig
from dedup.kernels.matching import ids, matching_blocks
from dedup.kernels.scripts import NO_SPACE
from dedup.kernels.sentence_facts import Sentence, missing_facts, text_facts

_CASELESS_LETTERS = "\u0590-\u05ff\u0600-\u06ff\u0900-\u097f" + NO_SPACE
"""Hebrew, Arabic, Devanagari and the scripts without spaces (``scripts.NO_SPACE``): letters with no capitals."""
_SENTENCE_OPENS = "A-Z0-9\u00c0-\u00d6\u00d8-\u00de\u0391-\u03a9\u0400-\u042f" + _CASELESS_LETTERS
"""What a sentence may open with after an end mark and a space: a capital (Latin, Greek, Cyrillic), a digit or a caseless letter."""
SENTENCE_END = re.compile(
    r"[.!?\u061f\u06d4\u0964\u3002\n]"
    r"(?:(?<=\u3002)[\u300d\u300f\uff09)\]\"']*\s*"
    rf"|(?<=[.!?\u061f\u06d4\u0964])[\"')\]\u300d\u300f]*(?:\s+(?=[\"'(\[]?[{_SENTENCE_OPENS}])|(?=[{NO_SPACE}]))"
    r"|(?<=\n)\n*)"
)
"""A sentence break: a Chinese or Japanese full stop 。 (closing brackets and
spaces after it dropped); an end mark (. ! ? and Arabic ؟, Urdu ۔, Devanagari
।), closing quotes or brackets, then spaces before a sentence opening (a
capital, a digit or a caseless letter) or, without a space, a character of a
script written without spaces (！ and ？ are ! and ? once normalised); or a
run of newlines. The end mark stays with its sentence, the rest is dropped.
(The pattern opens with one set of the characters a break starts with, not
with a lookbehind or an alternation, so the regex engine scans for those and
tries it only there.)"""
_NO_SPACE_CHARACTER = re.compile(rf"[{NO_SPACE}]")
_TOKEN = re.compile(rf"[{NO_SPACE}]|[^\s{NO_SPACE}]+")
"""Diff tokens: a character of a script without spaces, else a run of other non-space characters (a word with its punctuation)."""
FACT_WEIGHT = 2.0
"""A figure or name weighs this many times a word of the same spread."""
_MIN_CHANGED_RATIO = 0.5
"""An aligned pair keeping at least this share of its words in order (difflib's ratio) is an edit, and its changed words are listed."""


class ChangedSentence(TypedDict):
    canonical: str
    variant: str
    similarity: float | None
    edited: bool
    words_removed: list[str]
    words_added: list[str]
    facts_removed: list[str]
    facts_added: list[str]


class VariantDiff(TypedDict):
    summary: str
    sentences_same: int
    sentences_added: list[str]
    sentences_removed: list[str]
    sentences_changed: list[ChangedSentence]
    facts_added: list[str]
    facts_removed: list[str]


def split_sentences(text: str, limit: int) -> list[str]:
    """The first ``limit`` sentences of ``text`` (``SENTENCE_END``), stripped."""
    pieces, start = [], 0
    for found in SENTENCE_END.finditer(text):
        end = found.start() + (text[found.start()] != "\n")  # keep the end mark
        pieces.append(text[start:end])
        start = found.end()
    pieces.append(text[start:])
    return [s.strip() for s in pieces if s and s.strip()][:limit]


def similarities(old: list[Sentence], new: list[Sentence], total: int) -> np.ndarray:
    """How alike each canonical sentence (rows) is to each variant sentence
    (columns): the weighted Dice coefficient of their terms (content words,
    figures and names),

        similarity = 2 w(A ∩ B) / (w(A) + w(B)),  w(t) = ln((N + 1) / n_t), times ``FACT_WEIGHT`` for a fact,

    for N sentences in the two texts (``total``), n_t of the sentences
    compared holding term t (sentences the same in both are not compared).
    The story's own subject ("Meta", "Scale", "AI" in every other sentence)
    then tells little and its particulars much: retellings keep the figures
    and names and change the words around them."""
    if not old or not new:
        return np.zeros((len(old), len(new)))
    # each sentence's terms sorted: a set's order changes with the string hash
    # seed, run to run, and the order the weights are summed in moves the last
    # bits of a similarity, enough to turn a near tie between two sentences
    terms = [[sorted(sentence.words | sentence.facts) for sentence in side] for side in (old, new)]
    # terms numbered in order of first appearance, the old side's first
    vocabulary = {term: k for k, term in enumerate(dict.fromkeys(chain.from_iterable(chain.from_iterable(terms))))}
    facts = set().union(*(sentence.facts for side in (old, new) for sentence in side))
    a, b = (np.zeros((len(side), len(vocabulary))) for side in (old, new))
    for matrix, side in zip((a, b), terms):
        sizes = [len(sentence) for sentence in side]
        columns = np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(side)), dtype=np.intp, count=sum(sizes))
        matrix[np.repeat(np.arange(len(side)), sizes), columns] = 1.0
    held = a.sum(axis=0) + b.sum(axis=0)
    is_fact = np.fromiter(map(facts.__contains__, vocabulary), dtype=bool, count=len(vocabulary))
    weight = np.log((total + 1) / np.maximum(held, 1)) * np.where(is_fact, FACT_WEIGHT, 1.0)
    shared = (a * weight) @ b.T
    sizes = (a @ weight)[:, None] + (b @ weight)[None, :]
    return np.divide(2 * shared, sizes, out=np.zeros_like(shared), where=sizes > 0)


def _tokens(sentence: str) -> list[str]:
    """Diff tokens (``_TOKEN``): words, and characters of scripts without spaces."""
    return _TOKEN.findall(sentence) if _NO_SPACE_CHARACTER.search(sentence) else sentence.split()


def _joined(tokens: list[str]) -> list[str]:
    """Changed tokens as listed: words one by one, a run of characters of a script without spaces as one string."""
    out: list[str] = []
    for token, previous in zip(tokens, [""] + tokens[:-1]):
        if out and _NO_SPACE_CHARACTER.fullmatch(token) and _NO_SPACE_CHARACTER.fullmatch(previous[-1:] or " "):
            out[-1] += token
        else:
            out.append(token)
    return out


def _word_changes(canonical: str, variant: str) -> tuple[bool, list[str], list[str]]:
    """Whether the pair is an edit (``_MIN_CHANGED_RATIO`` of its tokens kept in
    order: difflib's ratio, 2 M / T for M tokens in its matching blocks of T),
    and if so the tokens removed and added (runs of characters, for text
    without spaces): those between the blocks, as difflib's opcodes list them."""
    old, new = _tokens(canonical), _tokens(variant)
    # upper bounds of the ratio first: most retold pairs are ruled out without aligning them
    if 2 * min(len(old), len(new)) < _MIN_CHANGED_RATIO * (len(old) + len(new)):
        return False, [], []
    if 2.0 * _matches_bound(old, new) / (len(old) + len(new)) < _MIN_CHANGED_RATIO:
        return False, [], []
    blocks = matching_blocks(*ids(old, new)).tolist()
    if 2.0 * sum(size for _, _, size in blocks) / (len(old) + len(new)) < _MIN_CHANGED_RATIO:
        return False, [], []
    join = _joined if _NO_SPACE_CHARACTER.search(canonical) or _NO_SPACE_CHARACTER.search(variant) else list
    removed, added = [], []
    for i1, i2, j1, j2 in _gaps(blocks):
        removed += join(old[i1:i2])
        added += join(new[j1:j2])
    return True, removed, added


def _gaps(blocks: list[list[int]]) -> Iterator[tuple[int, int, int, int]]:
    """The ranges ``old[i1:i2]``, ``new[j1:j2]`` before each of difflib's
    matching ``blocks`` (its opcodes other than "equal"; either may be empty)."""
    i = j = 0
    for block_i, block_j, size in blocks:
        yield i, block_i, j, block_j
        i, j = block_i + size, block_j + size


def _matches_bound(old: list[str], new: list[str]) -> int:
    """An upper bound of the tokens two lists can match (of their multiset
    intersection, which ``quick_ratio`` counts in Python): the distinct tokens
    they share, plus the repeats of the side with fewer repeats (a shared
    token matches at most as often as it occurs), by set operations in C."""
    distinct_old, distinct_new = set(old), set(new)
    repeats = min(len(old) - len(distinct_old), len(new) - len(distinct_new))
    return len(distinct_old.intersection(distinct_new)) + repeats


def _align(similarity: np.ndarray, min_similarity: float) -> list[tuple[int, int]]:
    """(row, column) of ``similarity`` for each column (a variant sentence)
    whose most similar row (canonical sentence) is at least ``min_similarity``
    alike (ties: the earlier row). A canonical sentence may be retold by
    several variant sentences (a rewrite splits it)."""
    if not similarity.size:
        return []
    best = similarity.argmax(axis=0)
    return [(int(i), j) for j, i in enumerate(best.tolist()) if similarity[i, j] >= min_similarity]


class Canonical:
    """A canonical as its variants are compared with it: its sentences, and
    what is worked out of them once for all its variants (each sentence's
    ``Sentence``, the text's numbers and words), as a variant first needs it."""

    def __init__(self, text: str, max_sentences: int) -> None:
        self.sentences = split_sentences(text, max_sentences)
        self._parsed: dict[int, Sentence] = {}
        self._facts: tuple[set[str], Container[str]] | None = None

    def sentence(self, i: int) -> Sentence:
        if i not in self._parsed:
            self._parsed[i] = Sentence(self.sentences[i])
        return self._parsed[i]

    def facts(self) -> tuple[set[str], Container[str]]:
        if self._facts is None:
            self._facts = text_facts(self.sentences)
        return self._facts


def diff_sentences(canonical: Canonical, variant: str, config: DiffConfig) -> VariantDiff:
    """The differences of ``variant`` from ``canonical``."""
    old, new = canonical.sentences, split_sentences(variant, config.max_sentences)
    if old == new:
        return _unchanged(len(old))
    blocks = matching_blocks(*ids(old, new)).tolist()  # difflib's, over the sentences
    same = sum(size for _, _, size in blocks)
    rest_old, rest_new = _unmatched(blocks)
    # only sentences not the same in both are compared: a near-copy's few, a rewrite's all
    old_sentences = {i: canonical.sentence(i) for i in rest_old}
    new_sentences = {j: Sentence(new[j]) for j in rest_new}
    missing_old = missing_facts([old_sentences[i] for i in rest_old], rest_old, lambda: text_facts(new))
    missing_new = missing_facts([new_sentences[j] for j in rest_new], rest_new, canonical.facts)
    in_place = _edits_in_place(blocks, old, new)
    edits = [pair for pair, change in in_place.items() if change[0]]
    edited_old, edited_new = {i for i, _ in edits}, {j for _, j in edits}
    free_old, free_new = [i for i in rest_old if i not in edited_old], [j for j in rest_new if j not in edited_new]
    similarity = similarities([old_sentences[i] for i in free_old], [new_sentences[j] for j in free_new], len(old) + len(new))
    aligned: list[tuple[int, int, float | None]] = [(i, j, None) for i, j in edits]
    aligned += [(free_old[a], free_new[b], round(float(similarity[a, b]), 3)) for a, b in _align(similarity, config.min_similarity)]
    changed, retold, moved = [], set(), 0
    for i, j, similarity in sorted(aligned, key=lambda pair: pair[1]):
        retold.add(i)
        if old[i] == new[j]:  # the same sentence, moved
            moved += 1
            continue
        edited, words_removed, words_added = in_place.get((i, j), _RETOLD)
        changed.append(
            ChangedSentence(
                canonical=old[i], variant=new[j], similarity=similarity, edited=edited,
                words_removed=words_removed, words_added=words_added,
                facts_removed=missing_old.get(i, []), facts_added=missing_new.get(j, []),
            )
        )  # fmt: skip
    aligned_new = {j for _, j, _ in aligned}
    result = VariantDiff(
        summary="",
        sentences_same=same + moved,
        sentences_added=[new[j] for j in rest_new if j not in aligned_new],
        sentences_removed=[old[i] for i in rest_old if i not in retold],
        sentences_changed=changed,
        facts_added=_distinct([fact for j in rest_new for fact in missing_new.get(j, [])]),
        facts_removed=_distinct([fact for i in rest_old for fact in missing_old.get(i, [])]),
    )
    result["summary"] = summarise(result, config.summary_facts)
    return result


_RETOLD = (False, [], [])
"""The word changes of a pair aligned by similarity, not in place: a retelling (its words are not listed)."""


def _edits_in_place(blocks: list[list[int]], old: list[str], new: list[str]) -> dict[tuple[int, int], tuple[bool, list[str], list[str]]]:
    """The ``_word_changes`` of the sentence pairs that stand in place of each
    other (between two matching ``blocks``, sentences on both sides: difflib's
    replaced blocks, side by side): those that are edits are a near-copy's
    changed sentences, found without comparing each with every other."""
    return {(i, j): _word_changes(old[i], new[j]) for i1, i2, j1, j2 in _gaps(blocks) for i, j in zip(range(i1, i2), range(j1, j2))}


def _unmatched(blocks: list[list[int]]) -> tuple[list[int], list[int]]:
    """The indices of the sentences of each side outside the matching ``blocks`` (the same sentences, in order)."""
    gaps = list(_gaps(blocks))
    return [i for i1, i2, _, _ in gaps for i in range(i1, i2)], [j for _, _, j1, j2 in gaps for j in range(j1, j2)]


def _distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unchanged(sentences: int) -> VariantDiff:
    return VariantDiff(
        summary="same text", sentences_same=sentences, sentences_added=[], sentences_removed=[], sentences_changed=[], facts_added=[], facts_removed=[]
    )


def summarise(diff: VariantDiff, facts_shown: int) -> str:
    """One line for an editor: the sentence counts, then the facts added and
    dropped (``facts_shown`` of each at most, "and N more")."""
    edited = sum(1 for c in diff["sentences_changed"] if c["edited"])
    counts = [
        (diff["sentences_same"], "the same"), (edited, "edited"), (len(diff["sentences_changed"]) - edited, "retold"),
        (len(diff["sentences_removed"]), "dropped"), (len(diff["sentences_added"]), "new"),
    ]  # fmt: skip
    parts = ["sentences: " + ", ".join(f"{n} {what}" for n, what in counts if n)]
    for verb, facts in (("adds", diff["facts_added"]), ("drops", diff["facts_removed"])):
        if facts:
            more = len(facts) - facts_shown
            parts.append(f"{verb} {', '.join(facts[:facts_shown])}" + (f" and {more} more" if more > 0 else ""))
    return "; ".join(parts)


def diff_pairs(pairs: list[tuple[str, str]], config: DiffConfig) -> list[VariantDiff]:
    """Differences of each variant from its canonical, for ``(canonical, variant)`` pairs (a worker's chunk).

    Each canonical is split and read once however many variants it has
    (``Canonical``), and an exact copy (the commonest variant) is not split at all.
    The cyclic garbage collector is paused meanwhile (``_collector_paused``)."""
    known: dict[str, Canonical] = {}
    diffs = []
    with _collector_paused():
        for text, variant in pairs:
            canonical = known.get(text)
            if canonical is None:
                canonical = known[text] = Canonical(text, config.max_sentences)
            diffs.append(_unchanged(len(canonical.sentences)) if variant == text else diff_sentences(canonical, variant, config))
    return diffs


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off, then as it was. A diff makes many
    small containers (sentences, facts, lists) and no reference cycle, so
    reference counting frees them all; the collector would only walk them
    and the growing list of diffs again and again (a sixth of the stage's
    time on the 20k synthetic feed)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
