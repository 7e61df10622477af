"""XXH3-64 of many short byte strings at once, bit-for-bit the xxhash package's ``xxh3_64_intdigest``.

Word tokens are short: nearly all are 1 to 16 bytes, where XXH3 (seed 0, the
default secret) is a handful of reads, multiplications and shifts per input,
with no loop over the bytes. Those are computed here for a whole array of
tokens in one compiled loop (numba); longer tokens (rare) go through the
xxhash package one by one. The formulas are those of the reference implementation (``xxhash.h``:
``XXH3_len_1to3_64b``, ``XXH3_len_4to8_64b``, ``XXH3_len_9to16_64b``), and
``tests/test_sketch.py`` checks every length against the package.
"""

from __future__ import annotations

import numpy as np
import xxhash
from numba import njit

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
"""Longest input computed here; longer ones use the xxhash package."""


@njit(inline="always")
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(inline="always")
def _xxh64_avalanche(h: np.uint64) -> np.uint64:
    h ^= h >> np.uint64(33)
    h *= _PRIME64_2
    h ^= h >> np.uint64(29)
    h *= _PRIME64_3
    return h ^ (h >> np.uint64(32))


@njit(inline="always")
def _xxh3_avalanche(h: np.uint64) -> np.uint64:
    h ^= h >> np.uint64(37)
    h *= _PRIME_MX1
    return h ^ (h >> np.uint64(32))


@njit(inline="always")
def _rrmxmx(h: np.uint64, length: np.uint64) -> np.uint64:
    h ^= _rotl(h, 49) ^ _rotl(h, 24)
    h *= _PRIME_MX2
    h ^= (h >> np.uint64(35)) + length
    h *= _PRIME_MX2
    return h ^ (h >> np.uint64(28))


@njit(inline="always")
def _mul128_fold64(a: np.uint64, b: np.uint64) -> np.uint64:
    """Low 64 bits xor high 64 bits of the 128-bit product, from 32-bit halves."""
    a_lo, a_hi, b_lo, b_hi = a & _LOW32, a >> np.uint64(32), b & _LOW32, b >> np.uint64(32)
    lo_lo, hi_lo, lo_hi, hi_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi, a_hi * b_hi
    cross = (lo_lo >> np.uint64(32)) + (hi_lo & _LOW32) + lo_hi
    high = hi_hi + (hi_lo >> np.uint64(32)) + (cross >> np.uint64(32))
    low = (cross << np.uint64(32)) | (lo_lo & _LOW32)
    return low ^ high


@njit(inline="always")
def _read(data: np.ndarray, at: int, size: int) -> np.uint64:
    """The little-endian word of ``size`` bytes at ``at``."""
    word = np.uint64(0)
    for k in range(size):
        word |= np.uint64(data[at + k]) << np.uint64(8 * k)
    return word


@njit(inline="always")
def _byteswap(x: np.uint64) -> np.uint64:
    swapped = np.uint64(0)
    for _ in range(8):
        swapped = (swapped << np.uint64(8)) | (x & np.uint64(0xFF))
        x >>= np.uint64(8)
    return swapped


@njit(nogil=True, cache=True)
def _short_hashes(data, starts, lengths, out):  # type: ignore[no-untyped-def]
    """XXH3-64 of each input of 1 to ``SHORT`` bytes into ``out`` (others left as they are)."""
    for k in range(len(starts)):
        s, n = starts[k], lengths[k]
        if n < 1 or n > SHORT:
            continue
        if n <= 3:
            c1, c2, c3 = np.uint64(data[s]), np.uint64(data[s + (n >> 1)]), np.uint64(data[s + n - 1])
            combined = (c1 << np.uint64(16)) | (c2 << np.uint64(24)) | c3 | (np.uint64(n) << np.uint64(8))
            out[k] = _xxh64_avalanche(combined ^ _BITFLIP_1TO3)
        elif n <= 8:
            first, last = _read(data, s, 4), _read(data, s + n - 4, 4)
            out[k] = _rrmxmx((last + (first << np.uint64(32))) ^ _BITFLIP_4TO8, np.uint64(n))
        else:
            low = _read(data, s, 8) ^ _BITFLIP_9TO16_LO
            high = _read(data, s + n - 8, 8) ^ _BITFLIP_9TO16_HI
            out[k] = _xxh3_avalanche(np.uint64(n) + _byteswap(low) + high + _mul128_fold64(low, high))


def xxh3_64(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``xxhash.xxh3_64_intdigest(data[s : s + n])`` for each start ``s`` and length ``n`` (uint8 ``data``)."""
    out = np.empty(len(starts), dtype=np.uint64)
    starts, lengths = starts.astype(np.int64), lengths.astype(np.int64)
    _short_hashes(data, starts, lengths, out)
    for k in np.flatnonzero((lengths > SHORT) | (lengths == 0)).tolist():
        out[k] = xxhash.xxh3_64_intdigest(data[starts[k] : starts[k] + lengths[k]].tobytes())
    return out
