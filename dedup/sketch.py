"""Sketch: each normalised document becomes a compact matching record.

The record holds the document's distinct shingle hashes (for exact Jaccard and
containment), a hash of its whole word sequence (exact copies), its facts, its
term vectors (for the paraphrase score), and the two MinHash signatures: one over shingles (near-copies) and one over its
salient facts (paraphrase candidates). Sketching is the costly per-document
work, so it runs in worker processes, a chunk of documents at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from dedup.config import Config
from dedup.facts import Facts, extract_facts
from dedup.minhash import MinHasher
from dedup.shingle import hash_tokens, shingle_hashes, tokenize
from dedup.terms import TermVector, content_mask, term_vector


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
class SketchBatch:
    sketches: list[Sketch]
    signatures: np.ndarray
    """(n, near_copy.num_perm) uint32 MinHash signatures of the shingle sets."""
    fact_signatures: np.ndarray
    """(n, paraphrase.num_perm) uint32 MinHash signatures of the salient facts."""


def sketch_texts(texts: list[str], config: Config) -> SketchBatch:
    """Sketch normalised texts (one chunk, in one process)."""
    near, para = config.near_copy, config.paraphrase
    sketches: list[Sketch] = []
    fact_sets: list[np.ndarray] = []
    for text in texts:
        tokens = tokenize(text)
        token_hashes = hash_tokens(tokens)
        fact_terms = extract_facts(text, para.fingerprint_terms)
        all_facts = fact_terms.names + fact_terms.numbers
        sketches.append(
            Sketch(
                words=len(token_hashes),
                text_hash=xxhash.xxh3_64_intdigest(token_hashes.tobytes()),
                lede_hash=xxhash.xxh3_64_intdigest(token_hashes[: near.lede_words].tobytes()),
                shingles=shingle_hashes(token_hashes, near.shingle_words),
                facts=fact_terms.facts(),
                words_vector=term_vector(tokens, token_hashes, content_mask(token_hashes)),
                facts_vector=term_vector(all_facts, hash_tokens(all_facts)),
            )
        )
        fact_sets.append((hash_tokens(fact_terms.salient) >> np.uint64(32)).astype(np.uint32))
    return SketchBatch(
        sketches=sketches,
        signatures=MinHasher(near.num_perm, near.seed).signatures([s.shingles for s in sketches]),
        fact_signatures=MinHasher(para.num_perm, near.seed).signatures(fact_sets),
    )


def merge(parts: list[SketchBatch], config: Config) -> SketchBatch:
    """One batch from several, in order."""
    if not parts:
        return sketch_texts([], config)
    return SketchBatch(
        sketches=[s for p in parts for s in p.sketches],
        signatures=np.concatenate([p.signatures for p in parts]),
        fact_signatures=np.concatenate([p.fact_signatures for p in parts]),
    )
