"""Scripts: which characters are written without spaces between words, and
whether a decoded text looks like text of one writing system.

Han, Kana, Hangul and Thai runs have no spaces (or, in Korean, spaces between
phrases rather than words): ``NO_SPACE`` is the character class of those
scripts, which the tokens (``shingle.tokenize``) cut into character bigrams
and the facts (``facts``) read figures next to.

``implausible_text`` judges a decoding of legacy bytes: a wrong codec gives
control, private-use or unassigned characters, letters of scripts no
language mixes (Hangul beside Cyrillic), or, read as a Latin code page, more
accented letters than plain ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

NO_SPACE = (
    "\u0e00-\u0e7f"  # Thai
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # Han, extension A
    "\u4e00-\u9fff"  # Han
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # Han compatibility
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003134f"  # Han, extensions B to H
)
"""The character class (inside ``[...]``) of the scripts written without spaces between words."""
NO_SPACE_RUN = re.compile(f"[{NO_SPACE}]+")

_CONTROLS_ALLOWED = frozenset("\t\n\r\f\v")
_BAD_CATEGORIES = frozenset({"Co", "Cn", "Cs"})  # private use, unassigned, surrogate: no text holds them
_FAMILY_OF_NAME = {"CJK": "Han", "IDEOGRAPHIC": "Han", "HIRAGANA": "Kana", "KATAKANA": "Kana", "KATAKANA-HIRAGANA": "Kana", "HANGUL": "Hangul"}
_WIDTHS = ("HALFWIDTH ", "FULLWIDTH ")
_MIXES = ({"Han", "Kana"}, {"Han", "Hangul"})
"""Scripts that one language writes together (Japanese, Korean); any script may hold Latin words too."""


def word_gaps(line: str) -> int:
    """The spaces of ``line``, plus one for every two characters of a script
    written without spaces (a Chinese or Japanese word has about two): the
    gaps between its words, by which the recurring-boilerplate rule tells a
    short line (``normalise.Boilerplate``). Without it a whole line of
    Chinese has no gap, and the story text of syndicated copies would be
    stripped as boilerplate."""
    spaces = line.count(" ")
    return spaces if line.isascii() else spaces + sum(map(len, NO_SPACE_RUN.findall(line))) // 2


def has_no_space_script(text: str) -> bool:
    """Whether ``text`` holds a character of a script written without spaces."""
    return not text.isascii() and NO_SPACE_RUN.search(text) is not None


def script_family(character: str) -> str:
    """The writing system of a letter: the first word of its Unicode name
    ("LATIN", "CYRILLIC", "ARABIC"; "FULLWIDTH" and "HALFWIDTH" passed over),
    with Han, Kana and Hangul named as such (the iteration mark 々 is Han,
    the prolonged sound mark ー Kana)."""
    name = unicodedata.name(character, "UNKNOWN")
    if name.startswith(_WIDTHS):
        name = name.split(" ", 1)[1]
    first = name.split(" ", 1)[0]
    return _FAMILY_OF_NAME.get(first, first)


def implausible_text(text: str, max_accented_share: float) -> str | None:
    """Why ``text`` is not text of one writing system (None when it is).

    Counted over its distinct non-ASCII characters: any control (other than
    whitespace), private-use, unassigned or surrogate character; letters of
    two scripts that no language writes together (Latin goes with any); and,
    where the only non-ASCII letters are Latin, a share of accented letters
    among all Latin letters above ``max_accented_share`` (a Latin code page
    read from bytes of another script gives mostly accented letters, where
    even Vietnamese has fewer than half).
    """
    counts = Counter(text)  # distinct characters, counted in C: a legacy file may be megabytes
    families: Counter[str] = Counter()
    for character, count in counts.items():
        if character.isascii() and (character >= " " or character in _CONTROLS_ALLOWED):
            continue
        category = unicodedata.category(character)
        if category == "Cc" and character not in _CONTROLS_ALLOWED or category in _BAD_CATEGORIES:
            return f"control or unassigned character U+{ord(character):04X}"
        if category[0] == "L":
            families[script_family(character)] += count
    scripts = set(families) - {"LATIN"}
    if len(scripts) > 1 and not any(scripts <= mix for mix in _MIXES):
        return f"letters of scripts no language mixes ({', '.join(sorted(s.lower() for s in scripts))})"
    if not scripts and families:
        plain = sum(count for character, count in counts.items() if character.isascii() and character.isalpha())
        if families["LATIN"] > max_accented_share * (families["LATIN"] + plain):
            return "mostly accented Latin letters"
    return None
