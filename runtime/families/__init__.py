"""The registry of classifier families, shared by name with the exporter.

Adding a family takes one scorer here (a class following ``family.Family``, registered in
``FAMILIES`` by module and class name), one extractor in ``exporter/families.py``
registered under the same name, and their tests.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.families.family import Family, FamilyFactory, Take

# Family name -> (module in runtime/families/, class). Names, not classes: a model uses one
# family, and importing the others' modules (and creating their classes) cost ~1.5 ms of
# every cold start.
FAMILIES: dict[str, tuple[str, str]] = {
    "gaussian_nb": ("naive_bayes", "GaussianNB"),
    "multinomial_nb": ("naive_bayes", "DiscreteNB"),
    "complement_nb": ("naive_bayes", "DiscreteNB"),
    "bernoulli_nb": ("naive_bayes", "DiscreteNB"),
    "logistic_regression": ("linear", "Linear"),
    "linear_svc": ("linear", "Linear"),
    "sgd_classifier": ("linear", "Linear"),
    "ridge_classifier": ("linear", "Linear"),
    "calibrated": ("calibrated", "Calibrated"),
}


def family_class(name: str) -> FamilyFactory:
    """The scorer class registered as ``name`` (KeyError if none), importing its module."""
    module_name, class_name = FAMILIES[name]
    # The import statement's own builtin: with a fromlist it returns the submodule itself,
    # and it spares importing importlib.
    module = __import__(f"{__name__}.{module_name}", fromlist=[class_name])
    factory: FamilyFactory = getattr(module, class_name)
    return factory


def load_family(spec: object, take: Take, n_features: int, n_classes: int) -> Family:
    """The scorer the file's ``classifier`` section names, with its arrays checked."""
    if not isinstance(spec, dict):
        raise ValueError("metadata 'classifier' must be an object")
    name: Any = spec.get("family")
    if not (isinstance(name, str) and name in FAMILIES):
        raise ValueError(f"unknown classifier family {name!r}; known: {sorted(FAMILIES)}")
    return family_class(name)(spec, take, n_features, n_classes)
