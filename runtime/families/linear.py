"""scikit-learn's linear classifiers: ``decision_function = X @ coef_.T + intercept_``.

LogisticRegression, LinearSVC, SGDClassifier and RidgeClassifier share
``LinearClassifierMixin``: the same decision values (replayed in SciPy's order, so
bit-identical), the same labels (``score > 0`` for two classes, the first maximum
otherwise: the ``Sign`` link). They differ only in ``predict_proba``, named by ``proba``
in the file: ``"logistic"`` (LogisticRegression: expit for two classes, softmax
otherwise), ``"ovr_logistic"`` (SGD ``log_loss``: expit per class, normalised),
``"modified_huber"`` (SGD), or null (LinearSVC, RidgeClassifier, SGD ``hinge``: none).

Its scoring layer is the contract's ``LinearScores``, which other families build on too.
"""

from __future__ import annotations

from runtime.families.family import (
    Contributions,
    Expit,
    Family,
    LinearScores,
    Link,
    ModifiedHuber,
    OvrExpit,
    Sign,
    n_outputs_for,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take
    from runtime.features import Rows

# The file's ``proba`` -> the link giving that ``predict_proba``.
LINKS: dict[str | None, Link] = {
    "logistic": Expit(),
    "ovr_logistic": OvrExpit(),
    "modified_huber": ModifiedHuber(),
    None: Sign(),
}


class Linear(Family):
    """One linear classifier; ``proba`` says which ``predict_proba`` it has, if any."""

    score_method = "decision_function"
    score_name = "decision_function"
    binary_columns = (0, None)
    explained = "decision_function"
    arrays = LinearScores.declared()

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        proba = spec.get("proba")
        if proba not in LINKS:
            raise ValueError(f"classifier.proba must be one of {tuple(LINKS)}")
        self.link = LINKS[proba]
        self.n_classes = n_classes
        self.n_score_columns = n_outputs_for(n_classes)
        self._linear = LinearScores(take, n_features, self.n_score_columns)

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        return self._linear.one(columns, values)

    def scores_batch(self, rows: Rows) -> np.ndarray:
        return self._linear.batch(rows)

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        return self._linear.contributions(columns, values)
