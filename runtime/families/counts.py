"""Discrete naive Bayes from its counts: how each learnable family turns counts into arrays.

A learnable model file (runtime/modelfile.py's optional ``learning`` section) stores
scikit-learn's sufficient statistics (``class_count_``, ``feature_count_``) and settings.
This module is the families' side of it: which families can learn, which settings of
their own they keep beside the shared ones (``alpha``, ``force_alpha``, ``fit_prior``,
``class_prior``), and ``classifier_arrays``: ``_check_alpha``,
``_update_feature_log_prob`` and ``_update_class_log_prior`` of MultinomialNB,
ComplementNB and BernoulliNB (scikit-learn 1.9), then the arrays ``DiscreteNB`` declares,
as exporter/families.py's ``discrete_nb`` writes them. The same NumPy operations on the
same shapes give the same bits.

Only the learner imports this module (it loads NumPy); serving never does.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from runtime.families.naive_bayes import DiscreteNB

ALPHA_LOWER_BOUND = 1e-10  # _BaseDiscreteNB._check_alpha
# Family settings a learning section may hold (null unless the family keeps it).
OWN_SETTINGS = ("norm", "binarize")


class CountRule:
    """One learnable family: its own settings and ``_update_feature_log_prob``."""

    own_settings: ClassVar[tuple[str, ...]] = ()  # of OWN_SETTINGS, those the family keeps

    def check(self, settings: dict[str, Any]) -> str | None:
        """Why ``settings``' own values are wrong for this family, or None."""
        return None

    def feature_log_prob(
        self,
        alpha: float,
        settings: dict[str, Any],
        feature_count: np.ndarray,
        class_count: np.ndarray,
    ) -> np.ndarray:
        smoothed_fc = feature_count + alpha
        smoothed_cc = smoothed_fc.sum(axis=1)
        flp: np.ndarray = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
        return flp

    def weights_offsets(self, flp: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What ``_joint_log_likelihood`` multiplies by and adds: ``DiscreteNB``'s arrays."""
        return flp.T, prior


class MultinomialCounts(CountRule):
    pass


class ComplementCounts(CountRule):
    own_settings = ("norm",)

    def check(self, settings: dict[str, Any]) -> str | None:
        if not isinstance(settings.get("norm"), bool):
            return "learning norm must be a boolean for complement_nb"
        return None

    def feature_log_prob(
        self,
        alpha: float,
        settings: dict[str, Any],
        feature_count: np.ndarray,
        class_count: np.ndarray,
    ) -> np.ndarray:
        feature_all = feature_count.sum(axis=0)
        comp_count = feature_all + alpha - feature_count
        logged = np.log(comp_count / comp_count.sum(axis=1, keepdims=True))
        if settings["norm"]:
            summed = logged.sum(axis=1, keepdims=True)
            result: np.ndarray = logged / summed
            return result
        negated: np.ndarray = -logged
        return negated

    def weights_offsets(self, flp: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return flp.T, np.zeros(flp.shape[0])  # no prior with two or more classes


class BernoulliCounts(CountRule):
    own_settings = ("binarize",)

    def check(self, settings: dict[str, Any]) -> str | None:
        binarize = settings.get("binarize")
        if binarize is not None and not (_is_number(binarize) and 0 <= binarize < math.inf):
            return "learning binarize must be null or a non-negative number for bernoulli_nb"
        return None

    def feature_log_prob(
        self,
        alpha: float,
        settings: dict[str, Any],
        feature_count: np.ndarray,
        class_count: np.ndarray,
    ) -> np.ndarray:
        smoothed_fc = feature_count + alpha
        smoothed_cc = class_count + alpha * 2
        flp: np.ndarray = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
        return flp

    def weights_offsets(self, flp: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        neg_prob = np.log(1 - np.exp(flp))
        return (flp - neg_prob).T, prior + neg_prob.sum(axis=1)


# Family name (runtime/families/__init__.py's FAMILIES) -> its rule: the learnable families.
COUNT_RULES: dict[str, CountRule] = {
    "multinomial_nb": MultinomialCounts(),
    "complement_nb": ComplementCounts(),
    "bernoulli_nb": BernoulliCounts(),
}


def count_rule(family: object) -> CountRule:
    """The rule of a learnable family; ValueError names the learnable ones otherwise."""
    rule = COUNT_RULES.get(family) if isinstance(family, str) else None
    if rule is None:
        text = repr(family)
        brief = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(f"learning family must be one of {tuple(COUNT_RULES)}, got {brief}")
    return rule


def check_settings(settings: dict[str, Any]) -> None:
    """ValueError unless the family's own settings are its and well formed."""
    rule = count_rule(settings.get("family"))
    for key in OWN_SETTINGS:
        if key not in rule.own_settings and settings.get(key) is not None:
            raise ValueError(f"learning {key} must be null for {settings['family']}")
    problem = rule.check(settings)
    if problem:
        raise ValueError(problem)


def check_alpha(settings: dict[str, Any]) -> float:
    alpha = float(settings["alpha"])
    if alpha < ALPHA_LOWER_BOUND and not settings["force_alpha"]:
        return float(np.maximum(alpha, ALPHA_LOWER_BOUND))
    return alpha


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


def feature_log_prob(
    settings: dict[str, Any], feature_count: np.ndarray, class_count: np.ndarray
) -> np.ndarray:
    """``_update_feature_log_prob`` of the settings' family."""
    rule = count_rule(settings["family"])
    return rule.feature_log_prob(check_alpha(settings), settings, feature_count, class_count)


def classifier_arrays(
    settings: dict[str, Any], feature_count: np.ndarray, class_count: np.ndarray
) -> dict[str, np.ndarray]:
    """The arrays ``DiscreteNB`` declares (``classifier.weights``, ``classifier.offsets``),
    recomputed from the counts."""
    rule = count_rule(settings["family"])
    flp = rule.feature_log_prob(check_alpha(settings), settings, feature_count, class_count)
    values = rule.weights_offsets(flp, class_log_prior(settings, class_count))
    return {
        "classifier." + spec.name: np.ascontiguousarray(value, dtype=np.float64)
        for spec, value in zip(DiscreteNB.arrays, values, strict=True)
    }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
