"""Paraphrase: rewrites of one story (spun, summarised, re-ledded) found at feed scale.

Rewrites share few word n-grams but keep the story's facts: its names and
numbers. So the stage works on one document per near-copy group:

1. Candidates: MinHash-LSH over each document's salient facts (its names and
   numbers ranked by count times rarity), targeting Jaccard
   ``paraphrase.lsh_threshold``.
   No all-pairs comparison.
2. Score: the geometric mean of two TF-IDF cosines, one over content words
   and one over facts (``terms.TermVector``), with IDF from the documents
   being clustered plus a background of ordinary English (``_idf``).
   IDF is what tells a story from its topic: words shared by a whole topic
   (thirty articles on one plane crash) weigh little, while the names and
   figures only one story has weigh much. Both cosines must be high; the
   geometric mean lets neither alone carry a pair.
3. Contrast: the score must stand out from how alike each document is to
   its topic (``verify_paraphrases``), unless it is high outright.
4. Facts and time: pairs published further apart than ``story.window_hours``
   must also agree on names and numbers (``same_story_possible``).

Measured by ``benchmarks/paraphrase_separation.py`` on seeds/ + wikiref220:
the ten seed pairs (five outlets' rewrites of one wire story) score 0.33 to
0.52; no seed scores above 0.07 with any background article; 42 of the 24,090
pairs of distinct wikiref220 articles reach the default 0.35 (several of them
two reports of one event), and average linkage keeps those from chaining.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize

from dedup.config import Config
from dedup.facts import Facts, same_story_possible
from dedup.lsh import band_keys, candidate_pairs, lsh_params
from dedup.sketch import Sketch
from dedup.terms import FEATURES, TermVector
from dedup.verify import Edge


BACKGROUND_DOCS = 1000


def _matrix(vectors: list[TermVector], idf: np.ndarray) -> csr_matrix:
    """Rows of ``tf * idf``, L2-normalised."""
    lengths = np.array([len(v.columns) for v in vectors], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    columns = np.concatenate([v.columns for v in vectors]) if vectors else np.empty(0, np.uint32)
    tf = np.concatenate([v.tf for v in vectors]) if vectors else np.empty(0, np.float32)
    matrix = csr_matrix((tf * idf[columns], columns.astype(np.int64), indptr), shape=(len(vectors), FEATURES), dtype=np.float32)
    return normalize(matrix)


def _idf(vectors: list[TermVector]) -> np.ndarray:
    """IDF where the feed's document frequencies are added to those of a
    background of ``BACKGROUND_DOCS`` ordinary English documents.

    Feed IDF alone fails both ways: in a small feed (five rewrites of one
    story) the story's own names are in every document and weigh least, while
    in a large feed IDF rightly discounts a topic's common words. With the
    background, a term weighs ``ln((1 + B + n) / (1 + B * q + df)) + 1`` for
    ``n`` feed documents, ``df`` of them holding it, and ``q`` its background
    share (``TermVector.background``): names rare in English weigh much, and
    weigh less as more of the feed repeats them.
    """
    columns = np.concatenate([v.columns for v in vectors]) if vectors else np.empty(0, np.uint32)
    df = np.bincount(columns, minlength=FEATURES).astype(np.float32)
    background = np.zeros(FEATURES, dtype=np.float32)
    if vectors:  # a column shared by two terms (a rare collision) takes the larger share, whatever the order
        np.maximum.at(background, columns, np.concatenate([v.background for v in vectors]))
    return (np.log((1 + BACKGROUND_DOCS + len(vectors)) / (1 + BACKGROUND_DOCS * background + df)) + 1).astype(np.float32)


class ParaphraseScorer:
    """Weighted word and fact vectors of a set of documents; scores pairs.

    The weights (IDF) come from the documents given; ``transform`` applies the
    same weights to others.
    """

    def __init__(self, sketches: list[Sketch]) -> None:
        self._word_idf = _idf([s.words_vector for s in sketches])
        self._fact_idf = _idf([s.facts_vector for s in sketches])
        self.word_vectors, self.fact_vectors = self.transform(sketches)

    def transform(self, sketches: list[Sketch]) -> tuple[csr_matrix, csr_matrix]:
        return _matrix([s.words_vector for s in sketches], self._word_idf), _matrix([s.facts_vector for s in sketches], self._fact_idf)

    @staticmethod
    def score_rows(words_a: csr_matrix, facts_a: csr_matrix, words_b: csr_matrix, facts_b: csr_matrix) -> np.ndarray:
        """Row-wise paraphrase scores of two equally long stacks of vectors."""
        return _geometric_mean(_row_dots(words_a, words_b), _row_dots(facts_a, facts_b))

    def fact_cosines(self, pairs: np.ndarray) -> np.ndarray:
        """Cosine of the fact vectors of each pair (cheap: documents have few facts)."""
        return _blocked_dots(self.fact_vectors, pairs)

    def score_pairs(self, pairs: np.ndarray, fact_cosines: np.ndarray | None = None) -> np.ndarray:
        """Paraphrase score of each pair (rows ``(i, j)`` of the scorer's documents)."""
        facts = self.fact_cosines(pairs) if fact_cosines is None else fact_cosines
        return _geometric_mean(_blocked_dots(self.word_vectors, pairs), facts)


PAIRS_PER_BLOCK = 10_000  # bounds the rows copied at once (a pair copies two documents' vectors)


def _row_dots(a: csr_matrix, b: csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1), dtype=np.float32).ravel()


