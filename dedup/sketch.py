"""Sketch: each normalised document becomes a compact matching record.

The record holds the document's distinct shingle hashes (for exact Jaccard and
containment), a hash of its whole word sequence (exact copies), its facts, its
term vectors (for the paraphrase score), and the two MinHash signatures: one
over shingles (near-copies) and one over its salient facts (paraphrase
candidates). Sketching is the costly per-document work, so it runs in worker
processes, a chunk of documents at a time; a chunk's sketches travel back, and
to and from the state, packed in flat arrays (``PackedSketches``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from itertools import chain

import numpy as np
import xxhash

from dedup.arrays import distinct
from dedup.config import Config
from dedup.facts import Facts, extract_facts
from dedup.minhash import MinHasher
from dedup.shingle import hash_tokens, shingle_hashes, shingle_values, tokenize
from dedup.terms import FEATURES, TermVector, background_shares, content_mask


@dataclass(slots=True)
class Sketch:
    words: int
    text_hash: int
    lede_hash: int
    """Hash of the first ``near_copy.lede_words`` words: truncated copies keep the lede."""
    shingles: np.ndarray
    facts: Facts
    words_vector: TermVector
    """Content words, for the paraphrase score."""
    facts_vector: TermVector
    """Names and numbers, for the paraphrase score."""


@dataclass(slots=True)
class Ragged:
    """Variable-length rows in one flat array: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``.

    Moves many small arrays between processes, and to and from disk, as two."""

    values: np.ndarray
    offsets: np.ndarray

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @staticmethod
    def of(rows: list[np.ndarray], dtype: type) -> Ragged:
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        values = np.concatenate(rows).astype(dtype, copy=False) if rows else np.empty(0, dtype)
        return Ragged(values, np.concatenate([[0], np.cumsum(lengths)]))


@dataclass(slots=True)
class PackedSketches:
    """The sketches of many documents as flat arrays (row ``i``: document ``i``)."""

    words: np.ndarray
    text_hash: np.ndarray
    lede_hash: np.ndarray
    shingles: Ragged
    numbers: Ragged
    names: Ragged
    word_columns: Ragged
    word_tf: np.ndarray
    """Aligned with ``word_columns.values`` (so is ``word_background``)."""
    word_background: np.ndarray
    fact_columns: Ragged
    fact_tf: np.ndarray
    """Aligned with ``fact_columns.values`` (so is ``fact_background``)."""
    fact_background: np.ndarray
    signatures: np.ndarray
    """(n, near_copy.num_perm) uint32 MinHash signatures of the shingle sets."""
    fact_signatures: np.ndarray
    """(n, paraphrase.num_perm) uint32 MinHash signatures of the salient facts."""

    def unpack(self) -> list[Sketch]:
        """One ``Sketch`` per document, its arrays views into these."""
        sketches = []
        for i, (words, text_hash, lede_hash) in enumerate(zip(self.words.tolist(), self.text_hash.tolist(), self.lede_hash.tolist())):
            w, f = slice(self.word_columns.offsets[i], self.word_columns.offsets[i + 1]), slice(self.fact_columns.offsets[i], self.fact_columns.offsets[i + 1])
            sketches.append(
                Sketch(
                    words=words,
                    text_hash=text_hash,
                    lede_hash=lede_hash,
                    shingles=self.shingles.row(i),
                    facts=Facts(numbers=self.numbers.row(i), names=self.names.row(i)),
                    words_vector=TermVector(self.word_columns.values[w], self.word_tf[w], self.word_background[w]),
                    facts_vector=TermVector(self.fact_columns.values[f], self.fact_tf[f], self.fact_background[f]),
                )
            )
        return sketches

    @staticmethod
    def pack(sketches: list[Sketch], signatures: np.ndarray, fact_signatures: np.ndarray) -> PackedSketches:
        """The inverse of ``unpack``."""
        words_vectors, facts_vectors = [s.words_vector for s in sketches], [s.facts_vector for s in sketches]
        return PackedSketches(
            words=np.array([s.words for s in sketches], dtype=np.int64),
            text_hash=np.array([s.text_hash for s in sketches], dtype=np.uint64),
            lede_hash=np.array([s.lede_hash for s in sketches], dtype=np.uint64),
            shingles=Ragged.of([s.shingles for s in sketches], np.uint32),
            numbers=Ragged.of([s.facts.numbers for s in sketches], np.uint64),
            names=Ragged.of([s.facts.names for s in sketches], np.uint64),
            word_columns=Ragged.of([v.columns for v in words_vectors], np.uint32),
            word_tf=_flat([v.tf for v in words_vectors]),
            word_background=_flat([v.background for v in words_vectors]),
            fact_columns=Ragged.of([v.columns for v in facts_vectors], np.uint32),
            fact_tf=_flat([v.tf for v in facts_vectors]),
            fact_background=_flat([v.background for v in facts_vectors]),
            signatures=signatures,
            fact_signatures=fact_signatures,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by name (a ragged field ``f`` as ``f.values`` and ``f.offsets``), e.g. for ``np.savez``."""
        found: dict[str, np.ndarray] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Ragged):
                found[f"{field.name}.values"], found[f"{field.name}.offsets"] = value.values, value.offsets
            else:
                found[field.name] = value
        return found

    @staticmethod
    def from_arrays(arrays: Mapping[str, np.ndarray]) -> PackedSketches:
        """The inverse of ``arrays``."""
        return PackedSketches(
            **{
                field.name: Ragged(arrays[f"{field.name}.values"], arrays[f"{field.name}.offsets"]) if f"{field.name}.values" in arrays else arrays[field.name]
                for field in fields(PackedSketches)
            }
        )


