"""Paraphrase: rewrites of one story (spun, summarised, re-ledded) found at feed scale.

Rewrites share few word n-grams but keep the story's facts: its names and
numbers. So the stage works on one document per near-copy group:

1. Candidates: MinHash-LSH over each document's salient facts (its names and
   numbers ranked by count times rarity), targeting Jaccard
   ``paraphrase.lsh_threshold``; and a second, looser LSH over the same
   fingerprints (``event.lsh_threshold``) whose extra pairs can only be one
   event: another article on a happening shares fewer of its salient facts
   than a rewrite does. No all-pairs comparison.
2. Score: the geometric mean of two TF-IDF cosines, one over content words
   and one over facts (``terms.Terms``), with IDF from the documents
   being clustered plus a background of ordinary English (``_idf``).
   IDF is what tells a story from its topic: words shared by a whole topic
   (thirty articles on one plane crash) weigh little, while the names and
   figures only one story has weigh much. Pairs scoring under
   ``paraphrase.min_score`` (an extra event candidate: ``event.min_score``)
   are decided no further.
3. Features and decision (``score_candidates``): the cosines, the contrast
   (how far the score stands out from how alike each document is to its
   topic), shared numbers and names, time apart and lengths go to the pair
   model (``pair_model``), which calls the pair one story, one event, or
   neither.
4. Facts and time: story pairs published further apart than
   ``story.window_hours`` must also agree on names and numbers
   (``same_story_possible``, in the pipeline); otherwise they are one event.

What the model gives on real text: benchmarks/README.md (``train_pair_model.py``,
``story_quality.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

from dedup.arrays import Ragged, distinct_indices, index_in, shared_counts
from dedup.config import TERM_FEATURES, Config
from dedup.kernels.lsh import BlockMap, Buckets, band_keys, distinct_pairs, lsh_params, one_by_one, pairs_not_in
from dedup.kernels.pair_model import FEATURES as PAIR_FEATURES
from dedup.kernels.pair_model import PairModel
from dedup.kernels.row_dots import row_dots
from dedup.kernels.terms import TermCounts, Terms


def _matrix(terms: Terms, idf: np.ndarray) -> csr_matrix:
    """Rows of ``tf * idf``, L2-normalised (an empty row stays empty)."""
    columns, offsets = terms.columns.values, terms.columns.offsets
    weights = terms.tf * idf[columns]
    norms = np.sqrt(np.bincount(np.repeat(np.arange(len(terms)), np.diff(offsets)), weights=weights.astype(np.float64) ** 2, minlength=len(terms)))
    weights = weights / np.repeat(np.where(norms > 0, norms, 1.0), np.diff(offsets))
    index = np.int32 if len(columns) < 2**31 else np.int64  # TERM_FEATURES < 2^31: 32-bit indices halve the matrix's index memory
    return csr_matrix((weights.astype(np.float32), columns.astype(index), offsets.astype(index)), shape=(len(terms), TERM_FEATURES), dtype=np.float32)


def _idf(counts: TermCounts, background_docs: int) -> np.ndarray:
    """IDF where the feed's document frequencies are added to those of a
    background of ``background_docs`` (``paraphrase.background_docs``)
    ordinary documents of each document's language.

    Feed IDF alone fails both ways: in a small feed (five rewrites of one
    story) the story's own names are in every document and weigh least, while
    in a large feed IDF rightly discounts a topic's common words. With the
    background of ``B`` documents, a term weighs ``ln((1 + B + n) / (1 + B * q + df)) + 1`` for
    ``n`` feed documents, ``df`` of them holding it, and ``q`` its background
    share (``Terms.background``): names rare in English weigh much, and
    weigh less as more of the feed repeats them.
    """
    df = counts.df.astype(np.float32)
    return (np.log((1 + background_docs + counts.documents) / (1 + background_docs * counts.background + df)) + 1).astype(np.float32)


class ParaphraseWeights:
    """IDF weights of words and facts, from the terms of a set of documents (a window's near-copy group leaders)."""

    def __init__(self, words: TermCounts, facts: TermCounts, background_docs: int) -> None:
        self._word_idf = _idf(words, background_docs)
        self._fact_idf = _idf(facts, background_docs)

    def word_vectors(self, terms: Terms) -> csr_matrix:
        """Weighted word vectors of some documents (not necessarily those the weights came from)."""
        return _matrix(terms, self._word_idf)

    def word_vectors_of(self, terms_of: Callable[[np.ndarray], Terms], lengths: np.ndarray, documents: np.ndarray) -> csr_matrix:
        """``word_vectors(terms_of(documents))``, made a block of documents at a
        time (gathering the terms takes several times the vectors' memory)
        into one matrix allocated up front from each document's number of
        terms (``lengths``): stacking the blocks would copy them all."""
        if len(documents) <= VECTORS_PER_BLOCK:
            return self.word_vectors(terms_of(documents))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        index = np.int32 if offsets[-1] < 2**31 else np.int64
        data, columns = np.empty(offsets[-1], dtype=np.float32), np.empty(offsets[-1], dtype=index)
        for start in range(0, len(documents), VECTORS_PER_BLOCK):
            block = self.word_vectors(terms_of(documents[start : start + VECTORS_PER_BLOCK]))
            first, last = offsets[start], offsets[min(start + VECTORS_PER_BLOCK, len(documents))]
            data[first:last], columns[first:last] = block.data, block.indices
        return csr_matrix((data, columns, offsets.astype(index)), shape=(len(documents), TERM_FEATURES), dtype=np.float32)

    def fact_vectors(self, terms: Terms) -> csr_matrix:
        return _matrix(terms, self._fact_idf)


class ParaphraseVectors:
    """Weighted word and fact vectors of some documents; scores pairs of them (rows ``(i, j)``).

    Word vectors are long, and most candidate pairs are ruled out by their
    facts alone: ``words(rows)`` makes those of the given documents only when
    a score needs them."""

    def __init__(self, words: Callable[[np.ndarray], csr_matrix], facts: csr_matrix, map_blocks: BlockMap = one_by_one) -> None:
        self.words, self.facts, self.map_blocks = words, facts, map_blocks

    def fact_cosines(self, pairs: np.ndarray) -> np.ndarray:
        """Cosine of the fact vectors of each pair (cheap: documents have few facts)."""
        return _blocked_dots(self.facts, pairs, self.map_blocks)

    def word_cosines(self, pairs: np.ndarray) -> np.ndarray:
        """Cosine of the word vectors of each pair (made for their documents only)."""
        docs = distinct_indices(pairs.ravel())
        return _blocked_dots(self.words(docs), index_in(docs, pairs), self.map_blocks)

    def score_pairs(self, pairs: np.ndarray) -> np.ndarray:
        """Paraphrase score of each pair."""
        return _geometric_mean(self.word_cosines(pairs), self.fact_cosines(pairs))


_ROUNDING_MARGIN = 0.999
VECTORS_PER_BLOCK = 20_000  # bounds the terms gathered at once for word vectors
PAIRS_PER_BLOCK = 100_000  # bounds the products held at once; each block scatters its first rows into a zeroed array of the matrix's width


def _blocked_dots(vectors: csr_matrix, pairs: np.ndarray, map_blocks: BlockMap) -> np.ndarray:
    """Dot products of the rows of each pair, a block of pairs at a time, the
    blocks run by ``map_blocks`` (an engine's ``map_threads``: ``row_dots``
    releases the GIL, so blocks run side by side on threads)."""
    out = np.zeros(len(pairs), dtype=np.float32)

    def block_dots(start: int) -> None:
        block = pairs[start : start + PAIRS_PER_BLOCK]
        out[start : start + len(block)] = row_dots(vectors, block)

    map_blocks(block_dots, range(0, len(pairs), PAIRS_PER_BLOCK))  # each block writes its own slice of ``out``
    return out


def _geometric_mean(word_cosines: np.ndarray, fact_cosines: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(word_cosines, 0, 1) * np.clip(fact_cosines, 0, 1))


def fact_buckets(fact_signatures: np.ndarray, threshold: float, config: Config, min_shared_bands: int = 1, map_blocks: BlockMap = one_by_one) -> Buckets:
    """LSH buckets over the fact fingerprints, targeting Jaccard ``threshold``:
    documents sharing ``min_shared_bands`` of them are candidates (the bands on ``map_blocks``)."""
    para = config.paraphrase
    bands, rows = lsh_params(threshold, para.num_perm)
    return Buckets(band_keys(fact_signatures, bands, rows), para.max_bucket, min_shared_bands, map_blocks)


@dataclass
class Candidates:
    """Candidate pairs: the story candidates (``paraphrase.lsh_threshold``)
    first, then the extra pairs of the looser event LSH, which can only be one event."""

    pairs: np.ndarray
    """(m, 2) indices, ``i < j``."""
    stories: int
    """How many of ``pairs``, the first ones, are story candidates."""


def pairs_to_verify(fact_signatures: np.ndarray, fresh: np.ndarray, fact_vectors: csr_matrix, config: Config, map_blocks: BlockMap) -> Candidates:
    """The candidate pairs ``score_candidates`` needs to decide every pair
    with a ``fresh`` document (a boolean mask; an incremental run's new ones):
    those pairs, and every story candidate of a document in one of them that
    could reach its floor (a score is at most the root of its fact cosine), as
    the contrast test ranks all of a document's story candidates. ``map_blocks``
    runs the blocks of an incremental run's fact cosines (``_blocked_dots``)."""
    story_buckets = fact_buckets(fact_signatures, config.paraphrase.lsh_threshold, config, map_blocks=map_blocks)
    event_buckets = fact_buckets(fact_signatures, config.event.lsh_threshold, config, config.event.min_shared_bands, map_blocks)
    n = len(fresh)
    if fresh.all():
        story, event = story_buckets.pairs(), event_buckets.pairs()
    else:
        event = event_buckets.pairs(fresh)
        event = event[_could_reach(_score_bounds(_blocked_dots(fact_vectors, event, map_blocks)), config.event.min_score)]
        touching = story_buckets.pairs(fresh)
        could = touching[_could_reach(_score_bounds(_blocked_dots(fact_vectors, touching, map_blocks)), config.paraphrase.min_score)]
        story = distinct_pairs(np.concatenate([touching, story_buckets.pairs(_endpoints(np.concatenate([could, event]), n))]), n)
    event = pairs_not_in(event, story, n)
    return Candidates(np.concatenate([story, event]).astype(story.dtype), len(story))


def _score_bounds(fact_cosines: np.ndarray) -> np.ndarray:
    """Upper bounds of pairs' scores: the root of their fact cosines (a word cosine is at most 1)."""
    return np.sqrt(np.clip(fact_cosines, 0, 1))


def _could_reach(bounds: np.ndarray, min_score: float) -> np.ndarray:
    """Which score bounds allow ``min_score``. The bounds are float32 roots,
    the scores compared with the floor later are computed another way: a
    bound a rounding error below the floor must not rule its pair out (the
    margin decides which pairs are scored, never a decision)."""
    return bounds >= _ROUNDING_MARGIN * min_score


DOCUMENT_RANGES = 4
"""Ranges of documents whose background levels are found apart, side by side (each range's pass reads all the pairs: a few)."""


def background_levels(
    pairs: np.ndarray, scores: np.ndarray, n: int, rank: int, counts_for: np.ndarray | None = None, map_blocks: BlockMap = one_by_one
) -> np.ndarray:
    """Each document's ``rank``-th highest score among its candidate pairs (0
    when it has fewer; a negative score counts as 0): how similar it is to its
    topic, not to its story. ``counts_for`` ((m, 2) booleans, default all):
    whether a pair counts among the candidates of its first, of its second
    document. ``map_blocks`` runs ``DOCUMENT_RANGES`` ranges of documents
    apart (a document's level depends only on its own pairs)."""
    if counts_for is None:
        counts_for = np.ones(pairs.shape, dtype=bool)
    first, second, scores = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), scores.astype(np.float32)
    bounds = np.linspace(0, n, DOCUMENT_RANGES + 1).astype(np.int64)
    ranges = [k for k in range(DOCUMENT_RANGES) if bounds[k] < bounds[k + 1]]
    levels = map_blocks(lambda k: _rank_highest(first, second, scores, counts_for, bounds[k], bounds[k + 1], rank), ranges)
    return np.concatenate(levels) if levels else np.zeros(n, dtype=np.float32)


