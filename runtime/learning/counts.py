"""scikit-learn's ``partial_fit`` counting, expression for expression.

``batch_counts`` is ``_BaseDiscreteNB.partial_fit``'s ``_count`` (``feature_count_ +=
Y.T @ X``, ``class_count_ += Y.sum(axis=0)``), the same for every discrete family; what
each family makes of the counts is its own (runtime/families/counts.py). The same NumPy
operations on the same shapes give the same bits.
"""

from __future__ import annotations

import numpy as np

from runtime.features import Rows


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


def add_batch_counts(
    feature: np.ndarray, classes: np.ndarray, rows: Rows, labels: np.ndarray
) -> None:
    """Add one chunk of a batch to ``batch_counts``'s running totals, in place.

    ``feature`` is flat (class-major), ``classes`` integer. ``np.add.at`` adds each value
    to its total in element order, as ``bincount`` does from 0.0, so a batch fed chunk by
    chunk in order gives ``batch_counts``'s bits while only one chunk is featurized.
    """
    keys = labels[rows.row_of()] * rows.n_features + rows.indices
    np.add.at(feature, keys, rows.data)
    classes += np.bincount(labels, minlength=len(classes))
