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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from itertools import chain
from typing import Any

import numpy as np
import xxhash

from dedup.arrays import Ragged, first_occurrences, is_all_rows, ragged_arange
from dedup.config import TERM_FEATURES, Config
from dedup.kernels.facts import Facts, chunk_facts
from dedup.kernels.language import document_languages, name_of
from dedup.kernels.minhash import MinHasher
from dedup.kernels.shingle import chunk_tokens, document_shingles, hash_tokens
from dedup.kernels.terms import Terms, background_shares, content_mask, language_content_mask


@dataclass(slots=True)
class PackedSketches:
    """The sketches of many documents as flat arrays (row ``i``: document ``i``)."""

    words: np.ndarray
    text_hash: np.ndarray
    lede_hash: np.ndarray
    """Hash of the first ``near_copy.lede_words`` words of each: truncated copies keep the lede."""
    shingles: Ragged
    numbers: Ragged
    names: Ragged
    word_terms: Terms
    """Content words, for the paraphrase score."""
    fact_terms: Terms
    """Names and numbers, for the paraphrase score."""
    signatures: np.ndarray
    """(n, near_copy.num_perm) uint32 MinHash signatures of the shingle sets."""
    fact_signatures: np.ndarray
    """(n, paraphrase.num_perm) uint32 MinHash signatures of the salient facts."""
    language: np.ndarray
    """uint32 language code of each document (``language.code_of``; 0: undetermined)."""

    def __len__(self) -> int:
        return len(self.words)

    def facts(self, i: int) -> Facts:
        return Facts(numbers=self.numbers.row(i), names=self.names.row(i), language=int(self.language[i]))

    def take(self, rows: np.ndarray) -> PackedSketches:
        """The given rows, in that order (copies, also from memory-mapped arrays, unless all rows in order)."""
        if is_all_rows(rows, len(self)):
            return self
        return PackedSketches(
            **{f.name: getattr(self, f.name).take(rows) if f.name in _NESTED else np.asarray(getattr(self, f.name)[rows]) for f in fields(PackedSketches)}
        )

    @staticmethod
    def concat(parts: list[PackedSketches]) -> PackedSketches:
        return PackedSketches(
            **{
                f.name: type(getattr(parts[0], f.name)).concat([getattr(p, f.name) for p in parts])
                if f.name in _NESTED
                else np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(PackedSketches)
            }
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by a dotted name (``shingles.values``, ``word_terms.columns.offsets``), e.g. to save."""
        return dict(_flatten(self, ""))

    @staticmethod
    def from_arrays(arrays: Mapping[str, np.ndarray]) -> PackedSketches:
        """The inverse of ``arrays``."""
        return _unflatten(PackedSketches, arrays, "")


_NESTED = {"shingles", "numbers", "names", "word_terms", "fact_terms"}


def _flatten(record: object, prefix: str) -> Iterator[tuple[str, np.ndarray]]:
    for f in fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if isinstance(value, np.ndarray):
            yield prefix + f.name, value
        else:
            yield from _flatten(value, f"{prefix}{f.name}.")


def _unflatten(kind: type, arrays: Mapping[str, np.ndarray], prefix: str) -> Any:
    hints = {"shingles": Ragged, "numbers": Ragged, "names": Ragged, "columns": Ragged, "word_terms": Terms, "fact_terms": Terms}
    return kind(**{f.name: _unflatten(hints[f.name], arrays, f"{prefix}{f.name}.") if f.name in hints else arrays[prefix + f.name] for f in fields(kind)})


def sketch_texts(texts: list[str], config: Config) -> PackedSketches:
    """Sketch normalised texts (one chunk, in one process).

    Tokens are found and hashed, and facts found, for the whole chunk at
    once (``chunk_tokens``, ``chunk_facts``), and the rest runs once
    over the chunk's concatenated token hashes, each value keyed by its
    document, which spares thousands of small numpy calls. Shingles are those
    ``shingle_hashes`` gives each document alone.
    """
    near, para = config.near_copy, config.paraphrase
    tokens = chunk_tokens(texts)
    facts = chunk_facts(texts, para.fingerprint_terms)
    hashes, offsets = tokens.hashes, tokens.offsets
    lengths = np.diff(offsets)
    doc_of_token = np.repeat(np.arange(len(texts)), lengths)
    text_hash = [xxhash.xxh3_64_intdigest(hashes[a:b].tobytes()) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    lede_hash = [xxhash.xxh3_64_intdigest(hashes[a : min(a + near.lede_words, b)].tobytes()) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    shingles = Ragged(*document_shingles(hashes, offsets, near.shingle_words))
    english = content_mask(hashes)
    stop_share = np.bincount(doc_of_token, weights=~english, minlength=len(texts)) / np.maximum(lengths, 1)
    language = document_languages(texts, stop_share, config.language)
    codes, doc_language = np.unique(language, return_inverse=True)
    languages = [name_of(int(code)) for code in codes]
    content = np.flatnonzero(language_content_mask(english, hashes, languages, doc_language[doc_of_token], config.language.stop_words))
    word_terms = _chunk_terms(doc_of_token[content], hashes[content], lambda k: tokens.text(int(content[k])), languages, doc_language)
    # each document's names, then its numbers, hashed once for the chunk
    fact_terms = list(chain.from_iterable(f.names + f.numbers for f in facts))
    name_counts = np.fromiter((len(f.names) for f in facts), dtype=np.int64, count=len(facts))
    fact_counts = name_counts + np.fromiter((len(f.numbers) for f in facts), dtype=np.int64, count=len(facts))
    fact_doc = np.repeat(np.arange(len(texts)), fact_counts)
    fact_hashes = hash_tokens(fact_terms)
    fact_term_vectors = _chunk_terms(fact_doc, fact_hashes, fact_terms.__getitem__, languages, doc_language)
    is_number = ragged_arange(fact_counts) >= np.repeat(name_counts, fact_counts)
    salient_terms = list(chain.from_iterable(f.salient for f in facts))
    salient_offsets = np.concatenate([[0], np.cumsum(np.fromiter((len(f.salient) for f in facts), dtype=np.int64, count=len(facts)))])
    salient = (hash_tokens(salient_terms) >> np.uint64(32)).astype(np.uint32)
    return PackedSketches(
        words=lengths,
        text_hash=np.array(text_hash, dtype=np.uint64),
        lede_hash=np.array(lede_hash, dtype=np.uint64),
        shingles=shingles,
        numbers=_grouped_distinct(fact_doc[is_number], fact_hashes[is_number], len(texts)),
        names=_grouped_distinct(fact_doc[~is_number], fact_hashes[~is_number], len(texts)),
        word_terms=word_terms,
        fact_terms=fact_term_vectors,
        signatures=MinHasher(near.num_perm, near.seed).signatures_of(shingles.values, shingles.offsets),
        fact_signatures=MinHasher(para.num_perm, near.seed).signatures_of(salient, salient_offsets),
        language=language,
    )


def _keys(doc_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each 32-bit value keyed by its document: sorting the keys groups by document."""
    return (doc_of.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64)


def _split_keys(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys back to (values, offsets of each document's)."""
    doc = (keys >> np.uint64(32)).astype(np.int64)
    return keys & np.uint64(0xFFFFFFFF), np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=n))])


