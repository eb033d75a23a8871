"""runtime.murmur is scikit-learn's MurmurHash3 to the bit, and its column rule too."""

from __future__ import annotations

import functools
import itertools
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils import murmurhash3_32 as sklearn_murmurhash3_32

from exporter import export_pipeline
from runtime.murmur import hashed_column, murmurhash3_32
from tests.corpus import make_corpus
from tests.reference import assert_same_as_sklearn

MASK = 0xFFFFFFFF
INT32_MIN = -(2**31)


@settings(max_examples=500)
@given(key=st.binary(max_size=64))
def test_bytes_hash_like_sklearn(key: bytes) -> None:
    assert murmurhash3_32(key) == sklearn_murmurhash3_32(key, seed=0)


@settings(max_examples=500)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_strings_hash_like_sklearn(text: str) -> None:
    """scikit-learn hashes a str as its UTF-8 bytes; HashingVectorizer does the same."""
    assert murmurhash3_32(text.encode("utf-8")) == sklearn_murmurhash3_32(text, seed=0)


@given(key=st.binary(max_size=16), seed=st.integers(0, MASK))
def test_seeded_hash_like_sklearn(key: bytes, seed: int) -> None:
    assert murmurhash3_32(key, seed) == sklearn_murmurhash3_32(key, seed=seed)


def _unmix_block(k: int) -> int:
    """The inverse of MurmurHash3's per-block scramble (multiply, rotate, multiply)."""
    k = (k * pow(0x1B873593, -1, 2**32)) & MASK
    k = ((k >> 15) | (k << 17)) & MASK
    return (k * pow(0xCC9E2D51, -1, 2**32)) & MASK


def _mix_block(k: int) -> int:
    k = (k * 0xCC9E2D51) & MASK
    k = ((k << 15) | (k >> 17)) & MASK
    return (k * 0x1B873593) & MASK


def _unfinalize(h: int) -> int:
    """The inverse of MurmurHash3's final avalanche (fmix32)."""
    h ^= h >> 16
    h = (h * pow(0xC2B2AE35, -1, 2**32)) & MASK
    h ^= (h >> 13) ^ (h >> 26)
    h = (h * pow(0x85EBCA6B, -1, 2**32)) & MASK
    return h ^ (h >> 16)


def _after_block(h: int, block: int) -> int:
    h ^= _mix_block(block)
    h = ((h << 13) | (h >> 19)) & MASK
    return (h * 5 + 0xE6546B64) & MASK


@functools.cache
def term_hashing_to_int32_min() -> str:
    """An 8-letter lowercase term whose signed hash is -2**31, found by running the hash
    backwards: fix the first four letters, solve for the last four bytes.
    """
    before_length = _unfinalize(INT32_MIN & MASK) ^ 8  # the key is 8 bytes long
    before_round = ((before_length - 0xE6546B64) * pow(5, -1, 2**32)) & MASK
    before_round = ((before_round >> 13) | (before_round << 19)) & MASK
    allowed = set((string.ascii_lowercase + string.digits).encode())
    for letters in itertools.product(string.ascii_lowercase, repeat=4):
        first = "".join(letters).encode()
        state = _after_block(0, int.from_bytes(first, "little"))
        second = _unmix_block(before_round ^ state).to_bytes(4, "little")
        if set(second) <= allowed:
            return (first + second).decode()
    raise AssertionError("no lowercase term found")


def test_the_int32_min_term_is_real() -> None:
    term = term_hashing_to_int32_min()
    assert sklearn_murmurhash3_32(term, seed=0) == INT32_MIN
    assert murmurhash3_32(term.encode()) == INT32_MIN


@pytest.mark.parametrize("n_features", [2**10, 1000, 7, 2**20 + 3])
@pytest.mark.parametrize("alternate_sign", [True, False])
def test_int32_min_column_like_hashing_vectorizer(n_features: int, alternate_sign: bool) -> None:
    """abs(-2**31) overflows int32, so scikit-learn's C code special-cases it."""
    term = term_hashing_to_int32_min()
    vectorizer = HashingVectorizer(n_features=n_features, alternate_sign=alternate_sign, norm=None)
    row = vectorizer.transform([term])
    column, sign = hashed_column(term, n_features)
    assert row.indices.tolist() == [column]
    assert row.data.tolist() == [float(sign) if alternate_sign else 1.0]


def test_int32_min_term_through_an_exported_model() -> None:
    texts, labels = make_corpus(120)
    term = term_hashing_to_int32_min()
    texts = [f"{t} {term}" if i % 3 == 0 else t for i, t in enumerate(texts)]
    pipeline = make_pipeline(
        HashingVectorizer(n_features=1000, norm=None), SGDClassifier(random_state=0)
    ).fit(texts, labels)
    model = export_pipeline(pipeline, texts=[term]).model
    assert_same_as_sklearn(model, pipeline, [term, f"{term} {term} free", term.upper(), ""])