def _flat(rows: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(rows).astype(np.float32, copy=False) if rows else np.empty(0, np.float32)


def sketch_texts(texts: list[str], config: Config) -> PackedSketches:
    """Sketch normalised texts (one chunk, in one process).

    The per-document steps that need text (tokens, facts) run document by
    document; the rest runs once over the chunk's concatenated token hashes,
    each value keyed by its document, which spares thousands of small numpy
    calls. Shingles are those ``shingle_hashes`` gives each document alone.
    """
    near, para = config.near_copy, config.paraphrase
    tokens = [tokenize(text) for text in texts]
    facts = [extract_facts(text, para.fingerprint_terms) for text in texts]
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    all_tokens = list(chain.from_iterable(tokens))
    hashes = hash_tokens(all_tokens)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    doc_of_token = np.repeat(np.arange(len(texts)), lengths)
    text_hash = [xxhash.xxh3_64_intdigest(hashes[a:b].tobytes()) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    lede_hash = [xxhash.xxh3_64_intdigest(hashes[a : min(a + near.lede_words, b)].tobytes()) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    shingles = _chunk_shingles(hashes, offsets, doc_of_token, near.shingle_words)
    content = np.flatnonzero(content_mask(hashes))
    word_columns, word_tf, word_background = _chunk_term_vectors(doc_of_token[content], hashes[content], all_tokens, content, len(texts))
    fact_lists = [f.names + f.numbers for f in facts]
    fact_terms = list(chain.from_iterable(fact_lists))
    fact_doc = np.repeat(np.arange(len(texts)), [len(f) for f in fact_lists])
    fact_columns, fact_tf, fact_background = _chunk_term_vectors(fact_doc, hash_tokens(fact_terms), fact_terms, np.arange(len(fact_terms)), len(texts))
    salient = [(hash_tokens(f.salient) >> np.uint64(32)).astype(np.uint32) for f in facts]
    return PackedSketches(
        words=lengths,
        text_hash=np.array(text_hash, dtype=np.uint64),
        lede_hash=np.array(lede_hash, dtype=np.uint64),
        shingles=shingles,
        numbers=_grouped_unique_hashes([f.numbers for f in facts]),
        names=_grouped_unique_hashes([f.names for f in facts]),
        word_columns=word_columns,
        word_tf=word_tf,
        word_background=word_background,
        fact_columns=fact_columns,
        fact_tf=fact_tf,
        fact_background=fact_background,
        signatures=MinHasher(near.num_perm, near.seed).signatures_of(shingles.values, shingles.offsets),
        fact_signatures=MinHasher(para.num_perm, near.seed).signatures(salient),
    )


def _keys(doc_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each 32-bit value keyed by its document: sorting the keys groups by document."""
    return (doc_of.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64)


def _split_keys(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys back to (values, offsets of each document's)."""
    doc = (keys >> np.uint64(32)).astype(np.int64)
    return keys & np.uint64(0xFFFFFFFF), np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=n))])


def _chunk_shingles(hashes: np.ndarray, offsets: np.ndarray, doc_of_token: np.ndarray, k: int) -> Ragged:
    """``shingle_hashes`` of every document, from the chunk's token hashes."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    rows: dict[int, np.ndarray] = {i: shingle_hashes(hashes[offsets[i] : offsets[i + 1]], k) for i in np.flatnonzero(lengths < k).tolist()}
    values = shingle_values(hashes, k)
    doc = doc_of_token[: len(values)]
    whole = doc == doc_of_token[k - 1 : k - 1 + len(values)]  # the shingle's words are all of one document
    unique, long_offsets = _split_keys(distinct(_keys(doc[whole], values[whole])), n)
    if not rows:
        return Ragged(unique.astype(np.uint32), long_offsets)
    return Ragged.of([rows[i] if i in rows else unique[long_offsets[i] : long_offsets[i + 1]] for i in range(n)], np.uint32)


def _chunk_term_vectors(
    doc_of: np.ndarray, hashes: np.ndarray, terms: list[str], positions: np.ndarray, n: int
) -> tuple[Ragged, np.ndarray, np.ndarray]:
    """The ``TermVector`` of every document's terms (``terms[positions[k]]``
    has hash ``hashes[k]`` and belongs to document ``doc_of[k]``): its columns,
    the sublinear counts and the background shares, each row's in one flat array."""
    keys, first, counts = np.unique(_keys(doc_of, hashes % np.uint64(FEATURES)), return_index=True, return_counts=True)
    columns, offsets = _split_keys(keys, n)
    # a column's share is that of the document's first term in it (two terms
    # share a column only by a rare collision), looked up once per distinct term
    term_hashes = hashes[first]
    distinct_hashes, where = np.unique(term_hashes, return_index=True)
    shares = np.array(background_shares([terms[i] for i in positions[first[where]].tolist()]), dtype=np.float32)
    background = shares[np.searchsorted(distinct_hashes, term_hashes)]
    columns = columns.astype(np.uint32)
    return Ragged(columns, offsets), (1 + np.log(counts)).astype(np.float32), background


def _grouped_unique_hashes(groups: list[list[str]]) -> Ragged:
    """``distinct(hash_tokens(group))`` of each group."""
    lengths = [len(g) for g in groups]
    hashes = hash_tokens(list(chain.from_iterable(groups)))
    doc = np.repeat(np.arange(len(groups)), lengths)
    order = np.lexsort((hashes, doc))
    hashes, doc = hashes[order], doc[order]
    keep = np.r_[True, (hashes[1:] != hashes[:-1]) | (doc[1:] != doc[:-1])] if len(hashes) else np.empty(0, bool)
    return Ragged(hashes[keep], np.concatenate([[0], np.cumsum(np.bincount(doc[keep], minlength=len(groups)))]))