def _chunk_terms(doc_of: np.ndarray, hashes: np.ndarray, term: Callable[[int], str], languages: list[str | None], doc_language: np.ndarray) -> Terms:
    """The term vectors of every document's terms (``term(k)`` has hash
    ``hashes[k]`` and belongs to document ``doc_of[k]``, whose language is
    ``languages[doc_language[doc_of[k]]]``)."""
    keys, first, counts = np.unique(_keys(doc_of, hashes % np.uint64(TERM_FEATURES)), return_index=True, return_counts=True)
    columns, offsets = _split_keys(keys, len(doc_language))
    # a column's share is that of the document's first term in it (two terms
    # share a column only by a rare collision), looked up once per distinct term of a language
    background = np.empty(len(keys), dtype=np.float32)
    key_language = doc_language[doc_of[first]] if len(languages) > 1 else None
    for k, language in enumerate(languages):
        rows = np.flatnonzero(key_language == k) if key_language is not None else slice(None)  # a chunk of one language: all
        term_keys = first[rows]
        term_hashes = hashes[term_keys]
        inverse, where = first_occurrences(term_hashes)
        first_of_term = term_keys[where]
        background[rows] = background_shares(term_hashes[where], lambda t: term(int(first_of_term[t])), language)[inverse]
    columns = columns.astype(np.uint32)
    return Terms(Ragged(columns, offsets), (1 + np.log(counts)).astype(np.float32), background)


def _grouped_distinct(doc: np.ndarray, hashes: np.ndarray, n: int) -> Ragged:
    """The sorted distinct ``hashes`` of each of ``n`` documents (``doc``: each hash's, in order)."""
    order = np.lexsort((hashes, doc))
    hashes, doc = hashes[order], doc[order]
    keep = np.r_[True, (hashes[1:] != hashes[:-1]) | (doc[1:] != doc[:-1])] if len(hashes) else np.empty(0, bool)
    return Ragged(hashes[keep], np.concatenate([[0], np.cumsum(np.bincount(doc[keep], minlength=n))]))
