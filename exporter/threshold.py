"""Pick a decision threshold so that at most a given share of ham is flagged as spam.

The threshold is chosen on the training split only, by cross-validation: each training
message is scored by a model fitted on the other folds (``StratifiedKFold``), and the
threshold is the lowest cut that flags at most ``max_ham_flagged`` of those held-out ham
scores. The test split never takes part, so the report's test metrics at the threshold
are an honest estimate. Which score is cut is defined once, in ``runtime/decision.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from exporter.families import family_of
from exporter.pipeline import sklearn_outputs, split_pipeline
from exporter.train import fit
from runtime.decision import THRESHOLD_KEY
from runtime.families.family import Family

DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class ThresholdChoice:
    score: str  # runtime/decision.py's name of the score the threshold cuts
    value: float
    positive: str | int
    max_ham_flagged: float
    cv_ham_flagged: float  # share of held-out training ham above the threshold
    cv_recall: float  # share of held-out training spam above it
    folds: int

    def metadata(self) -> dict[str, Any]:
        """The model file's ``decision_threshold`` section (checked by the runtime)."""
        return {
            THRESHOLD_KEY: {
                "score": self.score,
                "value": self.value,
                "positive": self.positive,
                "max_ham_flagged": self.max_ham_flagged,
            }
        }


def family_class_of(model: Any) -> type[Family]:
    """The runtime family that scores the model's classifier (its declarations)."""
    _, classifier = split_pipeline(model)
    return family_of(classifier).family


def decision_scores(fitted: Any, texts: Sequence[str]) -> np.ndarray:
    """The binary decision score (runtime/decision.py) of a fitted model, per text."""
    family = family_class_of(fitted)
    _, outputs, _ = sklearn_outputs(fitted, texts)
    return np.asarray(family.binary_score_batch(outputs[family.score_method]), dtype=np.float64)


def out_of_fold_scores(
    unfitted: Any,
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    folds: int = DEFAULT_FOLDS,
    random_state: int = 42,
) -> np.ndarray:
    """Each text's score from a model that did not see it (``cross_val_predict``'s way)."""
    texts, labels = list(texts), list(labels)
    scores = np.empty(len(texts))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train, held_out in splitter.split(texts, labels):
        model = (
            tuple(clone(step) for step in unfitted)
            if isinstance(unfitted, tuple)
            else clone(unfitted)
        )
        fit(model, [texts[i] for i in train], [labels[i] for i in train])
        scores[held_out] = decision_scores(model, [texts[i] for i in held_out])
    return scores


def lowest_threshold(negative_scores: np.ndarray, max_rate: float) -> float:
    """The lowest cut with at most ``max_rate`` of ``negative_scores`` strictly above it."""
    if not 0.0 <= max_rate < 1.0:
        raise ValueError(f"--max-ham-flagged must be a rate from 0 to below 1, got {max_rate}")
    ordered = np.sort(negative_scores)[::-1]
    allowed = math.floor(max_rate * len(ordered) + 1e-9)
    cut = float(ordered[allowed])
    if not math.isfinite(cut):
        raise ValueError("the held-out scores are not finite; no threshold can be chosen")
    return cut


def choose_threshold(
    unfitted: Any,
    texts: Sequence[str],
    labels: Sequence[Any],
    max_ham_flagged: float,
    *,
    folds: int = DEFAULT_FOLDS,
    random_state: int = 42,
) -> ThresholdChoice:
    """The threshold for ``max_ham_flagged``, chosen on these (training) texts only."""
    classes = sorted(set(labels))
    if len(classes) != 2:
        raise ValueError(f"--max-ham-flagged needs two classes, the data has {len(classes)}")
    positive = classes[1]
    scores = out_of_fold_scores(unfitted, texts, labels, folds=folds, random_state=random_state)
    is_positive = np.array([label == positive for label in labels])
    cut = lowest_threshold(scores[~is_positive], max_ham_flagged)
    return ThresholdChoice(
        score=family_class_of(unfitted).score_name,
        value=cut,
        positive=positive,
        max_ham_flagged=max_ham_flagged,
        cv_ham_flagged=float(np.mean(scores[~is_positive] > cut)),
        cv_recall=float(np.mean(scores[is_positive] > cut)),
        folds=folds,
    )


def labels_at(scores: np.ndarray, threshold: float, classes: Sequence[Any]) -> list[Any]:
    """The labels a threshold gives: ``classes[1]`` strictly above it."""
    return [classes[1] if s > threshold else classes[0] for s in scores.tolist()]
