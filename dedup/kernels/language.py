"""Language: an ISO 639 code per document, so that articles in different
languages are never one story (``facts.same_story_possible``).

The detector is py3langid (langid.py's naive Bayes over byte n-grams, 97
languages; its model ships inside the package, nothing is downloaded). It
reads the first ``language.sample_chars`` characters. A detection less sure
than ``language.min_confidence`` leaves the language undetermined, which is
compatible with every language. English, most of most feeds, is told first
and at no cost by its stop words: a document whose words are at least
``language.english_stop_share`` English stop words is English without the
detector (its Python loop over bytes would cost a 10,000-document run a
third more time).

A language is kept as a ``uint32``: its code's ASCII bytes, big-endian (0:
undetermined), so that it is a plain array in the sketches and the state.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from dedup.config import LanguageConfig

UNDETERMINED = 0
"""The code of a document whose language the detector is not sure of."""


def code_of(language: str) -> int:
    """The ``uint32`` of an ISO 639 code ("en" -> 0x656E)."""
    return int.from_bytes(language.encode("ascii"), "big")


def name_of(code: int) -> str | None:
    """The ISO 639 code of a ``uint32`` (None: undetermined)."""
    return code.to_bytes(4, "big").lstrip(b"\0").decode("ascii") or None


ENGLISH = code_of("en")


@cache
def _identifier():  # type: ignore[no-untyped-def]  # py3langid has no type hints
    """py3langid's identifier, loaded once per process (0.9 s: its model is xz-compressed), only when a document needs it."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, config: LanguageConfig) -> int:
    """The language code of ``text`` by the detector alone (``UNDETERMINED`` when it is unsure)."""
    language, confidence = _identifier().classify(text[: config.sample_chars])
    return code_of(language) if confidence >= config.min_confidence else UNDETERMINED


def document_languages(texts: list[str], stop_share: np.ndarray, config: LanguageConfig) -> np.ndarray:
    """The language code of each text (uint32): English where its share of
    English stop words among its words (``stop_share``) is at least
    ``language.english_stop_share``, else what the detector says."""
    codes = np.full(len(texts), ENGLISH, dtype=np.uint32)
    for i in np.flatnonzero(stop_share < config.english_stop_share).tolist():
        codes[i] = detect(texts[i], config)
    return codes


def same_language_possible(a: int, b: int) -> bool:
    """Whether two documents may be in one language: the same code, or one undetermined."""
    return a == b or a == UNDETERMINED or b == UNDETERMINED
