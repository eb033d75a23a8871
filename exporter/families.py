"""Read a fitted classifier into the arrays its runtime family scores with ("read").

The registry is ``runtime.families.FAMILIES``: it names, per family, the scikit-learn
class and the runtime class. Here is one extractor per runtime class (``@extracts``),
whose arrays are checked against that class's declared schema (``arrays``) before
anything is written.
Whatever can be computed at export is computed here, with the very NumPy expressions
scikit-learn evaluates at predict time (Bernoulli's ``neg_prob``, GaussianNB's
per-class constants), so the runtime only replays a sparse product.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC

from exporter.errors import UnsupportedModelError
from runtime.families import FAMILIES, family_class
from runtime.families.calibrated import ISOTONIC, SIGMOID, Calibrated
from runtime.families.family import ArraySpec, Family, LinearScores
from runtime.families.linear import Linear
from runtime.families.naive_bayes import DiscreteNB
from runtime.families.naive_bayes import GaussianNB as GaussianNBFamily


class ClassifierParts(NamedTuple):
    spec: dict[str, Any]  # the model file's ``classifier`` section
    arrays: dict[str, np.ndarray]


Extractor = Callable[[Any, str], ClassifierParts]
_EXTRACTORS: dict[type[Family], Extractor] = {}


def extracts(family: type[Family]) -> Callable[[Extractor], Extractor]:
    """Register the decorated function as the extractor for the runtime class ``family``."""

    def register(extractor: Extractor) -> Extractor:
        _EXTRACTORS[family] = extractor
        return extractor

    return register


def _f8(array: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=np.float64))


@extracts(GaussianNBFamily)
def gaussian_nb(clf: GaussianNB, family: str) -> ClassifierParts:
    theta, var = _f8(clf.theta_), _f8(clf.var_)
    n_classes = theta.shape[0]
    # GaussianNB._joint_log_likelihood's own expressions, class by class.
    log_prior = [np.log(clf.class_prior_[i]) for i in range(n_classes)]
    log_norm = [-0.5 * np.sum(np.log(2.0 * np.pi * var[i, :])) for i in range(n_classes)]
    zero_term = theta**2 / var  # each feature's share of the empty document's distance
    values = (theta, var, log_prior, log_norm, np.sum(zero_term, axis=1))
    return ClassifierParts(
        {"family": family, "var_smoothing": float(clf.var_smoothing)},
        _declared(GaussianNBFamily.arrays, values),
    )


@extracts(DiscreteNB)
def discrete_nb(clf: Any, family: str) -> ClassifierParts:
    flp = _f8(clf.feature_log_prob_)
    spec: dict[str, Any] = {"family": family, "alpha": _plain(clf.alpha)}
    if isinstance(clf, BernoulliNB):
        neg_prob = np.log(1 - np.exp(clf.feature_log_prob_))
        weights = (clf.feature_log_prob_ - neg_prob).T
        offsets = clf.class_log_prior_ + neg_prob.sum(axis=1)
        spec["binarize"] = None if clf.binarize is None else float(clf.binarize)
    elif isinstance(clf, ComplementNB):
        weights, offsets = flp.T, np.zeros(flp.shape[0])  # no prior with two or more classes
        spec["norm"] = bool(clf.norm)
    else:
        weights, offsets = flp.T, clf.class_log_prior_
    return ClassifierParts(spec, _declared(LinearScores.declared(), (weights, offsets)))


def _declared(specs: tuple[ArraySpec, ...], values: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """The arrays under the names the runtime class declares, as contiguous float64."""
    return {"classifier." + s.name: _f8(v) for s, v in zip(specs, values, strict=True)}


def _linear_arrays(clf: Any, member: str = "") -> dict[str, np.ndarray]:
    if sp.issparse(clf.coef_):
        raise UnsupportedModelError(
            f"{type(clf).__name__}: a sparsified coef_ is summed in another order; "
            "call densify() before exporting"
        )
    coef = _f8(clf.coef_)
    if coef.ndim == 1:
        coef = coef[np.newaxis, :]
    offsets = np.broadcast_to(_f8(clf.intercept_), (coef.shape[0],))
    return _declared(LinearScores.declared(member), (coef.T, offsets))


@extracts(Linear)
def linear(clf: Any, family: str) -> ClassifierParts:
    proba = None
    if isinstance(clf, LogisticRegression):
        proba = "logistic"
    elif isinstance(clf, SGDClassifier):
        proba = {"log_loss": "ovr_logistic", "modified_huber": "modified_huber"}.get(clf.loss)
    spec: dict[str, Any] = {"family": family, "proba": proba}
    if isinstance(clf, SGDClassifier):
        spec["loss"] = clf.loss
    return ClassifierParts(spec, _linear_arrays(clf))


@extracts(Calibrated)
def calibrated(clf: CalibratedClassifierCV, family: str) -> ClassifierParts:
    classes = clf.classes_
    n_classes = len(classes)
    members, arrays = [], {}
    for index, member in enumerate(clf.calibrated_classifiers_):
        estimator = member.estimator
        if type(estimator) not in LINEAR:
            raise UnsupportedModelError(
                "CalibratedClassifierCV: the estimator must be one of "
                f"{sorted(c.__name__ for c in LINEAR)}, got {type(estimator).__name__}"
            )
        if member.method not in ("sigmoid", "isotonic"):
            raise UnsupportedModelError(
                f"CalibratedClassifierCV: method must be 'sigmoid' or 'isotonic', "
                f"got {member.method!r}"
            )
        member_arrays = _linear_arrays(estimator, f"{index}.")
        n_outputs = next(iter(member_arrays.values())).shape[1]  # the weights
        arrays.update(member_arrays)
        # _CalibratedClassifier.predict_proba: zip(pos_class_indices, columns, calibrators).
        targets = LabelEncoder().fit(member.classes).transform(estimator.classes_).tolist()
        targets = [t + 1 if n_classes == 2 else t for t in targets]
        targets = targets[: min(len(targets), n_outputs, len(member.calibrators))]
        if member.method == "sigmoid":
            ab = [[float(c.a_), float(c.b_)] for c in member.calibrators[: len(targets)]]
            arrays.update(_declared((SIGMOID.named(f"{index}."),), (ab,)))
        else:
            for c, calibrator in enumerate(member.calibrators[: len(targets)]):
                specs = tuple(spec.named(f"{index}.", c) for spec in ISOTONIC)
                values = (
                    calibrator.X_thresholds_,
                    calibrator.y_thresholds_,
                    [calibrator.X_min_, calibrator.X_max_],
                )
                arrays.update(_declared(specs, values))
        members.append({"targets": targets, "n_outputs": n_outputs})
    method = clf.calibrated_classifiers_[0].method
    spec = {"family": family, "method": method, "estimators": members}
    return ClassifierParts(spec, arrays)


def _plain(value: Any) -> Any:
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array.astype(float).tolist()


LINEAR = (LogisticRegression, LinearSVC, SGDClassifier, RidgeClassifier)


class Supported(NamedTuple):
    name: str  # the family's name in the model file
    family: type[Family]  # the runtime class that scores it
    extractor: Extractor


@cache
def supported() -> dict[type, Supported]:
    """scikit-learn class -> its family, from the registry. Exact types: a subclass may
    override predict in ways the runtime would not reproduce."""
    table = {}
    for name, (_, _, sklearn_path) in FAMILIES.items():
        module, _, class_name = sklearn_path.rpartition(".")
        family = family_class(name)
        table[getattr(importlib.import_module(module), class_name)] = Supported(
            name, family, _EXTRACTORS[family]
        )
    return table


def family_of(classifier: Any) -> Supported:
    """The family that reproduces ``classifier``; UnsupportedModelError if none does."""
    entry = supported().get(type(classifier))
    if entry is None:
        names = ", ".join(sorted(c.__name__ for c in supported()))
        raise UnsupportedModelError(
            f"classifier {type(classifier).__name__} is not supported; supported: {names}"
        )
    return entry


def extract_classifier(clf: Any) -> ClassifierParts:
    entry = family_of(clf)
    if not hasattr(clf, "classes_"):
        raise UnsupportedModelError(f"{type(clf).__name__} is not fitted")
    parts = entry.extractor(clf, entry.name)
    check_schema(entry.family, parts.arrays)
    for name, array in parts.arrays.items():
        if not np.isfinite(array).all():
            raise UnsupportedModelError(
                f"{type(clf).__name__}: the fitted parameters in {name} are NaN or infinite, "
                "so scikit-learn's own predictions are undefined (BernoulliNB(binarize=None) "
                "on negative features, for example); refit on non-negative features"
            )
    return parts


def check_schema(family: type[Family], arrays: dict[str, np.ndarray]) -> None:
    """Every array an extractor wrote is one its runtime class declares, with its dtype and
    number of dimensions (the runtime checks the sizes when the file is loaded)."""
    patterns = [(re.compile(_pattern(spec.name)), spec) for spec in family.arrays]
    for name, array in arrays.items():
        spec = next((s for pattern, s in patterns if pattern.fullmatch(name)), None)
        if spec is None:
            raise AssertionError(f"{family.__name__} declares no array {name!r}")
        if array.dtype != np.dtype(spec.dtype) or array.ndim != len(spec.shape):
            raise AssertionError(
                f"{name}: {array.dtype} with {array.ndim} dimensions, "
                f"{family.__name__} declares {spec.dtype} {spec.shape}"
            )


def _pattern(name: str) -> str:
    """A declared name (under ``classifier.``) with its placeholders as patterns."""
    escaped = re.escape("classifier." + name)
    return escaped.replace(re.escape("{member}"), r"\d+\.").replace(re.escape("{target}"), r"\d+")
