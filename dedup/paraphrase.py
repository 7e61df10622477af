"""Paraphrase: rewrites of one story (spun, summarised, re-ledded) found at feed scale.

Rewrites share few word n-grams but keep the story's facts: its names and
numbers. So the stage works on one document per near-copy group:

1. Candidates: MinHash-LSH over each document's salient facts (its names and
   numbers ranked by count times rarity), targeting Jaccard
   ``paraphrase.lsh_threshold``.
   No all-pairs comparison.
2. Score: the geometric mean of two TF-IDF cosines, one over content words
   and one over facts, with IDF from the documents being clustered plus a
   background of ordinary English (``_Weighting``).
   IDF is what tells a story from its topic: words shared by a whole topic
   (thirty articles on one plane crash) weigh little, while the names and
   figures only one story has weigh much. Both cosines must be high; the
   geometric mean lets neither alone carry a pair.
3. Facts and time: pairs published further apart than ``story.window_hours``
   must also agree on names and numbers (``same_story_possible``).

Measured by ``benchmarks/paraphrase_separation.py`` on seeds/ + wikiref220:
the ten seed pairs (five outlets' rewrites of one wire story) score 0.33 to
0.51; no seed scores above 0.07 with any background article; 48 of the 24,090
pairs of distinct wikiref220 articles reach the default 0.35 (several of them
two reports of one event), and average linkage keeps those from chaining.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from wordfreq import word_frequency

from dedup.config import Config
from dedup.facts import Facts, same_story_possible
from dedup.lsh import band_keys, candidate_pairs, lsh_params
from dedup.verify import Edge


def _fact_terms(facts: Facts) -> list[str]:
    return sorted(facts.names | facts.numbers)


def _background_doc_share(terms: np.ndarray, doc_words: int) -> np.ndarray:
    """Share of ordinary English documents of ``doc_words`` words expected to
    contain each term, from its frequency in general English (wordfreq)."""
    frequency = np.fromiter((word_frequency(t, "en") for t in terms), dtype=np.float64, count=len(terms))
    return -np.expm1(-frequency * doc_words)


class _Weighting:
    """TF-IDF where the document frequencies of the feed are added to those of
    a background of ``BACKGROUND_DOCS`` ordinary English documents.

    Feed IDF alone fails both ways: in a small feed (five rewrites of one
    story) the story's own names are in every document and weigh least, while
    in a large feed IDF rightly discounts a topic's common words. With the
    background, a term weighs ``ln((1 + B + n) / (1 + B * q + df)) + 1`` for
    ``n`` feed documents, ``df`` of them holding it, and ``q`` its background
    document share: names rare in English weigh much, and weigh less as more
    of the feed repeats them.
    """

    BACKGROUND_DOCS = 1000
    DOC_WORDS = 400

    def __init__(self, vectorizer: TfidfVectorizer, documents: list) -> None:
        self.vectorizer = vectorizer
        counts = vectorizer.fit_transform(documents)
        terms = vectorizer.get_feature_names_out()
        df = np.bincount(counts.indices, minlength=len(terms))
        background = self.BACKGROUND_DOCS * _background_doc_share(terms, self.DOC_WORDS)
        self.idf = np.log((1 + self.BACKGROUND_DOCS + counts.shape[0]) / (1 + background + df)) + 1
        self.vectors = self._weigh(counts)

    def _weigh(self, counts: csr_matrix) -> csr_matrix:
        return normalize(counts.multiply(self.idf).tocsr().astype(np.float32))

    def transform(self, documents: list) -> csr_matrix:
        return self._weigh(self.vectorizer.transform(documents))


class ParaphraseScorer:
    """Weighted vectors of words and of facts for a set of documents; scores pairs."""

    def __init__(self, texts: list[str], facts: list[Facts]) -> None:
        words = TfidfVectorizer(stop_words="english", sublinear_tf=True, use_idf=False, norm=None)
        fact_terms = TfidfVectorizer(analyzer=_fact_terms, use_idf=False, norm=None)
        self._words = _Weighting(words, texts) if texts else None
        self._facts = _Weighting(fact_terms, facts) if facts else None
        self.word_vectors = self._words.vectors if self._words else csr_matrix((0, 0), dtype=np.float32)
        self.fact_vectors = self._facts.vectors if self._facts else csr_matrix((0, 0), dtype=np.float32)

    def transform(self, texts: list[str], facts: list[Facts]) -> tuple[csr_matrix, csr_matrix]:
        """Vectors of other documents under the same weights."""
        if not texts or self._words is None or self._facts is None:
            return csr_matrix((0, self.word_vectors.shape[1]), dtype=np.float32), csr_matrix((0, self.fact_vectors.shape[1]), dtype=np.float32)
        return self._words.transform(texts), self._facts.transform(facts)

    @staticmethod
    def score_rows(words_a: csr_matrix, facts_a: csr_matrix, words_b: csr_matrix, facts_b: csr_matrix) -> np.ndarray:
        """Row-wise paraphrase scores of two equally long stacks of vectors."""
        word_cos = np.asarray(words_a.multiply(words_b).sum(axis=1)).ravel()
        fact_cos = np.asarray(facts_a.multiply(facts_b).sum(axis=1)).ravel()
        return np.sqrt(np.clip(word_cos, 0, 1) * np.clip(fact_cos, 0, 1))

    def score_pairs(self, pairs: np.ndarray) -> np.ndarray:
        if len(pairs) == 0:
            return np.empty(0, dtype=np.float32)
        i, j = pairs[:, 0], pairs[:, 1]
        return self.score_rows(self.word_vectors[i], self.fact_vectors[i], self.word_vectors[j], self.fact_vectors[j])


def paraphrase_candidates(fact_signatures: np.ndarray, config: Config) -> np.ndarray:
    """Candidate pairs (indices into ``fact_signatures``) from LSH over the fact fingerprints."""
    para = config.paraphrase
    bands, rows = lsh_params(para.lsh_threshold, para.num_perm)
    return candidate_pairs(band_keys(fact_signatures, bands, rows), config.near_copy.max_bucket)


def verify_paraphrases(
    pairs: np.ndarray, scorer: ParaphraseScorer, facts: list[Facts], published: list[datetime | None], config: Config
) -> list[Edge]:
    """Verified paraphrase edges among candidate ``pairs`` of the scorer's documents."""
    story = config.story
    scores = scorer.score_pairs(pairs)
    edges = []
    for (i, j), score in zip(pairs.tolist(), scores.tolist()):
        if score >= config.paraphrase.min_score and same_story_possible(
            facts[i], facts[j], published[i], published[j], story.window_hours, story.min_fact_agreement, undated_needs_numbers=False
        ):
            edges.append(Edge(i, j, "paraphrase", score))
    return edges
