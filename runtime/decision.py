"""The one number a binary model decides with, and the operator's threshold on it.

Every family scores a binary message with a value that is positive-is-``classes[1]``
once compared with a default cut. Each family declares which (``score_name``,
``binary_columns``, ``default_cut``, ``cut_range``: runtime/families/family.py):

| family (score_method)                    | score                                   | default |
|------------------------------------------|-----------------------------------------|---------|
| naive Bayes (predict_joint_log_proba)    | ``jll[classes[1]] - jll[classes[0]]``   | 0       |
| linear (decision_function)               | ``decision_function``                   | 0       |
| calibrated (predict_proba)               | ``P(classes[1])``                       | 0.5     |

Naive Bayes uses the log-likelihood difference rather than its probability: GaussianNB
on TF-IDF gives probabilities of exactly 0 or 1, whose threshold could not be tuned,
while the difference keeps every message's rank. Linear models use the decision value
because not all have probabilities and SGD's ``modified_huber`` ones are clipped.
The label is ``classes[1]`` when the score is strictly above the threshold, which with
the default threshold is exactly scikit-learn's ``predict``.

The exporter picks a threshold (``exporter/threshold.py``) and stores it in the model
file's metadata under ``THRESHOLD_KEY``, covered by the content checksum; the runtime
checks it at load with ``parse_threshold``.
"""

from __future__ import annotations

import math

from runtime.errors import short as _short
from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.families.family import Family

THRESHOLD_KEY = "decision_threshold"


class Threshold(NamedTuple):
    score: str  # the family's ``score_name``: which number the threshold cuts
    value: float
    positive: str | int  # the label given above the threshold: classes[1]
    max_ham_flagged: float | None  # the rate it was chosen for, when the exporter chose it

    def as_json(self) -> dict[str, Any]:
        return dict(self._asdict())


def parse_threshold(
    value: object, classes: tuple[str | int, ...], family: Family
) -> Threshold | None:
    """The stored threshold, checked against the model it sits in; ValueError says why."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"metadata {THRESHOLD_KEY!r} must be an object")
    if len(classes) != 2:
        raise ValueError(f"{THRESHOLD_KEY} applies to two-class models only")
    expected = family.score_name
    if value.get("score") != expected:
        raise ValueError(
            f"{THRESHOLD_KEY}.score must be {expected!r} for this model, "
            f"got {_short(value.get('score'))}"
        )
    cut = _finite_number(value.get("value"))
    if cut is None:
        raise ValueError(f"{THRESHOLD_KEY}.value must be a finite number")
    try:
        family.check_cut(cut)
    except ValueError as exc:
        raise ValueError(f"{THRESHOLD_KEY}.value {exc}") from None
    if value.get("positive") != classes[1]:
        raise ValueError(
            f"{THRESHOLD_KEY}.positive must be the second class {classes[1]!r}, "
            f"got {_short(value.get('positive'))}"
        )
    rate = value.get("max_ham_flagged")
    if rate is not None and not (
        isinstance(rate, int | float) and not isinstance(rate, bool) and 0.0 <= rate <= 1.0
    ):
        raise ValueError(f"{THRESHOLD_KEY}.max_ham_flagged must be a rate from 0 to 1 or null")
    unknown = sorted(set(value) - set(Threshold._fields))
    if unknown:
        raise ValueError(f"{THRESHOLD_KEY} has unknown keys {unknown}")
    return Threshold(expected, cut, classes[1], None if rate is None else float(rate))


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past the float range
        return None
    return number if math.isfinite(number) else None