def most_alike(pairs: np.ndarray, fact_cosines: np.ndarray, n: int, most: int, map_blocks: BlockMap = one_by_one) -> np.ndarray:
    """Whether each pair is among the ``most`` candidates of its first, of its
    second document with the highest fact cosines ((m, 2) booleans; pairs tied
    with a document's last are among them). A document with fewer has all."""
    level = background_levels(pairs, fact_cosines, n, most, map_blocks=map_blocks)
    return np.column_stack([fact_cosines >= level[pairs[:, 0]], fact_cosines >= level[pairs[:, 1]]])


@njit(nogil=True, cache=True)
def _rank_highest(first, second, scores, counts_for, low, high, rank):  # type: ignore[no-untyped-def]
    """``background_levels`` of documents ``low`` to ``high - 1``: each one's
    ``rank`` highest scores kept in order as the pairs go by (an insertion
    into a row of ``rank``), one pass over the pairs instead of a sort of
    twice as many keys."""
    n = high - low
    highest = np.full((n, rank), -1.0, dtype=np.float32)
    counts = np.zeros(n, dtype=np.int64)
    for k in range(len(scores)):
        score = scores[k] if scores[k] > 0 else np.float32(0)
        for end in range(2):
            document = (first[k] if end == 0 else second[k]) - low
            if not counts_for[k, end] or document < 0 or document >= n:
                continue
            counts[document] += 1
            position = rank - 1
            if score <= highest[document, position]:
                continue
            while position > 0 and highest[document, position - 1] < score:
                highest[document, position] = highest[document, position - 1]
                position -= 1
            highest[document, position] = score
    levels = np.zeros(n, dtype=np.float32)
    for document in range(n):
        if counts[document] >= rank:
            levels[document] = highest[document, rank - 1]
    return levels


