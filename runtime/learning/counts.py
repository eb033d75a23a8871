"""scikit-learn's discrete naive Bayes arithmetic on counts, expression for expression.

``add_rows`` is ``_BaseDiscreteNB.partial_fit``'s ``_count`` (``feature_count_ +=
Y.T @ X``, ``class_count_ += Y.sum(axis=0)``); ``classifier_arrays`` is
``_check_alpha``, ``_update_feature_log_prob`` and ``_update_class_log_prior`` of
MultinomialNB, ComplementNB and BernoulliNB (scikit-learn 1.9), followed by the arrays
the exporter stores for the family (exporter/families.py: ``discrete_nb``). The same
NumPy operations on the same shapes give the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtime.features import Rows

ALPHA_LOWER_BOUND = 1e-10  # _BaseDiscreteNB._check_alpha


def binarized(rows: Rows, threshold: float | None) -> Rows:
    """``sklearn.preprocessing.binarize``: values above ``threshold`` become 1, others go."""
    if threshold is None:
        return rows
    keep = rows.data > threshold
    n_rows = len(rows.indptr) - 1
    row_of = rows.row_of()[keep]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    return Rows(indptr, rows.indices[keep], np.ones(int(keep.sum())), rows.n_features)


def batch_counts(rows: Rows, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(``Y.T @ X``, ``Y.sum(axis=0)``) for one-hot ``Y`` of ``labels``: one batch's counts.

    SciPy forms ``Y.T @ X`` column by column of ``X.T``, that is row by row of ``X``, adding
    each stored value to its (class, feature) total from 0.0; ``bincount`` adds its
    weights in the same element order.
    """
    n_features = rows.n_features
    keys = labels[rows.row_of()] * n_features + rows.indices
    feature = np.bincount(keys, weights=rows.data, minlength=n_classes * n_features)
    classes = np.bincount(labels, minlength=n_classes).astype(np.float64)
    return feature.reshape(n_classes, n_features), classes


def check_alpha(settings: dict[str, Any]) -> float:
    alpha = float(settings["alpha"])
    if alpha < ALPHA_LOWER_BOUND and not settings["force_alpha"]:
        return float(np.maximum(alpha, ALPHA_LOWER_BOUND))
    return alpha


def feature_log_prob(
    settings: dict[str, Any], feature_count: np.ndarray, class_count: np.ndarray
) -> np.ndarray:
    """``_update_feature_log_prob`` of the settings' family."""
    alpha = check_alpha(settings)
    family = settings["family"]
    if family == "complement_nb":
        feature_all = feature_count.sum(axis=0)
        comp_count = feature_all + alpha - feature_count
        logged = np.log(comp_count / comp_count.sum(axis=1, keepdims=True))
        if settings["norm"]:
            summed = logged.sum(axis=1, keepdims=True)
            result: np.ndarray = logged / summed
            return result
        negated: np.ndarray = -logged
        return negated
    smoothed_fc = feature_count + alpha
    bernoulli = family == "bernoulli_nb"
    smoothed_cc = class_count + alpha * 2 if bernoulli else smoothed_fc.sum(axis=1)
    flp: np.ndarray = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
    return flp


def class_log_prior(settings: dict[str, Any], class_count: np.ndarray) -> np.ndarray:
    """``_update_class_log_prior``."""
    prior = settings["class_prior"]
    n_classes = len(class_count)
    if prior is not None:
        logged: np.ndarray = np.log(prior)
        return logged
    if settings["fit_prior"]:
        with np.errstate(divide="ignore"):
            log_class_count = np.log(class_count)
        result: np.ndarray = log_class_count - np.log(class_count.sum())
        return result
    return np.full(n_classes, -np.log(n_classes))


def classifier_arrays(
    settings: dict[str, Any], feature_count: np.ndarray, class_count: np.ndarray
) -> dict[str, np.ndarray]:
    """The family's ``classifier.weights`` and ``classifier.offsets`` from the counts."""
    flp = feature_log_prob(settings, feature_count, class_count)
    prior = class_log_prior(settings, class_count)
    family = settings["family"]
    if family == "bernoulli_nb":
        neg_prob = np.log(1 - np.exp(flp))
        weights = (flp - neg_prob).T
        offsets = prior + neg_prob.sum(axis=1)
    elif family == "complement_nb":
        weights, offsets = flp.T, np.zeros(flp.shape[0])
    else:
        weights, offsets = flp.T, prior
    return {
        "classifier.weights": np.ascontiguousarray(weights, dtype=np.float64),
        "classifier.offsets": np.ascontiguousarray(offsets, dtype=np.float64),
    }
