"""The learnable section of a model file, read from a fitted discrete naive Bayes.

What scikit-learn's ``partial_fit`` needs besides the new rows: the counts
(``class_count_``, ``feature_count_``) and the settings that turn counts into the
classifier's arrays. The golden set (labelled held-out messages) lets the learner's gate
score a learned model against the serving one. GaussianNB is not learnable here: its
``partial_fit`` recomputes ``epsilon_`` from the new batch's variance alone, so it is not
a function of sufficient statistics stored once (see docs/learning.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exporter.errors import ExportParityError, UnsupportedModelError
from exporter.families import family_of
from runtime.families import FAMILIES
from runtime.families.counts import COUNT_RULES, OWN_SETTINGS
from runtime.modelfile import (
    LEARNING,
    LEARNING_CLASS_COUNT,
    LEARNING_FEATURE_COUNT,
    LEARNING_FEATURE_INDEX,
    LEARNING_GOLDEN,
    LEARNING_SCHEMA,
    encode_golden,
)


def learning_section(
    classifier: Any, golden: tuple[Sequence[str], Sequence[Any]] | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata ``learning`` section, arrays) of a fitted discrete naive Bayes classifier."""
    family = family_of(classifier).name
    rule = COUNT_RULES.get(family)
    if rule is None:
        names = [FAMILIES[name][2].rpartition(".")[2] for name in COUNT_RULES]
        raise UnsupportedModelError(
            f"learnable models need {', '.join(names[:-1])} or {names[-1]}, "
            f"got {type(classifier).__name__}"
        )
    alpha = np.asarray(classifier.alpha)
    if alpha.ndim != 0:
        raise UnsupportedModelError(f"{type(classifier).__name__}: a learnable alpha is one number")
    prior = classifier.class_prior
    section: dict[str, Any] = {
        "schema": LEARNING_SCHEMA,
        "family": family,
        "alpha": float(alpha),
        "force_alpha": bool(classifier.force_alpha),
        "fit_prior": bool(classifier.fit_prior),
        "class_prior": None if prior is None else np.asarray(prior, dtype=float).tolist(),
    }
    for key in OWN_SETTINGS:  # the family's own settings, as scikit-learn holds them
        section[key] = _setting(getattr(classifier, key)) if key in rule.own_settings else None
    flat = np.ascontiguousarray(classifier.feature_count_, dtype=np.float64).ravel()
    nonzero = np.flatnonzero(flat)
    arrays = {
        LEARNING_CLASS_COUNT: np.ascontiguousarray(classifier.class_count_, dtype=np.float64),
        LEARNING_FEATURE_INDEX: nonzero.astype(np.float64),
        LEARNING_FEATURE_COUNT: flat[nonzero],
    }
    if golden is not None:
        texts, labels = golden
        classes = classifier.classes_.tolist()
        pairs = [(_plain(label), str(text)) for text, label in zip(texts, labels, strict=True)]
        if any(label not in classes for label, _ in pairs):
            raise UnsupportedModelError("golden set labels must be the classifier's classes")
        blob = encode_golden(pairs)
        arrays[LEARNING_GOLDEN] = np.frombuffer(blob, dtype=np.uint8)
    return {LEARNING: section}, arrays


def _setting(value: Any) -> bool | float | None:
    if value is None or isinstance(value, bool | np.bool_):
        return None if value is None else bool(value)
    return float(value)


def _plain(label: Any) -> str | int:
    plain: str | int = label.item() if isinstance(label, np.generic) else label
    return plain


def check_relearnable(data: bytes) -> None:
    """The runtime's learner, given no reports, must rebuild this very file, byte for byte.

    That proves it derives the classifier's arrays from the stored counts exactly as
    scikit-learn did, so a forgotten report leaves no trace.
    """
    from runtime.learning.relearn import LearnableModel

    rebuilt = LearnableModel.from_bytes(data).relearn([]).data
    if rebuilt != data:
        raise ExportParityError(
            "the runtime's learner does not rebuild the classifier's arrays from the counts "
            "bit for bit; not learnable"
        )
