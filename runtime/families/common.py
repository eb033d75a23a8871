"""Arithmetic shared by the families, in plain Python and (``*_batch``) NumPy.

Each pair computes the same expressions in the same order: a sparse row times a dense
weight matrix sums its nonzeros in column order starting from 0.0, as SciPy's CSR
product does, so the plain and vectorised paths, and scikit-learn, agree to the last bit.
The NumPy functions import NumPy when first called: a single message never does.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.features import Rows


def as_matrix(view: memoryview[Any], rows: int, columns: int) -> np.ndarray:
    """A read-only NumPy view over a flat float64 array from the model file (no copy)."""
    import numpy as np

    return np.frombuffer(view, dtype=np.float64).reshape(rows, columns)


def dot_one(
    columns: list[int], values: list[float], weights: memoryview[Any], n_outputs: int
) -> list[float]:
    """``row @ W`` for W stored feature-major (row ``c`` of W at ``c * n_outputs``)."""
    if n_outputs == 1:
        total = 0.0
        for c, v in zip(columns, values, strict=True):
            total += v * weights[c]
        return [total]
    totals = [0.0] * n_outputs
    for c, v in zip(columns, values, strict=True):
        base = c * n_outputs
        for k in range(n_outputs):
            totals[k] += v * weights[base + k]
    return totals


def dot_batch(rows: Rows, weights: np.ndarray) -> np.ndarray:
    """``rows @ W``: ``bincount`` adds each row's products in element order, from 0.0."""
    import numpy as np

    n_rows = len(rows.indptr) - 1
    row_of = rows.row_of()
    products = rows.data[:, np.newaxis] * weights.take(rows.indices, axis=0)
    out = np.empty((n_rows, weights.shape[1]))
    for k in range(weights.shape[1]):
        out[:, k] = np.bincount(row_of, weights=products[:, k], minlength=n_rows)
    return out


# Probabilities go through exp and log, whose last bit NumPy's SIMD code and libm may
# disagree on: parity allows them this much (families declare more if they need it).
PROBA_ATOL = 1e-12


def argmax(values: list[float]) -> int:
    """The first maximum, as ``np.argmax`` picks it."""
    return values.index(max(values))


def logsumexp_proba(jll: list[float]) -> list[float]:
    """``exp(jll - _logsumexp(jll))`` as scikit-learn's naive Bayes ``predict_proba``."""
    row_max = max(jll)
    n_max = sum(1 for v in jll if v == row_max)
    shift = row_max if math.isfinite(row_max) else 0.0
    total = 0.0
    for v in jll:
        if v != row_max:
            total += math.exp(v - shift)
    if total != 0.0:
        total /= n_max
    log_sum = math.log1p(total) + math.log(n_max) + row_max
    return [math.exp(v - log_sum) for v in jll]


def logsumexp_proba_batch(jll: np.ndarray) -> np.ndarray:
    import numpy as np

    row_max = np.max(jll, axis=1, keepdims=True)
    is_max = jll == row_max
    others = jll.copy()
    others[is_max] = -np.inf
    n_max = np.sum(is_max.astype(jll.dtype), axis=1, keepdims=True)
    shift = np.where(np.isfinite(row_max), row_max, 0)
    total = np.sum(np.exp(others - shift), axis=1, keepdims=True)
    total = np.where(total == 0, total, total / n_max)
    log_sum = np.log1p(total) + np.log(n_max) + row_max
    proba: np.ndarray = np.exp(jll - log_sum)
    return proba


def expit(x: float) -> float:
    """``scipy.special.expit``: 1 / (1 + exp(-x)), with libm's exp as SciPy uses it."""
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) past the float range: SciPy's inf gives exactly 0
        return 0.0


def expit_batch(x: np.ndarray) -> np.ndarray:
    """Element by element through ``math.exp``: NumPy's SIMD exp may differ from SciPy's."""
    import numpy as np

    flat = [expit(v) for v in x.ravel().tolist()]
    return np.array(flat, dtype=np.float64).reshape(x.shape)


def softmax(scores: list[float]) -> list[float]:
    """``sklearn.utils.extmath.softmax`` of one row."""
    row_max = max(scores)
    exps = [math.exp(v - row_max) for v in scores]
    total = 0.0
    for v in exps:
        total += v
    return [v / total for v in exps]


def softmax_batch(scores: np.ndarray) -> np.ndarray:
    import numpy as np

    shifted = scores - np.max(scores, axis=1).reshape((-1, 1))
    np.exp(shifted, out=shifted)
    proba: np.ndarray = shifted / np.sum(shifted, axis=1).reshape((-1, 1))
    return proba


def normalise(prob: list[float]) -> list[float]:
    """OvR normalisation as ``_predict_proba_lr``: all-zero rows become uniform."""
    total = 0.0
    for p in prob:
        total += p
    if total == 0.0:
        return [1 / len(prob)] * len(prob)
    return [p / total for p in prob]


def normalise_batch(prob: np.ndarray) -> np.ndarray:
    prob = prob.copy()
    total = prob.sum(axis=1)
    all_zero = total == 0
    if all_zero.any():
        prob[all_zero, :] = 1
        total[all_zero] = prob.shape[1]
    normalised: np.ndarray = prob / total.reshape((prob.shape[0], -1))
    return normalised


def finite_or_none(values: list[float]) -> list[Any]:
    """JSON cannot carry NaN or infinity; a score that overflowed is answered as null."""
    return [v if math.isfinite(v) else None for v in values]
