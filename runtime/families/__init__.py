"""The one registry of classifier families, shared by the runtime and the exporter.

A row names the family (as the model file's ``classifier.family`` does), the runtime
module and class that score it, and the scikit-learn class it reproduces. Everything
else a family is lives in its class's declarations (``runtime/families/family.py``).
Adding a family: its module here, its row, its extractor (``exporter/families.py``,
registered for the class) and its line in the tests' matrix.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.families.family import Family, Take

# Family name -> (module in runtime/families/, class, scikit-learn class). Names, not
# classes: a model uses one family, and importing the others' modules (and creating
# their classes) cost ~1.5 ms of every cold start.
FAMILIES: dict[str, tuple[str, str, str]] = {
    "gaussian_nb": ("naive_bayes", "GaussianNB", "sklearn.naive_bayes.GaussianNB"),
    "multinomial_nb": ("naive_bayes", "DiscreteNB", "sklearn.naive_bayes.MultinomialNB"),
    "complement_nb": ("naive_bayes", "DiscreteNB", "sklearn.naive_bayes.ComplementNB"),
    "bernoulli_nb": ("naive_bayes", "DiscreteNB", "sklearn.naive_bayes.BernoulliNB"),
    "logistic_regression": ("linear", "Linear", "sklearn.linear_model.LogisticRegression"),
    "linear_svc": ("linear", "Linear", "sklearn.svm.LinearSVC"),
    "sgd_classifier": ("linear", "Linear", "sklearn.linear_model.SGDClassifier"),
    "ridge_classifier": ("linear", "Linear", "sklearn.linear_model.RidgeClassifier"),
    "calibrated": ("calibrated", "Calibrated", "sklearn.calibration.CalibratedClassifierCV"),
}


def family_class(name: str) -> type[Family]:
    """The scorer class registered as ``name`` (KeyError if none), importing its module."""
    module_name, class_name, _ = FAMILIES[name]
    # The import statement's own builtin: with a fromlist it returns the submodule itself,
    # and it spares importing importlib.
    module = __import__(f"{__name__}.{module_name}", fromlist=[class_name])
    family: type[Family] = getattr(module, class_name)
    return family


def load_family(spec: object, take: Take, n_features: int, n_classes: int) -> Family:
    """The scorer the file's ``classifier`` section names, with its arrays checked."""
    if not isinstance(spec, dict):
        raise ValueError("metadata 'classifier' must be an object")
    name: Any = spec.get("family")
    if not (isinstance(name, str) and name in FAMILIES):
        raise ValueError(f"unknown classifier family {name!r}; known: {sorted(FAMILIES)}")
    return family_class(name)(spec, take, n_features, n_classes)
