"""Read a fitted classifier into the arrays its runtime family scores with ("read").

One extractor per family, registered under the family's name in ``runtime.families``.
Whatever can be computed at export is computed here, with the very NumPy expressions
scikit-learn evaluates at predict time (Bernoulli's ``neg_prob``, GaussianNB's
per-class constants), so the runtime only replays a sparse product.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC

from exporter.features import UnsupportedModelError
from runtime.families import FAMILIES


class ClassifierParts(NamedTuple):
    spec: dict[str, Any]  # the model file's ``classifier`` section
    arrays: dict[str, np.ndarray]


Extractor = Callable[[Any, str], ClassifierParts]


def _f8(array: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=np.float64))


def gaussian_nb(clf: GaussianNB, family: str) -> ClassifierParts:
    theta, var = _f8(clf.theta_), _f8(clf.var_)
    n_classes = theta.shape[0]
    # GaussianNB._joint_log_likelihood's own expressions, class by class.
    log_prior = [np.log(clf.class_prior_[i]) for i in range(n_classes)]
    log_norm = [-0.5 * np.sum(np.log(2.0 * np.pi * var[i, :])) for i in range(n_classes)]
    zero_term = theta**2 / var  # each feature's share of the empty document's distance
    return ClassifierParts(
        {"family": family, "var_smoothing": float(clf.var_smoothing)},
        {
            "classifier.theta": theta,
            "classifier.var": var,
            "classifier.log_prior": _f8(log_prior),
            "classifier.log_norm": _f8(log_norm),
            "classifier.zero_doc_distance": _f8(np.sum(zero_term, axis=1)),
        },
    )


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
    return ClassifierParts(
        spec, {"classifier.weights": _f8(weights), "classifier.offsets": _f8(offsets)}
    )


def _linear_arrays(clf: Any, prefix: str) -> dict[str, np.ndarray]:
    if sp.issparse(clf.coef_):
        raise UnsupportedModelError(
            f"{type(clf).__name__}: a sparsified coef_ is summed in another order; "
            "call densify() before exporting"
        )
    coef = _f8(clf.coef_)
    if coef.ndim == 1:
        coef = coef[np.newaxis, :]
    offsets = np.broadcast_to(_f8(clf.intercept_), (coef.shape[0],))
    return {f"{prefix}weights": _f8(coef.T), f"{prefix}offsets": _f8(offsets)}


def linear(clf: Any, family: str) -> ClassifierParts:
    proba = None
    if isinstance(clf, LogisticRegression):
        proba = "logistic"
    elif isinstance(clf, SGDClassifier):
        proba = {"log_loss": "ovr_logistic", "modified_huber": "modified_huber"}.get(clf.loss)
    spec: dict[str, Any] = {"family": family, "proba": proba}
    if isinstance(clf, SGDClassifier):
        spec["loss"] = clf.loss
    return ClassifierParts(spec, _linear_arrays(clf, "classifier."))


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
        prefix = f"classifier.{index}."
        arrays.update(_linear_arrays(estimator, prefix))
        n_outputs = arrays[f"{prefix}weights"].shape[1]
        # _CalibratedClassifier.predict_proba: zip(pos_class_indices, columns, calibrators).
        targets = LabelEncoder().fit(member.classes).transform(estimator.classes_).tolist()
        targets = [t + 1 if n_classes == 2 else t for t in targets]
        targets = targets[: min(len(targets), n_outputs, len(member.calibrators))]
        if member.method == "sigmoid":
            arrays[f"{prefix}sigmoid"] = _f8(
                [[float(c.a_), float(c.b_)] for c in member.calibrators[: len(targets)]]
            )
        else:
            for c, calibrator in enumerate(member.calibrators[: len(targets)]):
                arrays[f"{prefix}{c}.x"] = _f8(calibrator.X_thresholds_)
                arrays[f"{prefix}{c}.y"] = _f8(calibrator.y_thresholds_)
                arrays[f"{prefix}{c}.bounds"] = _f8([calibrator.X_min_, calibrator.X_max_])
        members.append({"targets": targets, "n_outputs": n_outputs})
    method = clf.calibrated_classifiers_[0].method
    spec = {"family": family, "method": method, "estimators": members}
    return ClassifierParts(spec, arrays)


def _plain(value: Any) -> Any:
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array.astype(float).tolist()


LINEAR = (LogisticRegression, LinearSVC, SGDClassifier, RidgeClassifier)

# scikit-learn class -> (runtime family name, extractor). Exact types: a subclass may
# override predict in ways the runtime would not reproduce.
EXTRACTORS: dict[type, tuple[str, Extractor]] = {
    GaussianNB: ("gaussian_nb", gaussian_nb),
    MultinomialNB: ("multinomial_nb", discrete_nb),
    ComplementNB: ("complement_nb", discrete_nb),
    BernoulliNB: ("bernoulli_nb", discrete_nb),
    LogisticRegression: ("logistic_regression", linear),
    LinearSVC: ("linear_svc", linear),
    SGDClassifier: ("sgd_classifier", linear),
    RidgeClassifier: ("ridge_classifier", linear),
    CalibratedClassifierCV: ("calibrated", calibrated),
}
assert {name for name, _ in EXTRACTORS.values()} == set(FAMILIES)


def extract_classifier(clf: Any) -> ClassifierParts:
    entry = EXTRACTORS.get(type(clf))
    if entry is None:
        supported = ", ".join(sorted(c.__name__ for c in EXTRACTORS))
        raise UnsupportedModelError(
            f"classifier {type(clf).__name__} is not supported; supported: {supported}"
        )
    if not hasattr(clf, "classes_"):
        raise UnsupportedModelError(f"{type(clf).__name__} is not fitted")
    family, extractor = entry
    parts = extractor(clf, family)
    for name, array in parts.arrays.items():
        if not np.isfinite(array).all():
            raise UnsupportedModelError(
                f"{type(clf).__name__}: the fitted parameters in {name} are NaN or infinite, "
                "so scikit-learn's own predictions are undefined (BernoulliNB(binarize=None) "
                "on negative features, for example); refit on non-negative features"
            )
    return parts
