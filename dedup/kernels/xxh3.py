"""XXH3-64 of many short byte strings at once, bit-for-bit the xxhash package's ``xxh3_64_intdigest``.

Word tokens are short: nearly all are 1 to 16 bytes, where XXH3 (seed 0, the
default secret) is a handful of reads, multiplications and shifts per input,
with no loop over the bytes. Those are computed here for a whole array of
tokens with numpy; longer tokens (rare) go through the xxhash package one by
one. The formulas are those of the reference implementation (``xxhash.h``:
``XXH3_len_1to3_64b``, ``XXH3_len_4to8_64b``, ``XXH3_len_9to16_64b``), and
``tests/test_sketch.py`` checks every length against the package.
"""

from __future__ import annotations

import numpy as np
import xxhash

_SECRET = bytes.fromhex(  # the first 56 bytes of XXH3's default secret (kSecret)
    "b8fe6c3923a44bbe7c01812cf721ad1c" "ded46de9839097db7240a4a4b7b3671f" "cb79e64eccc0e578825ad07dccff7221" "b8084674f743248e"
)


def _le(offset: int, size: int) -> np.uint64:
    return np.uint64(int.from_bytes(_SECRET[offset : offset + size], "little"))


_BITFLIP_1TO3 = _le(0, 4) ^ _le(4, 4)
_BITFLIP_4TO8 = _le(8, 8) ^ _le(16, 8)
_BITFLIP_9TO16_LO = _le(24, 8) ^ _le(32, 8)
_BITFLIP_9TO16_HI = _le(40, 8) ^ _le(48, 8)
_PRIME64_2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PRIME64_3 = np.uint64(0x165667B19E3779F9)
_PRIME_MX1 = np.uint64(0x165667919E3779F9)
_PRIME_MX2 = np.uint64(0x9FB21C651E98DF25)
_LOW32 = np.uint64(0xFFFFFFFF)
SHORT = 16
"""Longest input computed with numpy; longer ones use the xxhash package."""


def _u64(value: int) -> np.uint64:
    return np.uint64(value)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << _u64(r)) | (x >> _u64(64 - r))


def _xxh64_avalanche(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _u64(33))
    h = h * _PRIME64_2
    h = h ^ (h >> _u64(29))
    h = h * _PRIME64_3
    return h ^ (h >> _u64(32))


def _xxh3_avalanche(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _u64(37))
    h = h * _PRIME_MX1
    return h ^ (h >> _u64(32))


def _rrmxmx(h: np.ndarray, length: np.ndarray) -> np.ndarray:
    h = h ^ (_rotl(h, 49) ^ _rotl(h, 24))
    h = h * _PRIME_MX2
    h = h ^ ((h >> _u64(35)) + length)
    h = h * _PRIME_MX2
    return h ^ (h >> _u64(28))


def _mul128_fold64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Low 64 bits xor high 64 bits of the 128-bit products, from 32-bit halves."""
    a_lo, a_hi, b_lo, b_hi = a & _LOW32, a >> _u64(32), b & _LOW32, b >> _u64(32)
    lo_lo, hi_lo, lo_hi, hi_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi, a_hi * b_hi
    cross = (lo_lo >> _u64(32)) + (hi_lo & _LOW32) + lo_hi
    high = hi_hi + (hi_lo >> _u64(32)) + (cross >> _u64(32))
    low = (cross << _u64(32)) | (lo_lo & _LOW32)
    return low ^ high


def _read(windows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian 8-byte words at positions ``at`` (``windows``: the data's 8-byte windows)."""
    return np.ascontiguousarray(windows[at]).view("<u8").ravel().astype(np.uint64, copy=False)


def xxh3_64(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``xxhash.xxh3_64_intdigest(data[s : s + n])`` for each start ``s`` and length ``n`` (uint8 ``data``)."""
    out = np.empty(len(starts), dtype=np.uint64)
    padded = np.concatenate([data, np.zeros(8, dtype=np.uint8)])  # reads of 8 bytes stay in bounds
    windows = np.lib.stride_tricks.sliding_window_view(padded, 8)
    starts, lengths = starts.astype(np.int64), lengths.astype(np.int64)
    with np.errstate(over="ignore"):
        where = np.flatnonzero((lengths >= 1) & (lengths <= 3))
        s, n = starts[where], lengths[where]
        c1, c2, c3 = padded[s].astype(np.uint64), padded[s + (n >> 1)].astype(np.uint64), padded[s + n - 1].astype(np.uint64)
        combined = (c1 << _u64(16)) | (c2 << _u64(24)) | c3 | (n.astype(np.uint64) << _u64(8))
        out[where] = _xxh64_avalanche(combined ^ _BITFLIP_1TO3)

        where = np.flatnonzero((lengths >= 4) & (lengths <= 8))
        s, n = starts[where], lengths[where]
        first, last = _read(windows, s) & _LOW32, _read(windows, s + n - 4) & _LOW32
        out[where] = _rrmxmx((last + (first << _u64(32))) ^ _BITFLIP_4TO8, n.astype(np.uint64))

        where = np.flatnonzero((lengths >= 9) & (lengths <= SHORT))
        s, n = starts[where], lengths[where]
        lo = _read(windows, s) ^ _BITFLIP_9TO16_LO
        hi = _read(windows, s + n - 8) ^ _BITFLIP_9TO16_HI
        out[where] = _xxh3_avalanche(n.astype(np.uint64) + lo.byteswap() + hi + _mul128_fold64(lo, hi))

    for k in np.flatnonzero((lengths > SHORT) | (lengths == 0)).tolist():
        out[k] = xxhash.xxh3_64_intdigest(data[starts[k] : starts[k] + lengths[k]].tobytes())
    return out
