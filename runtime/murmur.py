"""MurmurHash3 (x86, 32-bit) exactly as ``sklearn.utils.murmurhash3_32(key, seed=0)``.

HashingVectorizer hashes each term's UTF-8 bytes with it and keeps no vocabulary, so
the runtime must reproduce every bit of the hash. Standard library only.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


def murmurhash3_32(key: bytes, seed: int = 0) -> int:
    """The signed 32-bit hash of ``key`` (scikit-learn's ``positive=False``)."""
    length = len(key)
    h1 = seed & _MASK
    n_blocks = length >> 2
    for k1 in struct.unpack_from(f"<{n_blocks}I", key):
        k1 = (k1 * _C1) & _MASK
        k1 = ((k1 << 15) | (k1 >> 17)) & _MASK
        h1 ^= (k1 * _C2) & _MASK
        h1 = ((h1 << 13) | (h1 >> 19)) & _MASK
        h1 = (h1 * 5 + 0xE6546B64) & _MASK
    tail = length & 3
    if tail:
        start = n_blocks << 2
        k1 = 0
        if tail == 3:
            k1 ^= key[start + 2] << 16
        if tail >= 2:
            k1 ^= key[start + 1] << 8
        k1 ^= key[start]
        k1 = (k1 * _C1) & _MASK
        k1 = ((k1 << 15) | (k1 >> 17)) & _MASK
        h1 ^= (k1 * _C2) & _MASK
    h1 ^= length & _MASK
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _MASK
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _MASK
    h1 ^= h1 >> 16
    return h1 - 0x100000000 if h1 & 0x80000000 else h1


def hashed_column(term: str, n_features: int) -> tuple[int, int]:
    """(column, sign) of a term, as ``sklearn.feature_extraction._hashing_fast.transform``.

    Lone surrogates (possible in JSON strings) cannot be UTF-8 encoded; scikit-learn
    would raise on them, the runtime hashes their surrogate-pass bytes instead.
    """
    h = murmurhash3_32(term.encode("utf-8", "surrogatepass"))
    if h == -2147483648:  # abs(-2**31) overflows int32 in scikit-learn's C code
        column = (2147483647 - (n_features - 1)) % n_features
    else:
        column = abs(h) % n_features
    return column, 1 if h >= 0 else -1
