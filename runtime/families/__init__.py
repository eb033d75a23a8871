"""The registry of classifier families, shared by name with the exporter.

Adding a family takes one scorer here (a class following ``family.Family``), one
extractor in ``exporter/families.py`` registered under the same name, and their tests.
"""

from __future__ import annotations

from runtime.families.calibrated import Calibrated
from runtime.families.linear import Linear
from runtime.families.naive_bayes import DiscreteNB, GaussianNB

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.families.family import Family, FamilyFactory, Take

FAMILIES: dict[str, FamilyFactory] = {
    "gaussian_nb": GaussianNB,
    "multinomial_nb": DiscreteNB,
    "complement_nb": DiscreteNB,
    "bernoulli_nb": DiscreteNB,
    "logistic_regression": Linear,
    "linear_svc": Linear,
    "sgd_classifier": Linear,
    "ridge_classifier": Linear,
    "calibrated": Calibrated,
}


def load_family(spec: object, take: Take, n_features: int, n_classes: int) -> Family:
    """The scorer the file's ``classifier`` section names, with its arrays checked."""
    if not isinstance(spec, dict):
        raise ValueError("metadata 'classifier' must be an object")
    name: Any = spec.get("family")
    factory = FAMILIES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ValueError(f"unknown classifier family {name!r}; known: {sorted(FAMILIES)}")
    return factory(spec, take, n_features, n_classes)