@dataclass
class ScoredPairs:
    """Candidate pairs that reach ``paraphrase.min_score``, with their
    features (``pair_model.FEATURES``) and the model's decisions."""

    pairs: np.ndarray
    """(m, 2) local indices, ``i < j``."""
    story_candidate: np.ndarray
    """Whether each pair is a story candidate (else an extra event candidate, never one story)."""
    scores: np.ndarray
    """The paraphrase score: the geometric mean of the word and fact cosines."""
    features: np.ndarray
    story: np.ndarray
    """Whether the story model calls each pair one story."""
    event: np.ndarray
    """Whether the event model calls each pair one event."""
    scored: int
    """How many candidates were scored (their word cosines computed, the costly part)."""


def score_candidates(
    candidates: Candidates, scorer: ParaphraseVectors, context: Callable[[np.ndarray], PairContext], model: PairModel | None, config: Config
) -> ScoredPairs:
    """Features and decisions of the ``candidates`` (pairs of the ``scorer``'s documents).

    Word cosines are the costly part, so they are computed only where the
    paraphrase score (the geometric mean of the word and fact cosines) can
    reach the pair's floor (``paraphrase.min_score``; for an extra event
    candidate ``event.min_score``): a score is at most the square root of its
    fact cosine, which rules out most pairs. And a document's story
    candidates are scored at most ``paraphrase.max_candidates`` of them, those
    with the highest fact cosines (``most_alike``): as the window grows, a
    topic's common facts bring a document ever more candidates, while its
    rewrites share its particular facts and stay near the top. A pair's contrast compares its
    score with its documents' background levels (``background_levels`` over
    those story candidates: how alike each is to its topic): thirty articles on
    one plane crash are all fairly alike, so none stands out; five rewrites of
    one story stand out from everything else their outlets published.
    ``context(documents)`` gives the facts, times and lengths of some of the
    scorer's documents. Without a ``model`` (while one is trained) no pair is
    decided; an extra event candidate is never one story.
    """
    para = config.paraphrase
    pairs = candidates.pairs
    n = int(pairs.max()) + 1 if len(pairs) else 0
    story_candidate = np.arange(len(pairs)) < candidates.stories
    floors = (para.min_score, config.event.min_score)
    fact_cosines = scorer.fact_cosines(pairs)
    counts_for = most_alike(pairs[story_candidate], fact_cosines[story_candidate], n, para.max_candidates, scorer.map_blocks)
    counts_for = np.concatenate([counts_for, np.ones((len(pairs) - len(counts_for), 2), dtype=bool)])  # extra event candidates: not bounded
    could = np.flatnonzero(_by_floor(_could_reach, _score_bounds(fact_cosines), story_candidate, floors) & counts_for.any(axis=1))
    scored = len(could)
    pairs, fact_cosines, story_candidate, counts_for = pairs[could], fact_cosines[could], story_candidate[could], counts_for[could]
    del could  # tens of millions of indices in a large window, while the word vectors are made
    word_cosines = scorer.word_cosines(pairs)
    scores = _geometric_mean(word_cosines, fact_cosines)
    levels = background_levels(pairs[story_candidate], scores[story_candidate], n, para.contrast_rank, counts_for[story_candidate], scorer.map_blocks)
    reach = _by_floor(np.greater_equal, scores, story_candidate, floors)
    pairs, story_candidate, word_cosines, fact_cosines, scores = pairs[reach], story_candidate[reach], word_cosines[reach], fact_cosines[reach], scores[reach]
    docs = distinct_indices(pairs.ravel())
    local = index_in(docs, pairs)
    features = pair_features(local, word_cosines, fact_cosines, scores, levels[pairs], context(docs), para.min_background_level)
    if model is None:
        undecided = np.zeros(len(pairs), dtype=bool)
        return ScoredPairs(pairs, story_candidate, scores, features, undecided, undecided, scored)
    return ScoredPairs(pairs, story_candidate, scores, features, model.story.decide(features) & story_candidate, model.event.decide(features), scored)