def _blocked_dots(vectors: csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Dot products of the rows of each pair, a block of pairs at a time."""
    out = np.zeros(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), PAIRS_PER_BLOCK):
        block = pairs[start : start + PAIRS_PER_BLOCK]
        out[start : start + len(block)] = _row_dots(vectors[block[:, 0]], vectors[block[:, 1]])
    return out


def _geometric_mean(word_cosines: np.ndarray, fact_cosines: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(word_cosines, 0, 1) * np.clip(fact_cosines, 0, 1))


def paraphrase_candidates(fact_signatures: np.ndarray, config: Config) -> np.ndarray:
    """Candidate pairs (indices into ``fact_signatures``) from LSH over the fact fingerprints."""
    para = config.paraphrase
    bands, rows = lsh_params(para.lsh_threshold, para.num_perm)
    return candidate_pairs(band_keys(fact_signatures, bands, rows), config.near_copy.max_bucket)


def background_levels(pairs: np.ndarray, scores: np.ndarray, n: int, rank: int) -> np.ndarray:
    """Each document's ``rank``-th highest score among its candidate pairs (0
    when it has fewer): how similar it is to its topic, not to its story."""
    if len(pairs) == 0:
        return np.zeros(n, dtype=np.float32)
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    values = np.concatenate([scores, scores])
    order = np.lexsort((-values, ends))
    ends, values = ends[order], values[order]
    starts = np.searchsorted(ends, np.arange(n))
    counts = np.searchsorted(ends, np.arange(n), side="right") - starts
    levels = np.zeros(n, dtype=np.float32)
    has = counts >= rank
    levels[has] = values[starts[has] + rank - 1]
    return levels


def verify_paraphrases(
    pairs: np.ndarray, scorer: ParaphraseScorer, facts: list[Facts], published: list[datetime | None], config: Config
) -> list[Edge]:
    """Verified paraphrase edges among candidate ``pairs`` of the scorer's documents.

    A pair is a rewrite of one story when its score reaches ``min_score`` and
    either reaches ``strong_score`` or stands out from both documents' topic:
    at least ``min_contrast`` times the geometric mean of their background
    levels (``background_levels``). Thirty articles on one plane crash are
    all fairly alike, so none stands out; five rewrites of one story stand
    out from everything else their outlets published.
    """
    para, story = config.paraphrase, config.story
    n = len(facts)
    # Word cosines are the costly part, so they are computed only where a
    # decision needs them. A score is at most the square root of its fact
    # cosine (the word cosine is at most 1): that rules out most pairs, and
    # levels taken from such upper bounds are at least the true levels, which
    # settles most contrast tests. Only the rest need their documents' exact levels.
    fact_cosines = scorer.fact_cosines(pairs)
    scores = np.sqrt(np.clip(fact_cosines, 0, 1))
    exact = np.zeros(len(pairs), dtype=bool)

    def score(where: np.ndarray) -> None:
        where = where[~exact[where]]
        scores[where] = scorer.score_pairs(pairs[where], fact_cosines[where])
        exact[where] = True

    score(np.flatnonzero(scores >= 0.999 * para.min_score))  # margin for rounding
    found = np.flatnonzero(exact & (scores >= para.min_score))
    weak = found[scores[found] < para.strong_score]
    upper = _levels_of(_endpoints(pairs[weak], n), pairs, scores, para.contrast_rank)
    unsure = weak[~_stands_out(scores[weak], pairs[weak], upper, para.min_contrast)]
    unsure_docs = _endpoints(pairs[unsure], n)
    score(np.flatnonzero(unsure_docs[pairs[:, 0]] | unsure_docs[pairs[:, 1]]))
    levels = _levels_of(unsure_docs, pairs, scores, para.contrast_rank)
    passed = np.ones(len(pairs), dtype=bool)
    passed[unsure] = _stands_out(scores[unsure], pairs[unsure], levels, para.min_contrast)
    edges = []
    for k in found[passed[found]].tolist():
        i, j = pairs[k].tolist()
        if same_story_possible(facts[i], facts[j], published[i], published[j], story.window_hours, story.min_fact_agreement, undated_needs_numbers=False):
            edges.append(Edge(i, j, "paraphrase", float(scores[k])))
    return edges


def _endpoints(pairs: np.ndarray, n: int) -> np.ndarray:
    """Which of ``n`` documents are in any of ``pairs``."""
    marked = np.zeros(n, dtype=bool)
    marked[pairs.ravel()] = True
    return marked


def _levels_of(docs: np.ndarray, pairs: np.ndarray, scores: np.ndarray, rank: int) -> np.ndarray:
    """``background_levels`` of the marked ``docs`` (exact for them: all their pairs are used)."""
    mine = docs[pairs[:, 0]] | docs[pairs[:, 1]]
    return background_levels(pairs[mine], scores[mine], len(docs), rank)


def _stands_out(scores: np.ndarray, pairs: np.ndarray, levels: np.ndarray, min_contrast: float) -> np.ndarray:
    """The contrast test: a score at least ``min_contrast`` times the geometric mean of the pair's levels."""
    return scores >= min_contrast * np.sqrt(levels[pairs[:, 0]] * levels[pairs[:, 1]]).astype(np.float64)
