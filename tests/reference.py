"""Side-by-side comparison of the NumPy runtime with scikit-learn on the same texts."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import GaussianNB

from runtime.model import Model

CHUNK = 500  # GaussianNB needs dense rows; chunks keep memory modest


def assert_same_as_sklearn(
    model: Model,
    vectorizer: TfidfVectorizer,
    classifier: GaussianNB,
    texts: list[str],
    *,
    rtol: float = 1e-12,
) -> None:
    """Identical terms, tf-idf values and labels; log-likelihoods within ``rtol``."""
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        expected = vectorizer.transform(chunk)
        got = model.transform(chunk)
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        # Same operations in the same order as scikit-learn: equal to the last bit.
        np.testing.assert_array_equal(got.data, expected.data)

        dense = expected.toarray()
        expected_jll = classifier.predict_joint_log_proba(dense)
        got_jll = model.joint_log_likelihood(chunk)
        np.testing.assert_allclose(got_jll, expected_jll, rtol=rtol, atol=0)

        expected_labels = classifier.predict(dense).tolist()
        expected_proba = classifier.predict_proba(dense)
        labels, proba = model.predict_with_proba(chunk)
        assert labels == expected_labels
        assert model.classify(chunk) == list(zip(labels, proba.tolist(), strict=True))
        np.testing.assert_allclose(proba, expected_proba, rtol=1e-9, atol=1e-12)

        # The plain-Python path for a few texts (what a single request takes).
        for i, text in enumerate(chunk):
            columns, values = model.transform_one(text)
            row = slice(expected.indptr[i], expected.indptr[i + 1])
            assert columns == expected.indices[row].tolist()
            np.testing.assert_array_equal(values, expected.data[row])
            np.testing.assert_allclose(
                model.joint_log_likelihood([text])[0], expected_jll[i], rtol=rtol, atol=0
            )
            label, one_proba = model.predict_with_proba([text])
            assert label == [expected_labels[i]]
            np.testing.assert_allclose(one_proba[0], expected_proba[i], rtol=1e-9, atol=1e-12)
            [(classified, classified_proba)] = model.classify([text])
            assert (classified, classified_proba) == (label[0], one_proba[0].tolist())
