"""Shingle: word tokens hashed with xxhash, combined into word n-gram hashes.

A token is a word or number; in scripts written without spaces between words
(Han, Kana, Hangul, Thai: ``scripts.NO_SPACE``) a token is a character
bigram of each run, overlapping (一二三 gives 一二, 二三; a one-character
run is its own token), the usual unit for those scripts when no segmenter
is at hand: a changed character changes two tokens, not a whole clause.

A token is hashed with xxh3-64 of its UTF-8 bytes; a shingle of ``k``
consecutive words is a position-weighted sum of its token hashes (mod 2^64),
mixed with the MurmurHash3 finalizer and cut to 32 bits. A chunk of documents
is tokenised and hashed at once (``chunk_tokens``): an ASCII text is split
with byte masks and its tokens hashed with the vectorised ``xxh3``, so no
Python object is made per token; other texts go through the regex. All
shingles of a document are computed at once with numpy: no per-shingle
Python loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import xxhash
from numba import njit

from dedup.arrays import ascii_word_bytes
from dedup.kernels.scripts import NO_SPACE, NO_SPACE_RUN
from dedup.kernels.xxh3 import xxh3_64

TOKEN = re.compile(r"\w+(?:[.,']\w+)*")
_MIXED_TOKEN = re.compile(f"[{NO_SPACE}]+|\\w+(?:[.,']\\w+)*")
"""A run of a script without spaces (split into bigrams after), or a ``TOKEN``."""
_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                         0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB], dtype=np.uint64)  # fmt: skip


def tokenize(text: str) -> list[str]:
    """Case-folded word and number tokens ("14.3", "1,500" and "don't" stay
    whole), and character bigrams of Han, Kana, Hangul and Thai runs."""
    return folded_tokens(text.casefold())


def folded_tokens(folded: str) -> list[str]:
    """``tokenize`` of case-folded text. Text without a script written
    without spaces takes ``TOKEN`` alone; other text has each run of such a
    script set apart by spaces first, so that no ``TOKEN`` reaches into it."""
    if folded.isascii() or NO_SPACE_RUN.search(folded) is None:
        return TOKEN.findall(folded)
    tokens: list[str] = []
    for token in _MIXED_TOKEN.findall(NO_SPACE_RUN.sub(r" \g<0> ", folded)):
        if NO_SPACE_RUN.match(token):
            tokens += [token[i : i + 2] for i in range(len(token) - 1)] or [token]
        else:
            tokens.append(token)
    return tokens


def ascii_token_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of ``tokenize``'s tokens in ASCII bytes, found with
    masks: a token is a maximal run of word bytes and of joiners (``[.,']``)
    between two word bytes, which is what the greedy regex matches."""
    word = ascii_word_bytes(data)
    inside = word.copy()
    inside[1:-1] |= ((data[1:-1] == ord(".")) | (data[1:-1] == ord(",")) | (data[1:-1] == ord("'"))) & word[:-2] & word[2:]
    starts = np.flatnonzero(inside[1:] & ~inside[:-1]) + 1
    ends = np.flatnonzero(inside[:-1] & ~inside[1:]) + 1
    if len(inside) and inside[0]:
        starts = np.r_[0, starts]
    if len(inside) and inside[-1]:
        ends = np.r_[ends, len(inside)]
    return starts, ends - starts


@dataclass(slots=True)
class ChunkTokens:
    """The tokens of a chunk of documents, in order, as spans of one UTF-8 buffer."""

    data: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    """Document ``i``'s tokens are ``offsets[i]`` to ``offsets[i + 1]``."""
    hashes: np.ndarray
    """xxh3-64 of each token (``hash_tokens``' values)."""

    def text(self, k: int) -> str:
        start = int(self.starts[k])
        return bytes(self.data[start : start + int(self.lengths[k])]).decode("utf-8", "surrogatepass")


