"""scikit-learn's linear classifiers: ``decision_function = X @ coef_.T + intercept_``.

LogisticRegression, LinearSVC, SGDClassifier and RidgeClassifier share
``LinearClassifierMixin``: the same decision values (replayed in SciPy's order, so
bit-identical), the same labels (``score > 0`` for two classes, the first maximum
otherwise). They differ only in ``predict_proba``, named by ``proba`` in the file:
``"logistic"`` (LogisticRegression: expit for two classes, softmax otherwise),
``"ovr_logistic"`` (SGD ``log_loss``: expit per class, normalised), ``"modified_huber"``
(SGD), or null (LinearSVC, RidgeClassifier, SGD ``hinge``: no probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence

from runtime.families.common import (
    Rows,
    argmax,
    as_matrix,
    dot_batch,
    dot_one,
    expit,
    expit_batch,
    softmax,
    softmax_batch,
)
from runtime.families.family import Contributions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take

PROBA_KINDS = ("logistic", "ovr_logistic", "modified_huber", None)


class LinearScores:
    """``X @ W + b`` with W of shape (n_features, n_outputs) from ``<prefix>weights``."""

    def __init__(self, take: Take, prefix: str, n_features: int, n_outputs: int) -> None:
        self.n_outputs = n_outputs
        self._n_features = n_features
        self._weights = take(f"{prefix}weights", "<f8", (n_features, n_outputs))
        self._offsets = list(take(f"{prefix}offsets", "<f8", (n_outputs,)))
        self._matrix: np.ndarray | None = None

    def one(self, columns: list[int], values: list[float]) -> list[float]:
        totals = dot_one(columns, values, self._weights, self.n_outputs)
        return [t + o for t, o in zip(totals, self._offsets, strict=True)]

    def contributions(
        self, columns: list[int], values: list[float], outputs: Sequence[int]
    ) -> Contributions:
        """weight x feature value per term and output; the intercepts are the base."""
        weights, n = self._weights, self.n_outputs
        per_term = (
            [v * weights[c * n + k] for k in outputs] for c, v in zip(columns, values, strict=True)
        )
        return Contributions([self._offsets[k] for k in outputs], list(columns), per_term)

    def batch(self, rows: Rows) -> np.ndarray:
        import numpy as np

        if self._matrix is None:
            self._matrix = as_matrix(self._weights, self._n_features, self.n_outputs)
        scores: np.ndarray = dot_batch(rows, self._matrix) + np.array(self._offsets)
        return scores


def n_outputs_for(n_classes: int) -> int:
    """Two classes have one decision column (for ``classes_[1]``); more have one each."""
    return 1 if n_classes == 2 else n_classes


def label_from_decision(scores: list[float]) -> int:
    return (1 if scores[0] > 0 else 0) if len(scores) == 1 else argmax(scores)


def labels_from_decision(scores: np.ndarray) -> np.ndarray:
    import numpy as np

    if scores.shape[1] == 1:
        return (scores[:, 0] > 0).astype(np.int64)
    labels: np.ndarray = np.argmax(scores, axis=1)
    return labels


class Linear:
    """One linear classifier; ``proba`` says which ``predict_proba`` it has, if any."""

    score_method = "decision_function"

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        proba = spec.get("proba")
        if proba not in PROBA_KINDS:
            raise ValueError(f"classifier.proba must be one of {PROBA_KINDS}")
        self.n_classes = n_classes
        self._proba_kind: str | None = proba
        self.has_proba = proba is not None
        self._linear = LinearScores(take, "classifier.", n_features, n_outputs_for(n_classes))

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        return self._linear.one(columns, values)

    def scores_batch(self, rows: Rows) -> np.ndarray:
        return self._linear.batch(rows)

    def decision_outputs(self, columns: list[int], values: list[float]) -> list[float]:
        return self._linear.one(columns, values)

    def contributions(
        self, columns: list[int], values: list[float], outputs: Sequence[int]
    ) -> Contributions:
        return self._linear.contributions(columns, values, outputs)

    def label_index(self, scores: list[float]) -> int:
        return label_from_decision(scores)

    def label_index_batch(self, scores: np.ndarray) -> np.ndarray:
        return labels_from_decision(scores)

    def proba(self, scores: list[float]) -> list[float] | None:
        kind = self._proba_kind
        if kind is None:
            return None
        if kind == "modified_huber":
            clipped = [(min(max(s, -1.0), 1.0) + 1.0) / 2.0 for s in scores]
            if len(clipped) == 1:
                return [1.0 - clipped[0], clipped[0]]
            return _normalise(clipped)
        if len(scores) == 1:
            p = expit(scores[0])
            return [1 - p, p]
        if kind == "logistic":
            return softmax(scores)
        return _normalise([expit(s) for s in scores])

    def proba_batch(self, scores: np.ndarray) -> np.ndarray | None:
        import numpy as np

        kind = self._proba_kind
        if kind is None:
            return None
        if kind == "modified_huber":
            prob = (np.clip(scores, -1, 1) + 1.0) / 2.0
            if scores.shape[1] == 1:
                return np.stack([1.0 - prob[:, 0], prob[:, 0]], axis=1)
            return _normalise_batch(prob)
        if scores.shape[1] == 1:
            p = expit_batch(scores[:, 0])
            return np.stack([1 - p, p], axis=1)
        if kind == "logistic":
            return softmax_batch(scores)
        return _normalise_batch(expit_batch(scores))


def _normalise(prob: list[float]) -> list[float]:
    """OvR normalisation as ``_predict_proba_lr``: all-zero rows become uniform."""
    total = 0.0
    for p in prob:
        total += p
    if total == 0.0:
        return [1 / len(prob)] * len(prob)
    return [p / total for p in prob]


def _normalise_batch(prob: np.ndarray) -> np.ndarray:
    prob = prob.copy()
    total = prob.sum(axis=1)
    all_zero = total == 0
    if all_zero.any():
        prob[all_zero, :] = 1
        total[all_zero] = prob.shape[1]
    normalised: np.ndarray = prob / total.reshape((prob.shape[0], -1))
    return normalised
