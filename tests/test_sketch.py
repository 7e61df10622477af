"""Shingles, MinHash signatures (datasketch-compatible) and LSH parameters."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import xxhash
from corpus import wikiref
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import load_config
from dedup.kernels.facts import NAME_INSIDE_SENTENCE, NUMBER, FactTerms, ascii_name_spans, ascii_number_spans, chunk_facts, extract_facts, rarity
from dedup.kernels.lsh import band_keys, candidate_pairs, lsh_params
from dedup.kernels.minhash import SCHEME, MinHasher, permutations
from dedup.kernels.normalise import normalise_text
from dedup.kernels.shingle import chunk_tokens, document_shingles, hash_tokens, shingle_hashes, tokenize
from dedup.kernels.sketch import sketch_texts
from dedup.kernels.terms import ENGLISH_STOP_WORDS, content_mask
from dedup.kernels.xxh3 import xxh3_64

TEXT = "Meta is pumping $14.3 billion into Scale AI, and will hold a 49% stake, a Scale AI spokesperson said on Thursday."


def test_tokens_keep_numbers_whole_and_fold_case() -> None:
    assert tokenize("Meta's $14.3 BILLION, 1,500 staff") == ["meta's", "14.3", "billion", "1,500", "staff"]


def test_vectorised_xxh3_equals_the_xxhash_package_at_every_length() -> None:
    rng = np.random.default_rng(3)
    lengths = np.repeat(np.arange(0, 40), 200)
    data = rng.integers(0, 256, size=int(lengths.sum()), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    expected = [xxhash.xxh3_64_intdigest(data[s : s + n].tobytes()) for s, n in zip(starts.tolist(), lengths.tolist())]
    assert xxh3_64(data, starts, lengths).tolist() == expected


# ASCII with every kind of byte the tokeniser treats apart (word bytes, joiners, others), and some non-ASCII
_TEXTS = st.lists(st.text(alphabet=st.sampled_from(list("aZ9_.,' \n-\"$%") + ["é", "ß", "İ", "½", "€", "日"]), max_size=60), max_size=8)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_chunk_tokens_equal_the_regex_tokens_and_their_hashes(texts: list[str]) -> None:
    tokens = chunk_tokens(texts)
    for i, text in enumerate(texts):
        rows = range(tokens.offsets[i], tokens.offsets[i + 1])
        assert [tokens.text(k) for k in rows] == tokenize(text)
        assert tokens.hashes[tokens.offsets[i] : tokens.offsets[i + 1]].tolist() == hash_tokens(tokenize(text)).tolist()


# pieces with every byte the fact patterns treat apart: capitals, digits, separators, sentence ends, quotes, brackets, spaces, stopwords, possessives
_FACT_PIECES = st.sampled_from(list("AZbs9_0.,'-!?:\"([ \n\t\x1c") + ["The ", "Droege", "'s", "1,500", "14.3", " In", "é", "İ"])
_FACT_TEXTS = st.lists(st.lists(_FACT_PIECES, max_size=40).map("".join), max_size=6)


def _facts_oracle(text: str, salient_terms: int) -> FactTerms:
    """The fact rule for one text, plainly: regex matches, counted and ranked with a Counter."""
    numbers = Counter(NUMBER.findall(text))
    for raw in [raw for raw in numbers if "," in raw and re.fullmatch(r"\d{1,3}(,\d{3})+", raw)]:
        numbers[raw.replace(",", "")] += numbers.pop(raw)
    names = Counter(re.sub(r"'s$", "", name.casefold()) for name in NAME_INSIDE_SENTENCE.findall(text))
    names = Counter({name: n for name, n in names.items() if len(name) > 1 and name not in ENGLISH_STOP_WORDS})
    ranked = sorted(((t, c * rarity(t)) for t, c in (names + numbers).items()), key=lambda kv: (-kv[1], kv[0]))
    return FactTerms(numbers=sorted(numbers), names=sorted(names), salient=[t for t, _ in ranked[:salient_terms]])


@settings(max_examples=400, deadline=None)
@given(_FACT_TEXTS)
def test_chunk_facts_equal_the_regex_facts_of_each_text(texts: list[str]) -> None:
    for text in texts:
        if text.isascii():
            data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
            for pattern, (starts, lengths) in [(NUMBER, ascii_number_spans(data)), (NAME_INSIDE_SENTENCE, ascii_name_spans(data))]:
                assert [text[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist())] == pattern.findall(text)
    assert chunk_facts(texts, 4) == [_facts_oracle(text, 4) for text in texts]


def test_facts_are_numbers_and_names_inside_sentences() -> None:
    facts = extract_facts("Furthermore, the CEO of Scale AI said Droege's firm paid 1,500 staff $14.3 billion, and 1500 more.", 3)
    assert facts.numbers == ["14.3", "1500"]  # "1,500" and "1500": one number, counted twice
    assert facts.names == ["ai", "ceo", "droege", "scale"]
    assert facts.salient == ["1500", "droege", "14.3"]


def test_stopwords_are_not_content() -> None:
    assert content_mask(hash_tokens(["the", "zebra", "of", "droege", "and"])).tolist() == [False, True, False, True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=30), max_size=6), st.integers(1, 8))
def test_document_shingles_are_the_plain_numpy_shingles_of_each_document(documents: list[list[int]], k: int) -> None:
    multipliers = [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                   0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB]  # fmt: skip
    mask = 2**64 - 1

    def fmix(x: int) -> int:
        x ^= x >> 33
        x = (x * 0xFF51AFD7ED558CCD) & mask
        x ^= x >> 33
        x = (x * 0xC4CEB9FE1A85EC53) & mask
        return x ^ (x >> 33)

    def plain(hashes: list[int]) -> list[int]:
        width = min(k, len(hashes))
        sums = [sum(h * m for h, m in zip(hashes[p : p + width], multipliers)) & mask for p in range(len(hashes) - width + 1)] if hashes else []
        return sorted({fmix(s) >> 32 for s in sums})

    offsets = np.cumsum([0] + [len(d) for d in documents])
    values, found = document_shingles(np.array([h for d in documents for h in d], dtype=np.uint64), offsets, k)
    assert [values[found[i] : found[i + 1]].tolist() for i in range(len(documents))] == [plain(d) for d in documents]


def test_shingles_are_word_trigrams_order_sensitive() -> None:
    a = shingle_hashes(hash_tokens(tokenize("a b c d")), 3)
    b = shingle_hashes(hash_tokens(tokenize("d c b a")), 3)
    assert len(a) == 2 and len(b) == 2
    assert set(a.tolist()).isdisjoint(b.tolist())
    assert len(shingle_hashes(hash_tokens(["only", "two"]), 3)) == 1


def test_signatures_equal_datasketch_minhash_on_the_same_elements() -> None:
    shingles = shingle_hashes(hash_tokens(tokenize(TEXT)), 3)
    ours = MinHasher(num_perm=128, seed=7).signatures([shingles, shingles[:5], np.empty(0, np.uint32)])
    theirs = MinHash(num_perm=128, seed=7, hashfunc=lambda h: h, scheme=SCHEME)
    theirs.update_batch(shingles.tolist())
    assert np.array_equal(ours[0], theirs.hashvalues)
    few = MinHash(num_perm=128, seed=7, hashfunc=lambda h: h, scheme=SCHEME)
    few.update_batch(shingles[:5].tolist())
    assert np.array_equal(ours[1], few.hashvalues)
    assert np.array_equal(ours[2], MinHash(num_perm=128, seed=7, scheme=SCHEME).hashvalues)


def test_a_lean_minhash_built_from_ours_works_in_datasketch() -> None:
    texts = [TEXT, TEXT.replace("Thursday", "Friday"), "An unrelated story about the weather in Lisbon this weekend."]
    sets = [shingle_hashes(hash_tokens(tokenize(t)), 3) for t in texts]
    signatures = MinHasher(128, 1).signatures(sets)
    lean = [LeanMinHash(seed=1, hashvalues=s, scheme=SCHEME) for s in signatures]
    true_jaccard = len(np.intersect1d(sets[0], sets[1])) / len(np.union1d(sets[0], sets[1]))
    assert lean[0].jaccard(lean[1]) == pytest.approx(true_jaccard, abs=0.15)
    index = MinHashLSH(threshold=0.5, num_perm=128)
    index.insert("a", lean[0])
    index.insert("c", lean[2])
    assert index.query(lean[1]) == ["a"]
    buffer = bytearray(lean[0].bytesize())
    lean[0].serialize(buffer)
    assert LeanMinHash.deserialize(buffer) == lean[0]


@pytest.mark.parametrize("num_perm", [32, 128, 200])
def test_bands_and_rows_are_those_datasketch_derives(num_perm: int) -> None:
    for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2).tolist():
        assert lsh_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5), threshold  # what MinHashLSH(threshold, num_perm) uses


def test_permutations_are_those_of_datasketch() -> None:
    for num_perm, seed in [(128, 1), (64, 7), (3, 12345)]:
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        assert [x.tolist() for x in permutations(num_perm, seed)] == [a.tolist(), b.tolist()]


def test_explicit_bands_and_rows_override_and_are_checked() -> None:
    assert lsh_params(0.5, 128, bands=16, rows=8) == (16, 8)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        lsh_params(0.5, 128, bands=20, rows=8)


def test_candidates_come_from_shared_bands_only() -> None:
    signatures = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 6, 8, 8]], dtype=np.uint32)
    pairs = candidate_pairs(band_keys(signatures, bands=2, rows=2), max_bucket=10)
    assert pairs.tolist() == [[0, 1], [0, 2]]
    only_new = candidate_pairs(band_keys(signatures, 2, 2), 10, only=np.array([False, False, True, False]))
    assert only_new.tolist() == [[0, 2]]


def test_a_large_bucket_is_capped_not_dropped() -> None:
    signatures = np.ones((6, 2), dtype=np.uint32)
    pairs = candidate_pairs(band_keys(signatures, 1, 2), max_bucket=3)
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [1, 2]]


def test_a_chunk_sketches_each_document_as_if_it_were_alone() -> None:
    config = load_config()
    texts = [normalise_text(t) for t in list(wikiref().values())[:40]] + ["two words", "", TEXT]
    together = sketch_texts(texts, config)
    alone = [sketch_texts([t], config) for t in texts]
    assert np.array_equal(together.signatures, np.concatenate([a.signatures for a in alone]))
    assert np.array_equal(together.fact_signatures, np.concatenate([a.fact_signatures for a in alone]))
    for row, single in enumerate(alone):
        one, only = together.facts(row), single.facts(0)
        assert [int(getattr(together, name)[row]) for name in ("words", "text_hash", "lede_hash")] == [int(getattr(single, name)[0]) for name in ("words", "text_hash", "lede_hash")], row
        assert np.array_equal(together.shingles.row(row), shingle_hashes(hash_tokens(tokenize(texts[row])), 3))
        mine_terms, their_terms = [together.word_terms.take(np.array([row])), together.fact_terms.take(np.array([row]))], [single.word_terms, single.fact_terms]
        for mine, theirs in [
            (one.numbers, only.numbers),
            (one.names, only.names),
            *[(getattr(m, name), getattr(t, name)) for m, t in zip(mine_terms, their_terms) for name in ("tf", "background")],
            *[(m.columns.values, t.columns.values) for m, t in zip(mine_terms, their_terms)],
        ]:
            assert np.array_equal(mine, theirs), row
    assert together.words[len(texts) - 2] == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([" ", "\t", "\n", "\r", "\x0b", "\x1f", "\x85", "\xa0", "\u2003", "\u3000", "a", "B", "é"]), max_size=20))
def test_normalised_lines_have_single_spaces_between_words(text: str) -> None:
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    assert normalise_text(text) == "\n".join(line for line in lines if line)


def test_english_frequencies_are_wordfreqs() -> None:
    from wordfreq import top_n_list, word_frequency, zipf_frequency

    from dedup.kernels.facts import rarity
    from dedup.kernels.terms import english_frequency

    terms = top_n_list("en", 50_000)[::10] + ["kalomar", "droege", "o'neil", "14.3", "1500", "café", "x2", "Mixed", "a"]
    assert [english_frequency(t) for t in terms] == [word_frequency(t, "en") for t in terms]
    assert [rarity(t) for t in terms] == [8.0 - zipf_frequency(t, "en") for t in terms]