def chunk_tokens(texts: list[str]) -> ChunkTokens:
    """``tokenize`` and ``hash_tokens`` of every text, at once."""
    folded = [text.casefold() for text in texts]
    ascii_docs = [text.isascii() for text in folded]
    # ASCII texts, one buffer, "\n" between (a byte no token holds)
    plain = "\n".join(text for text, is_ascii in zip(folded, ascii_docs) if is_ascii).encode("ascii")
    plain_data = np.frombuffer(plain, dtype=np.uint8)
    plain_starts, plain_lengths = ascii_token_spans(plain_data)
    text_starts = np.cumsum([0] + [len(text) + 1 for text, is_ascii in zip(folded, ascii_docs) if is_ascii])
    plain_counts = np.diff(np.searchsorted(plain_starts, text_starts))
    # other texts: their regex tokens, "\0" between (no token holds it)
    other_tokens = [folded_tokens(text) for text, is_ascii in zip(folded, ascii_docs) if not is_ascii]
    other = "\0".join("\0".join(tokens) for tokens in other_tokens if tokens).encode("utf-8", "surrogatepass")
    other_data = np.frombuffer(other, dtype=np.uint8)
    ends = np.concatenate([np.flatnonzero(other_data == 0), [len(other_data)]]) if len(other_data) else np.empty(0, np.int64)
    other_starts = np.concatenate([[0], ends[:-1] + 1]) if len(ends) else ends
    # back into document order
    counts = np.empty(len(texts), dtype=np.int64)
    counts[np.flatnonzero(ascii_docs)] = plain_counts
    counts[np.flatnonzero(~np.array(ascii_docs, dtype=bool))] = [len(tokens) for tokens in other_tokens]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    from_plain = np.repeat(np.array(ascii_docs, dtype=bool), counts)
    starts = np.empty(int(offsets[-1]), dtype=np.int64)
    lengths = np.empty(int(offsets[-1]), dtype=np.int64)
    starts[from_plain], lengths[from_plain] = plain_starts, plain_lengths
    starts[~from_plain], lengths[~from_plain] = other_starts + len(plain_data), ends - other_starts
    data = np.concatenate([plain_data, other_data])
    return ChunkTokens(data, starts, lengths, offsets, xxh3_64(data, starts, lengths))


class _TokenHashes(dict[str, int]):
    """Memo of token -> xxh3-64 (UTF-8): news vocabulary repeats, so most
    lookups are dictionary hits. Bounded: cleared when it grows past a limit."""

    LIMIT = 2_000_000

    def __missing__(self, token: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[token] = xxhash.xxh3_64_intdigest(token.encode("utf-8", "surrogatepass"))
        return value


_TOKEN_HASHES = _TokenHashes()


def hash_tokens(tokens: list[str]) -> np.ndarray:
    """xxh3-64 of each token (UTF-8), as uint64."""
    return np.fromiter(map(_TOKEN_HASHES.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


@njit(cache=True)
def fmix64(values):  # type: ignore[no-untyped-def]
    """MurmurHash3's 64-bit finalizer: spreads every input bit over the output (of a uint64 or an array of them)."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def shingle_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """Sorted, distinct 32-bit hashes of the word ``k``-grams.

    A ``k``-gram's hash is the top half of ``fmix64`` of the sum (mod 2^64)
    of its token hashes, each times the multiplier of its place. A document
    shorter than ``k`` words gives one shingle of all its words.
    """
    return document_shingles(token_hashes, np.array([0, len(token_hashes)]), k)[0]


def document_shingles(token_hashes: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``shingle_hashes`` of each document (its tokens: ``offsets[i]`` to
    ``offsets[i + 1]``), as (values, offsets), in one compiled pass: each
    document's shingles hashed, sorted and made distinct where they are."""
    return _document_shingles(token_hashes.astype(np.uint64, copy=False), offsets.astype(np.int64), k, _MULTIPLIERS)


@njit(nogil=True, cache=True)
def _document_shingles(hashes, offsets, k, multipliers):  # type: ignore[no-untyped-def]
    n = len(offsets) - 1
    values = np.empty(max(len(hashes), 1), dtype=np.uint32)  # at most one shingle a token
    out_offsets = np.zeros(n + 1, dtype=np.int64)
    at = 0
    for i in range(n):
        first, length = offsets[i], offsets[i + 1] - offsets[i]
        width = min(k, length)
        count = length - width + 1 if length else 0
        for p in range(count):
            combined = np.uint64(0)
            for place in range(width):
                combined += hashes[first + p + place] * multipliers[place]
            values[at + p] = np.uint32(fmix64(combined) >> np.uint64(32))
        if count:
            values[at : at + count].sort()
            kept = at + 1
            for p in range(at + 1, at + count):
                if values[p] != values[kept - 1]:
                    values[kept] = values[p]
                    kept += 1
            at = kept
        out_offsets[i + 1] = at
    return values[:at].copy(), out_offsets
