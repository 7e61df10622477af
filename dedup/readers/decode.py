"""Bytes to text: byte order marks, strict UTF-8, then the detected or configured legacy encodings, the first plausible."""

from __future__ import annotations

import codecs

import charset_normalizer

from dedup.config import IngestConfig
from dedup.kernels.scripts import implausible_text

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""Byte order marks and the codec each starts (UTF-32's before UTF-16's: FF FE 00 00 opens both)."""


_SEVEN_BIT_SHIFTS = (b"\x1b", b"~{")
"""What 7-bit CJK encodings (ISO-2022-JP and -KR, HZ) shift with: ASCII bytes holding one may be such text, not ASCII."""


_SEVEN_BIT_CODECS = frozenset(codecs.lookup(name).name for name in ("iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext", "iso2022_kr", "hz"))


_LATIN_CODE_PAGES = frozenset(
    codecs.lookup(name).name
    for name in ("latin_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
                 "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "cp437", "cp850", "cp858", "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish")
)  # fmt: skip
"""Single-byte code pages of Latin script: where the detector guesses one of them, Windows-1252 is tried first."""


def decode_text(data: bytes, config: IngestConfig) -> tuple[str, str]:
    """Bytes to (text, the codec's name). Raises ValueError with the reason
    when no encoding gives plausible text.

    In order: a byte order mark (UTF-8, UTF-16, UTF-32) decides; bytes with
    NUL are binary; strict UTF-8 (unless 7-bit ASCII holds a CJK shift
    sequence); then the encoding charset-normalizer finds most likely, then
    each of ``ingest.legacy_encodings`` in turn (the detector abstains on
    some, cp949 and johab among them): the first that decodes strictly to
    plausible text (``scripts.implausible_text``) wins. Windows-1252 is
    among them, so it is the answer only where it gives plausible text and
    no CJK codec did; mojibake is rejected, not clustered.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise ValueError(f"invalid {codec.upper()} after its byte order mark (byte {exc.start})") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    shifted = data.isascii() and any(shift in data for shift in _SEVEN_BIT_SHIFTS)
    if not shifted:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    tried: list[str] = []
    for codec in _candidates(data, config.legacy_encodings, shifted):
        tried.append(codec)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if implausible_text(text, config.max_accented_share) is None and not (shifted and text.isascii()):
            return text, codec
    if shifted:
        return data.decode("ascii"), "utf-8"
    raise ValueError(f"invalid UTF-8, and no other encoding gives plausible text (tried {', '.join(tried)}): mojibake, not clustered")


def _candidates(data: bytes, legacy: list[str], shifted: bool) -> list[str]:
    """The codecs ``decode_text`` tries, in order, by Python's names:
    charset-normalizer's best guess, then ``legacy``; only 7-bit codecs for
    ASCII bytes with a shift sequence. Windows-1252 goes first where the
    guess is another Latin code page (the detector picks, say, cp1250 for
    short Western text, where cp1252 is the web's answer: WHATWG decodes
    ISO-8859-1 and unlabelled Western text so)."""
    best = charset_normalizer.from_bytes(data).best()
    names = [codecs.lookup(name).name for name in [*([best.encoding] if best is not None else []), *legacy]]
    if shifted:
        names = [name for name in names if name in _SEVEN_BIT_CODECS]
    elif names and names[0] in _LATIN_CODE_PAGES:
        names.insert(0, "cp1252")
    return list(dict.fromkeys(names))
