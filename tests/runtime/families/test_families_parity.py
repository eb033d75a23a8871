"""Every feature chain x classifier x label kind predicts exactly as scikit-learn does.

The combinations live in ``tests/combinations.py``; ``tests/reference.py`` says what
"exactly" means and checks both runtime paths (plain Python and NumPy) each time.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exporter.families import supported
from exporter.pipeline import sklearn_outputs, split_pipeline
from runtime.families import FAMILIES
from tests.combinations import CLASSIFIERS, COMBINATIONS, FEATURES, Fitted, Refused, fitted
from tests.reference import PROBA_ATOL, assert_same_as_sklearn
from tests.texts import TRICKY, texts_lists

SCORE_METHODS = ("decision_function", "predict_joint_log_proba", "predict_proba")
# scikit-learn refuses (or fits NaN for) these on HashingVectorizer's signed columns.
NEEDS_NON_NEGATIVE = {
    "multinomial_nb",
    "complement_nb",
    "complement_nb_norm",
    "bernoulli_nb_binarize_none",
}

combination = pytest.mark.parametrize(
    ("features", "classifier", "labels"), COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS]
)
# The fast loop (-m "not slow") checks every classifier on the first feature chain; the
# full run, every chain.
FAST_FEATURES = next(iter(dict.fromkeys(f for f, _, _ in COMBINATIONS)))
combination_fast_first = pytest.mark.parametrize(
    ("features", "classifier", "labels"),
    [
        pytest.param(*c, marks=() if c[0] == FAST_FEATURES else pytest.mark.slow)
        for c in COMBINATIONS
    ],
    ids=["-".join(c) for c in COMBINATIONS],
)
few_examples = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
many_examples = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def refusal_expected(features: str, classifier: str) -> bool:
    return features.startswith("hashing_signed") and classifier in NEEDS_NON_NEGATIVE


def fitted_or_skip(features: str, classifier: str, labels: str) -> Fitted:
    """The fitted combination; skipped only if it is one scikit-learn cannot fit validly."""
    result = fitted(features, classifier, labels)
    if isinstance(result, Refused):
        assert refusal_expected(features, classifier), result.reason
        pytest.skip(result.reason)
    return result


@pytest.mark.parametrize(
    ("features", "classifier", "labels"),
    [c for c in COMBINATIONS if refusal_expected(c[0], c[1])],
)
def test_invalid_combinations_are_refused(features: str, classifier: str, labels: str) -> None:
    assert isinstance(fitted(features, classifier, labels), Refused)


def test_every_registered_family_has_an_extractor_and_a_line_in_the_matrix() -> None:
    """The registry (runtime.families.FAMILIES) is the one list: nothing else to keep in step."""
    table = supported()  # raises if a registered runtime class has no @extracts extractor
    assert sorted(entry.name for entry in table.values()) == sorted(FAMILIES)
    assert {type(make()) for make in CLASSIFIERS.values()} == set(table)


def test_the_matrix_covers_every_feature_classifier_and_label_kind() -> None:
    assert {(f, c) for f, c, _ in COMBINATIONS} == {(f, c) for f in FEATURES for c in CLASSIFIERS}
    for name in CLASSIFIERS:
        kinds = {labels for _, c, labels in COMBINATIONS if c == name}
        assert kinds == {"str2", "str3", "int2", "int3"}, name
    for f, c in {(f, c) for f, c, _ in COMBINATIONS}:
        counts = {labels[-1] for g, d, labels in COMBINATIONS if (g, d) == (f, c)}
        assert counts == {"2", "3"}, (f, c)


@combination_fast_first
def test_tricky_texts(features: str, classifier: str, labels: str) -> None:
    reference, model = fitted_or_skip(features, classifier, labels)
    assert_same_as_sklearn(model, reference, TRICKY)


@combination_fast_first
def test_methods_and_answers_are_sklearns(features: str, classifier: str, labels: str) -> None:
    """The Model has exactly the fitted classifier's methods; classify() reports them."""
    reference, model = fitted_or_skip(features, classifier, labels)
    _, clf = split_pipeline(reference)
    for method in SCORE_METHODS:
        assert hasattr(model, method) == hasattr(clf, method), method
    _, outputs, predicted = sklearn_outputs(reference, TRICKY)
    answers = model.classify(TRICKY)
    assert [a["label"] for a in answers] == predicted
    assert all(type(a["label"]) is type(p) for a, p in zip(answers, predicted, strict=True))
    classes = clf.classes_.tolist()
    if "predict_proba" in outputs:
        got = [[a["probabilities"][c] for c in classes] for a in answers]
        np.testing.assert_allclose(got, outputs["predict_proba"], rtol=0, atol=_atol(model))
    elif len(classes) == 2:
        assert [a["score"] for a in answers] == outputs["decision_function"].tolist()
    else:
        got = [[a["scores"][c] for c in classes] for a in answers]
        assert got == outputs["decision_function"].tolist()


def _atol(model) -> float:
    if model.family_name != "gaussian_nb":
        return PROBA_ATOL
    jll = model.predict_joint_log_proba(TRICKY)
    return max(PROBA_ATOL, 4e-12 * float(np.abs(jll).max()))


@pytest.mark.slow  # 340 combinations x hypothesis; the fast loop keeps the fixed texts above
@combination
@few_examples
@given(texts=texts_lists)
def test_arbitrary_texts(features: str, classifier: str, labels: str, texts: list[str]) -> None:
    reference, model = fitted_or_skip(features, classifier, labels)
    assert_same_as_sklearn(model, reference, texts)


@pytest.mark.slow
@pytest.mark.parametrize("classifier", list(CLASSIFIERS))
@many_examples
@given(data=st.data())
def test_arbitrary_texts_more_examples(classifier: str, data: st.DataObject) -> None:
    """More examples per classifier; hypothesis picks the feature chain and label kind."""
    choices = [c for c in COMBINATIONS if c[1] == classifier]
    result = fitted(*data.draw(st.sampled_from(choices), label="combination"))
    assume(isinstance(result, Fitted))  # the invalid ones are pinned above
    reference, model = result
    assert_same_as_sklearn(model, reference, data.draw(texts_lists, label="texts"))


@pytest.mark.parametrize(
    ("features", "classifier", "labels"),
    [
        pytest.param(*c, marks=() if c[0] == FAST_FEATURES else pytest.mark.slow)
        for c in COMBINATIONS
        if c[1].endswith("_isotonic")
    ],
)
def test_isotonic_probabilities_are_bit_exact(features: str, classifier: str, labels: str) -> None:
    """No exp or log on this path (np.interp, a division, a mean): nothing may differ.

    tests/reference.py allows 1e-12 for probabilities in general, as exp's last bit
    may differ between libm and NumPy's SIMD code; calibrated isotonic has no excuse.
    """
    reference, model = fitted_or_skip(features, classifier, labels)
    _, outputs, _ = sklearn_outputs(reference, TRICKY)
    for vectorise in (False, True):
        got = model.predict_proba(TRICKY, vectorise=vectorise)
        np.testing.assert_array_equal(got, outputs["predict_proba"])