def _by_floor(test: Callable[[np.ndarray, np.float64], np.ndarray], values: np.ndarray, story_candidate: np.ndarray, floors: tuple[float, float]) -> np.ndarray:
    """``test(values, floor)`` of each pair's value and its floor: a story candidate's
    (``floors[0]``), else an extra event candidate's (``floors[1]``), with no
    array of floors as long as the pairs. The floors are made float64 scalars:
    a float32 array compared with a Python float compares in float32 (NumPy 2),
    and a score just below a floor, at the floor's float32 rounding, would pass."""
    story_floor, event_floor = (np.float64(floor) for floor in floors)
    return np.where(story_candidate, test(values, story_floor), test(values, event_floor))


@dataclass
class PairContext:
    """What the pair features need of some documents besides their vectors."""

    numbers: Ragged
    names: Ragged
    published: np.ndarray
    """Seconds since the epoch, NaN when undated."""
    words: np.ndarray


def pair_features(
    pairs: np.ndarray, word_cosines: np.ndarray, fact_cosines: np.ndarray, scores: np.ndarray, levels: np.ndarray, context: PairContext, min_level: float
) -> np.ndarray:
    """``pair_model.FEATURES`` of each pair (rows of ``context``'s documents;
    ``levels``: both documents' background levels, taken at least at
    ``min_level``: a document alike to nothing else has a large contrast, not an infinite one)."""
    a, b = pairs[:, 0], pairs[:, 1]
    background = np.maximum(np.sqrt(levels[:, 0].astype(np.float64) * levels[:, 1]), min_level)
    contrast = np.log(np.maximum(scores, min_level) / background)
    columns = [word_cosines, fact_cosines, contrast]
    for values in (context.numbers, context.names):
        lengths = np.diff(values.offsets)
        smaller = np.minimum(lengths[a], lengths[b])
        shared = shared_counts(values, pairs)
        columns += [np.where(smaller > 0, shared / np.maximum(smaller, 1), 0.0), np.log1p(shared)]
    columns.append(np.log1p(np.abs(context.published[a] - context.published[b]) / 3600))  # NaN when either is undated
    words = context.words.astype(np.float64)
    columns.append(np.minimum(words[a], words[b]) / np.maximum(np.maximum(words[a], words[b]), 1))
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns]) if len(pairs) else np.empty((0, len(PAIR_FEATURES)))


def _endpoints(pairs: np.ndarray, n: int) -> np.ndarray:
    """Which of ``n`` documents are in any of ``pairs``."""
    marked = np.zeros(n, dtype=bool)
    marked[pairs.ravel()] = True
    return marked
