"""Side-by-side comparison of the runtime with a fitted scikit-learn model on the same texts.

What "exact" means here (README, "Parity with scikit-learn"): labels identical; feature
rows identical to the last bit; scores (decision values, joint log-likelihoods) identical
to the last bit where scikit-learn's summation order is replayed, which is every family
but GaussianNB, whose dense sum the runtime reorders (within ``rtol`` of the summed
terms' magnitude, computed here from scikit-learn's own attributes); probabilities
within 1e-12 (they go through exp/log, whose last bit may differ between NumPy's SIMD
code and libm). Both runtime paths are checked: the plain-Python one a single request
takes and the vectorised batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exporter.pipeline import sklearn_outputs, split_pipeline
from runtime.model import Model

CHUNK = 500  # GaussianNB needs dense rows; chunks keep memory modest
PROBA_ATOL = 1e-12


def assert_same_as_sklearn(
    model: Model, fitted: Any, texts: list[str], *, rtol: float = 1e-12
) -> None:
    gaussian = model.family_name == "gaussian_nb"
    summed = summed_magnitude(split_pipeline(fitted)[1]) if gaussian else 0.0
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        features, outputs, labels = sklearn_outputs(fitted, chunk)
        rows = model.transform(chunk)
        np.testing.assert_array_equal(rows.indptr, features.indptr)
        np.testing.assert_array_equal(rows.indices, features.indices)
        np.testing.assert_array_equal(rows.data, features.data)  # bit for bit
        for i, text in enumerate(chunk):
            columns, values = model.transform_one(text)
            row = slice(features.indptr[i], features.indptr[i + 1])
            assert columns == features.indices[row].tolist()
            assert values == features.data[row].astype(np.float64).tolist()

        for vectorise in (False, True):
            assert model.predict(chunk, vectorise=vectorise) == labels
            for method, want in outputs.items():
                got = getattr(model, method)(chunk, vectorise=vectorise)
                assert got.shape == want.shape, method
                if method == "predict_proba":
                    atol = _proba_atol(model, chunk, summed)
                    np.testing.assert_allclose(got, want, rtol=0, atol=atol)
                elif gaussian:
                    scale = np.abs(want).max(axis=1, keepdims=True, initial=1.0)
                    assert (np.abs(got - want) <= rtol * np.maximum(scale, summed)).all(), method
                else:
                    np.testing.assert_array_equal(got, want, err_msg=method)

        # What the API sends: the same labels, and the family's probabilities or scores.
        predictions = model.classify(chunk)
        assert [p["label"] for p in predictions] == labels


def summed_magnitude(gaussian_nb: Any) -> float:
    """The largest class's |log prior| + |log norm| + the empty message's half distance.

    The runtime adds a message's corrections to that distance; where they cancel (a
    feature constant within a class has the var_smoothing floor as its variance, and a
    huge theta^2 / var) the result keeps the error of these terms, not of its own size.
    """
    theta, var = gaussian_nb.theta_, gaussian_nb.var_
    log_norm = 0.5 * np.abs(np.sum(np.log(2.0 * np.pi * var), axis=1))
    distance = 0.5 * np.sum(theta**2 / var, axis=1)
    return float(np.max(np.abs(np.log(gaussian_nb.class_prior_)) + log_norm + distance))


def _proba_atol(model: Model, texts: list[str], summed: float) -> float:
    """GaussianNB's probabilities inherit its log-likelihoods' error, which grows with them.

    With joint log-likelihoods near 1e10 a reordered sum differs by ~1e-5 in absolute
    terms, so near-tied classes' probabilities are ill-conditioned in scikit-learn itself;
    their tolerance is the propagated error, 4e-12 * the summed magnitude.
    """
    if model.family_name != "gaussian_nb":
        return PROBA_ATOL
    jll = model.predict_joint_log_proba(texts, vectorise=True)
    return max(PROBA_ATOL, 4e-12 * max(float(np.abs(jll).max(initial=0.0)), summed))
