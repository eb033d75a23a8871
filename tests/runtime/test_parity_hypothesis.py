"""Property tests: any text gives exactly what scikit-learn gives, for many settings."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.normalize import fold, fold_leet
from runtime.model import VECTORISE_FROM, Model
from tests.corpus import fit_tutorial, tutorial_model_bytes
from tests.reference import assert_same_as_sklearn
from tests.texts import TRICKY, any_texts, word_texts

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

# Each supported TfidfVectorizer option appears at least once, combined sensibly.
SETTINGS_MATRIX: list[dict] = [
    {"sublinear_tf": True, "max_df": 0.5},  # the tutorial
    {},
    {"lowercase": False, "norm": None},
    {"strip_accents": "ascii", "norm": "l1"},
    {"strip_accents": "unicode", "lowercase": False},
    {"ngram_range": (1, 2), "stop_words": "english"},
    {"ngram_range": (2, 3), "stop_words": ["the", "a", "to", "and"], "binary": True},
    {"token_pattern": r"(?u)\b\w+\b", "use_idf": False},
    {"token_pattern": r"(\w)\w*", "smooth_idf": False, "sublinear_tf": True},
    {"analyzer": "char", "ngram_range": (1, 3), "min_df": 2},
    {"analyzer": "char_wb", "ngram_range": (2, 4), "max_features": 300, "strip_accents": "unicode"},
    {"analyzer": "char", "ngram_range": (3, 5), "lowercase": False, "binary": True, "norm": "l1"},
    {"max_df": 0.9, "min_df": 3, "max_features": 40, "sublinear_tf": True},
    {"vocabulary": ["zebra", "free", "lunch", "prize", "café", "東京"], "norm": "l2"},
    {"preprocessor": fold_leet, "ngram_range": (1, 2), "sublinear_tf": True},
    {"preprocessor": fold, "analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2},
]


@functools.cache
def fitted(index: int):
    params = SETTINGS_MATRIX[index]
    return fit_tutorial(**params), Model.from_bytes(tutorial_model_bytes(**params))


ids = [
    ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in s.items()) or "defaults"
    for s in SETTINGS_MATRIX
]
matrix = pytest.mark.parametrize("index", range(len(SETTINGS_MATRIX)), ids=ids)
hypothesis_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@matrix
def test_tricky_texts(index: int) -> None:
    pair, model = fitted(index)
    assert_same_as_sklearn(model, pair, TRICKY)


@matrix
@hypothesis_settings
@given(texts=st.lists(st.one_of(any_texts, word_texts), min_size=1, max_size=8))
def test_arbitrary_texts(index: int, texts: list[str]) -> None:
    pair, model = fitted(index)
    assert_same_as_sklearn(model, pair, texts)


@matrix
@hypothesis_settings
@given(text=st.one_of(any_texts, word_texts))
def test_few_texts_path_equals_batch_path(index: int, text: str) -> None:
    """Small requests are scored in plain Python; they must equal the vectorised batch."""
    _, model = fitted(index)
    batch = [TRICKY[6], text, *TRICKY[3:]] * 3
    assert len(batch) >= VECTORISE_FROM
    rows = model.transform(batch)
    columns, values = model.transform_one(text)
    assert columns == rows.indices[rows.indptr[1] : rows.indptr[2]].tolist()
    assert values == rows.data[rows.indptr[1] : rows.indptr[2]].tolist()
    assert model.scores_one(text) == model.predict_joint_log_proba(batch)[1].tolist()
    [alone], [in_batch] = model.classify([text]), model.classify(batch)[1:2]
    assert alone["label"] == in_batch["label"]
    # exp/log of the plain path (libm) and NumPy's may differ in the last bit.
    np.testing.assert_allclose(
        list(alone["probabilities"].values()),
        list(in_batch["probabilities"].values()),
        rtol=1e-14,
        atol=1e-300,
    )
