"""Multilingual feeds (#17): legacy encodings, languages, and copies of
Chinese, Japanese, Korean, German, Russian and Arabic articles.

The articles are real text (tests/fixtures/multilingual/SOURCES.md); the
copies are made here: exact, truncated, one sentence cut by half, and lightly
reworded (ten single letters changed).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from corpus import FIXTURES, clusters_of, run

from dedup.config import IngestConfig, load_config
from dedup.kernels.facts import extract_facts
from dedup.readers.decode import decode_text
from dedup.kernels.shingle import tokenize
from dedup.kernels.terms import background_share, stop_words

MULTILINGUAL = FIXTURES / "multilingual"
LANGUAGES = ["zh", "ja", "ko", "de", "ru", "ar"]
UNIT_END = re.compile(r"[。！？.!?؟]|\n")
"""Where a sentence or a line ends (the UDHR's preamble ends its paragraphs with commas)."""
CHANGES = 10


def _article(language: str, number: int) -> str:
    return (MULTILINGUAL / f"{language}_{number}.txt").read_text(encoding="utf-8")


def _unit_ends(text: str) -> list[int]:
    """The offsets just after each sentence or line of ``text``."""
    return [m.end() for m in UNIT_END.finditer(text.rstrip())]


def _reworded(text: str) -> str:
    """``text`` with ``CHANGES`` letters, evenly spread, each replaced by the
    text's last letter unlike it (a letter of the same script); digits are
    left alone (they are facts)."""
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for k in range(CHANGES):
        i = letters[(k + 1) * len(letters) // (CHANGES + 1)]
        j = next(j for j in letters[::-1] if chars[j] != chars[i] and j != i)
        chars[i] = chars[j]
    changed = "".join(chars)
    assert sum(a != b for a, b in zip(text, changed)) == CHANGES
    return changed


def _copies(language: str) -> dict[str, str]:
    """The original, its four copies and another article of the same language, by file name."""
    original, other = _article(language, 1), _article(language, 2)
    ends = _unit_ends(original)
    start, end = ends[len(ends) // 2 - 1], ends[len(ends) // 2]  # the middle sentence (or line)
    edited = original[: (start + end) // 2] + original[end - 1 :]  # its second half cut
    return {
        f"{language}/original.txt": original,
        f"{language}/exact.txt": original,
        f"{language}/truncated.txt": original[: ends[2 * len(ends) // 3]],
        f"{language}/edited.txt": edited,
        f"{language}/reworded.txt": _reworded(original),
        f"{language}/other.txt": other,
    }


@pytest.fixture(scope="module")
def copies_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    feed = tmp_path_factory.mktemp("multilingual") / "feed"
    for language in LANGUAGES:
        for name, text in _copies(language).items():
            (feed / name).parent.mkdir(parents=True, exist_ok=True)
            (feed / name).write_text(text, encoding="utf-8")
    return feed


@pytest.mark.parametrize("paraphrase", [True, False], ids=["default", "no-paraphrase"])
def test_copies_join_their_original_and_other_articles_stay_apart(copies_feed: Path, tmp_path: Path, paraphrase: bool) -> None:
    config = load_config(overrides={"paraphrase.enabled": paraphrase})
    documents = run(copies_feed, tmp_path / "out", config)
    cluster = clusters_of(documents)
    for language in LANGUAGES:
        original = cluster[f"{language}/original.txt"]
        for kind in ("exact", "truncated", "edited", "reworded"):
            assert cluster[f"{language}/{kind}.txt"] == original, f"{language} {kind} copy not joined"
        assert cluster[f"{language}/other.txt"] != original, f"{language}: two articles merged"
    assert documents.group_by("cluster_id").agg(pl.col("language").n_unique())["language"].max() == 1


def test_each_article_has_its_language_and_encoding(copies_feed: Path, tmp_path: Path) -> None:
    documents = run(copies_feed, tmp_path / "out", load_config(overrides={"paraphrase.enabled": False}))
    found = dict(zip(documents["doc_id"], documents["language"]))
    for language in LANGUAGES:
        assert {found[f"{language}/original.txt"], found[f"{language}/other.txt"]} == {language}
    assert set(documents["encoding"]) == {"utf-8"}


def test_han_kana_hangul_and_thai_runs_are_character_bigrams() -> None:
    assert tokenize("中国经济增长3.5%。Apple的iPhone") == ["中国", "国经", "经济", "济增", "增长", "3.5", "apple", "的", "iphone"]
    assert tokenize("東京は晴れ") == ["東京", "京は", "は晴", "晴れ"]
    assert tokenize("파이썬은 쉽고") == ["파이", "이썬", "썬은", "쉽고"]
    assert tokenize("ภาษาไทย") == ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]
    assert tokenize("Café déjà vu, 1,500 don't") == ["café", "déjà", "vu", "1,500", "don't"]


def test_stop_words_and_background_frequencies_are_the_documents_language() -> None:
    assert {"und", "der", "die"} <= stop_words("de", 100) and "und" not in stop_words("en", 100)
    assert {"в", "и", "на"} <= stop_words("ru", 100) and stop_words(None, 100) == stop_words("en", 100)
    assert background_share("und", "de") > 0.99 > 0.01 > background_share("und")  # common in German, rare in English
    assert background_share("经济") > 0.1  # a common Chinese word (0.26), whatever the document's language


def test_figures_beside_cjk_characters_and_with_multipliers_are_facts() -> None:
    facts = extract_facts("2024年3月5日，销售额达1,500万元，比去年的120億円多3.5%。", 10)
    assert facts.numbers == ["120億", "1500万", "2024", "3", "3.5", "5"]


CJK_ENCODINGS = {  # CPython's test texts, by codec: their language
    "big5": "zh", "big5hkscs": "zh", "gb2312": "zh", "gbk": "zh", "gb18030": "zh", "hz": "zh",
    "euc_jp": "ja", "euc_jisx0213": "ja", "shift_jis": "ja", "shift_jisx0213": "ja", "iso2022_jp": "ja",
    "euc_kr": "ko", "cp949": "ko", "johab": "ko", "iso2022_kr": "ko",
}  # fmt: skip


def _cjkencodings() -> Path:
    test = pytest.importorskip("test", reason="this Python has no test package (some distributions ship it apart)")
    folder = Path(test.__file__).parent / "cjkencodings"
    if not folder.is_dir():
        pytest.skip(f"this Python's test package has no {folder}")
    return folder


@pytest.fixture(scope="module")
def cjk_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every text of CPython's cjkencodings folder: each legacy-encoded file and its UTF-8 twin."""
    test = pytest.importorskip("test", reason="this Python has no test package (some distributions ship it apart)")
    folder = Path(test.__file__).parent / "cjkencodings"
    if not folder.is_dir():
        pytest.skip(f"this Python's test package has no {folder}")
    feed = tmp_path_factory.mktemp("cjkencodings") / "feed"
    shutil.copytree(folder, feed)
    assert {p.stem for p in feed.glob("*.txt") if not p.stem.endswith("-utf8")} == set(CJK_ENCODINGS)
    return feed


def test_every_legacy_encoded_text_of_cpythons_cjkencodings_is_an_exact_copy_of_its_utf8_twin(cjk_feed: Path, tmp_path: Path) -> None:
    documents = run(cjk_feed, tmp_path / "out", load_config())
    assert pl.read_parquet(tmp_path / "out" / "rejected.parquet").height == 0
    rows = {row["doc_id"]: row for row in documents.iter_rows(named=True)}
    for codec in CJK_ENCODINGS:
        mine, twin = rows[f"{codec}.txt"], rows[f"{codec}-utf8.txt"]
        assert mine["encoding"] != "utf-8", f"{codec}.txt read as UTF-8"
        assert mine["cluster_id"] == twin["cluster_id"], f"{codec}.txt (read as {mine['encoding']}) is not with its UTF-8 twin"
        twin_text = (cjk_feed / f"{codec}-utf8.txt").read_text(encoding="utf-8")
        assert decode_text((cjk_feed / f"{codec}.txt").read_bytes(), IngestConfig()) == (twin_text, mine["encoding"]), f"{codec}.txt is no exact copy"


def test_cjkencodings_files_of_different_languages_never_share_a_story(cjk_feed: Path, tmp_path: Path) -> None:
    documents = run(cjk_feed, tmp_path / "out", load_config())
    written_in = documents.with_columns(pl.col("doc_id").str.replace(r"(-utf8)?\.txt$", "").replace_strict(CJK_ENCODINGS).alias("written_in"))
    assert written_in.group_by("cluster_id").agg(pl.col("written_in").n_unique())["written_in"].max() == 1
    assert set(documents.filter(pl.col("words") > 50)["language"]) == {"zh", "ja", "ko"}  # the longer texts, by the detector


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (b"\xff\xfe" + "grüße".encode("utf-16-le"), "grüße", "utf-16"),
        (b"\xff\xfe\x00\x00" + "grüße".encode("utf-32-le"), "grüße", "utf-32"),
        (b"\xef\xbb\xbfgr\xc3\xbc\xc3\x9fe", "grüße", "utf-8-sig"),
        (b"\x93Caf\xe9\x94 and cr\xe8me br\xfbl\xe9e", "\u201cCaf\u00e9\u201d and cr\u00e8me br\u00fbl\u00e9e", "cp1252"),
    ],
    ids=["utf-16 bom", "utf-32 bom", "utf-8 bom", "cp1252"],
)
def test_byte_order_marks_and_windows_1252_decode(data: bytes, text: str, encoding: str) -> None:
    assert decode_text(data, IngestConfig()) == (text, encoding)


def test_bytes_that_decode_only_to_mojibake_are_rejected_with_the_reason() -> None:
    with pytest.raises(ValueError, match="no other encoding gives plausible text"):
        decode_text(bytes(range(0x80, 0x100)) * 4, IngestConfig())
