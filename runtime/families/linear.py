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

from runtime.families.common import (
    argmax,
    expit,
    expit_batch,
    normalise,
    normalise_batch,
    softmax,
    softmax_batch,
)
from runtime.families.family import Contributions, Family, LinearScores, Link, n_outputs_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take
    from runtime.features import Rows


class Sign(Link):
    """``LinearClassifierMixin.predict``: one decision column is cut at 0, more argmaxed.

    No probabilities (LinearSVC, RidgeClassifier, SGD ``hinge``); subclasses add them.
    """

    has_proba = False

    def label_index(self, scores: list[float]) -> int:
        return (1 if scores[0] > 0 else 0) if len(scores) == 1 else argmax(scores)

    def label_index_batch(self, scores: np.ndarray) -> np.ndarray:
        import numpy as np

        if scores.shape[1] == 1:
            return (scores[:, 0] > 0).astype(np.int64)
        return super().label_index_batch(scores)

    def proba(self, scores: list[float]) -> list[float] | None:
        return None

    def proba_batch(self, scores: np.ndarray) -> np.ndarray | None:
        return None


class Expit(Sign):
    """LogisticRegression: expit for one column, softmax for more."""

    has_proba = True

    def proba(self, scores: list[float]) -> list[float]:
        if len(scores) == 1:
            p = expit(scores[0])
            return [1 - p, p]
        return softmax(scores)

    def proba_batch(self, scores: np.ndarray) -> np.ndarray:
        import numpy as np

        if scores.shape[1] == 1:
            p = expit_batch(scores[:, 0])
            return np.stack([1 - p, p], axis=1)
        return softmax_batch(scores)


class OvrExpit(Expit):
    """SGD ``log_loss``: expit per class, normalised (``_predict_proba_lr``)."""

    def proba(self, scores: list[float]) -> list[float]:
        if len(scores) == 1:
            return super().proba(scores)
        return normalise([expit(s) for s in scores])

    def proba_batch(self, scores: np.ndarray) -> np.ndarray:
        if scores.shape[1] == 1:
            return super().proba_batch(scores)
        return normalise_batch(expit_batch(scores))


class ModifiedHuber(Sign):
    """SGD ``modified_huber``: ``(clip(decision, -1, 1) + 1) / 2``, normalised."""

    has_proba = True

    def proba(self, scores: list[float]) -> list[float]:
        clipped = [(min(max(s, -1.0), 1.0) + 1.0) / 2.0 for s in scores]
        if len(clipped) == 1:
            return [1.0 - clipped[0], clipped[0]]
        return normalise(clipped)

    def proba_batch(self, scores: np.ndarray) -> np.ndarray:
        import numpy as np

        prob = (np.clip(scores, -1, 1) + 1.0) / 2.0
        if scores.shape[1] == 1:
            return np.stack([1.0 - prob[:, 0], prob[:, 0]], axis=1)
        return normalise_batch(prob)


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
