"""``CalibratedClassifierCV`` over a linear classifier (``sigmoid`` or ``isotonic``).

Each of the fitted ``calibrated_classifiers_`` is a linear model whose decision values
go through one calibrator per output (Platt's sigmoid ``expit(-(a * T + b))``, or the
isotonic step function, which scikit-learn evaluates with ``np.interp``); their class
probabilities are normalised and averaged, and the label is the most probable class.
The decision values are replayed exactly; the calibration and averaging run in plain
Python on both paths (a few operations per message), in scikit-learn's order, so both
paths give the same probabilities and labels.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable

from runtime.families.common import expit
from runtime.families.family import (
    ArraySpec,
    Contributions,
    Family,
    LinearScores,
    Link,
    n_outputs_for,
    take_declared,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take
    from runtime.features import Rows

METHODS = ("sigmoid", "isotonic")
# Per member (``{member}`` is ``0.``, ``1.``, ...): its linear layer, then its calibrators'
# parameters, Platt's (a, b) per target, or each target's isotonic thresholds.
SIGMOID = ArraySpec("{member}sigmoid", ("n_targets", 2))
ISOTONIC_X = ArraySpec("{member}{target}.x", (-1,))
ISOTONIC_Y = ArraySpec("{member}{target}.y", ("n_thresholds",))
ISOTONIC_BOUNDS = ArraySpec("{member}{target}.bounds", (2,))
ISOTONIC = (ISOTONIC_X, ISOTONIC_Y, ISOTONIC_BOUNDS)


MAX_ESTIMATORS = 20
MAX_THRESHOLDS = 100_000


def sigmoid_calibrator(a: float, b: float) -> Callable[[float], float]:
    return lambda t: expit(-(a * t + b))


def isotonic_calibrator(
    xs: list[float], ys: list[float], low: float, high: float
) -> Callable[[float], float]:
    """``IsotonicRegression(out_of_bounds="clip").predict``: clip, then ``np.interp``."""
    if len(xs) == 1:
        constant = ys[0]
        return lambda t: constant
    last = len(xs) - 1

    def predict(t: float) -> float:
        t = min(max(t, low), high)  # np.clip
        j = bisect_right(xs, t) - 1  # the last threshold <= t, as np.interp searches
        if j < 0:
            return ys[0]
        if j >= last or xs[j] == t:
            return ys[min(j, last)]
        slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        value = slope * (t - xs[j]) + ys[j]
        if math.isnan(value):  # np.interp retries from the right end of the interval
            value = slope * (t - xs[j + 1]) + ys[j + 1]
            if math.isnan(value) and ys[j] == ys[j + 1]:
                value = ys[j]
        return value

    return predict


class _Member:
    """One calibrated classifier: its linear model, calibrators and their target classes."""

    def __init__(
        self, spec: Any, index: int, method: str, take: Take, n_features: int, n_classes: int
    ) -> None:
        if not isinstance(spec, dict):
            raise ValueError("each calibrated estimator must be an object")
        targets = spec.get("targets")
        n_outputs = spec.get("n_outputs")
        if not (isinstance(n_outputs, int) and 1 <= n_outputs <= n_classes):
            raise ValueError("calibrated estimator n_outputs must be 1 to n_classes")
        if not (
            isinstance(targets, list)
            and 1 <= len(targets) <= n_outputs
            and all(isinstance(t, int) and 0 <= t < n_classes for t in targets)
        ):
            raise ValueError("calibrated estimator targets must be class indices")
        member = f"{index}."
        self.linear = LinearScores(take, n_features, n_outputs, member)
        self.targets: list[int] = targets
        self.calibrators: list[Callable[[float], float]] = []
        sizes = {"n_targets": len(targets)}
        if method == "sigmoid":
            ab = take_declared(take, SIGMOID.named(member), sizes).tolist()
            self.calibrators = [
                sigmoid_calibrator(ab[2 * i], ab[2 * i + 1]) for i in range(len(targets))
            ]
        else:
            for c in range(len(targets)):
                x, y, bounds = (spec.named(member, c) for spec in ISOTONIC)
                xs: list[float] = list(take_declared(take, x, sizes))
                ys: list[float] = list(take_declared(take, y, {"n_thresholds": len(xs)}))
                low, high = take_declared(take, bounds, sizes).tolist()
                if not (1 <= len(xs) <= MAX_THRESHOLDS) or xs != sorted(xs):
                    raise ValueError("isotonic thresholds must be 1 to 100,000 ascending values")
                self.calibrators.append(isotonic_calibrator(xs, ys, low, high))

    def proba(self, decision: list[float], n_classes: int) -> list[float]:
        """``_CalibratedClassifier.predict_proba`` for one row."""
        proba = [0.0] * n_classes
        for target, value, calibrate in zip(self.targets, decision, self.calibrators, strict=False):
            proba[target] = calibrate(value)
        if n_classes == 2:
            proba[0] = 1.0 - proba[1]
        else:
            total = 0.0
            for p in proba:
                total += p
            proba = [p / total for p in proba] if total != 0 else [1 / n_classes] * n_classes
        return [1.0 if 1.0 < p <= 1.0 + 1e-5 else p for p in proba]


class Calibrated(Family):
    """The mean of the members' calibrated probabilities; scores are those probabilities."""

    score_method = "predict_proba"
    score_name = "probability"
    default_cut = 0.5
    cut_range = (0.0, 1.0)
    binary_columns = (1, None)
    explained = "mean_decision_function"
    link = Link()  # the scores are the members' mean calibrated probabilities
    arrays = (*LinearScores.declared("{member}"), SIGMOID, *ISOTONIC)

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        method, members = spec.get("method"), spec.get("estimators")
        if method not in METHODS:
            raise ValueError(f"classifier.method must be one of {METHODS}")
        if not (isinstance(members, list) and 1 <= len(members) <= MAX_ESTIMATORS):
            raise ValueError(f"classifier.estimators must list 1 to {MAX_ESTIMATORS} models")
        self.n_classes = self.n_score_columns = n_classes
        self._members = [
            _Member(member, i, method, take, n_features, n_classes)
            for i, member in enumerate(members)
        ]

    def _mean(self, decisions: list[list[float]]) -> list[float]:
        mean = [0.0] * self.n_classes
        for member, decision in zip(self._members, decisions, strict=True):
            for k, p in enumerate(member.proba(decision, self.n_classes)):
                mean[k] += p
        count = len(self._members)
        return [m / count for m in mean]

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        return self._mean([member.linear.one(columns, values) for member in self._members])

    def scores_batch(self, rows: Rows) -> np.ndarray:
        import numpy as np

        per_member = [member.linear.batch(rows).tolist() for member in self._members]
        means = [self._mean(list(decisions)) for decisions in zip(*per_member, strict=True)]
        return np.array(means, dtype=np.float64).reshape(len(means), self.n_classes)

    # What ``explain`` takes apart: the members' decision values (linear in the terms),
    # averaged per class. The probabilities are each member's calibrator applied to its
    # own value, then averaged: monotone in it, but not a sum over terms.

    def _routes(self) -> list[list[tuple[int, int]]]:
        """Per member: (its decision column, the output it counts towards)."""
        binary = self.n_classes == 2
        return [
            [
                (column, 0 if binary else target)
                for column, target in enumerate(member.targets)
                if column < member.linear.n_outputs and (target == 1 or not binary)
            ]
            for member in self._members
        ]

    def decision_outputs(self, columns: list[int], values: list[float]) -> list[float]:
        totals = [0.0] * n_outputs_for(self.n_classes)
        for member, routes in zip(self._members, self._routes(), strict=True):
            decision = member.linear.one(columns, values)
            for column, output in routes:
                totals[output] += decision[column]
        count = len(self._members)
        return [t / count for t in totals]

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        n_outputs, count = n_outputs_for(self.n_classes), len(self._members)
        base = [0.0] * n_outputs
        per_term = [[0.0] * n_outputs for _ in columns]
        for member, routes in zip(self._members, self._routes(), strict=True):
            parts = member.linear.contributions(columns, values)
            for column, output in routes:
                base[output] += parts.base[column] / count
                for shares, own in zip(per_term, parts.per_term, strict=True):
                    shares[output] += own[column] / count
        return Contributions(base, list(columns), per_term)
