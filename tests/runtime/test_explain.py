"""``Model.explain``: every family's parts add up to its decision value, scikit-learn's own.

The contract (runtime/explain.py): ``baseline + sum(contributions) + others == value``
to 1e-12 relative (to the class scores it is a difference of), and ``value`` is the
decision scikit-learn computes for the fitted model (the joint log-likelihood
difference, the decision function, or the calibrated members' mean decision function),
for every family, binary and multi-class, on arbitrary texts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from exporter.pipeline import split_pipeline
from runtime.api import explain_options
from runtime.explain import DEFAULT_TOP, MAX_TOP
from tests.corpus import HAM_WORDS, SPAM_EXAMPLE, SPAM_WORDS, UNICODE_WORDS
from tests.families import BUILDERS, LABELINGS, fitted

RTOL = 1e-12

words = st.sampled_from(SPAM_WORDS + HAM_WORDS + UNICODE_WORDS + ["the", "zzz", "qqq"])
word_texts = st.lists(
    st.tuples(words, st.sampled_from(["", " ", "!", ", ", "\n", "  "])), max_size=25
).map(lambda items: "".join(w + sep for w, sep in items))
texts_strategy = st.one_of(word_texts, st.text(max_size=120))
family_cases = pytest.mark.parametrize(
    ("name", "labeling"),
    [(name, labeling) for name in BUILDERS for labeling in LABELINGS],
)


def sklearn_decision(fitted_model, text: str, positive: int, negative: int, n_outputs: int):
    """The decision value computed by scikit-learn itself, independently of the runtime."""
    steps, classifier = split_pipeline(fitted_model)
    features = [text]
    for step in steps:
        features = step.transform(features)
    if hasattr(classifier, "calibrated_classifiers_"):
        members = classifier.calibrated_classifiers_
        n_classes = len(classifier.classes_)
        totals = np.zeros(n_classes)
        for member in members:
            decision = np.atleast_1d(member.estimator.decision_function(features)[0])
            if n_classes == 2:  # one column, that of the second class
                totals[1] += decision[0]
                continue
            for column, target in enumerate(member.estimator.classes_):
                totals[list(classifier.classes_).index(target)] += decision[column]
        totals /= len(members)
        value = totals[1] if n_classes == 2 else totals[positive] - totals[negative]
        return value, np.abs(totals).max()
    if hasattr(classifier, "predict_joint_log_proba"):
        dense = features.toarray() if hasattr(classifier, "var_") else features
        jll = classifier.predict_joint_log_proba(dense)[0]
        return jll[positive] - jll[negative], np.abs(jll).max()
    decision = np.atleast_1d(classifier.decision_function(features)[0])
    if n_outputs == 1:
        return decision[0], abs(decision[0])
    return decision[positive] - decision[negative], np.abs(decision).max()


def check_explanation(name: str, labeling: str, text: str) -> None:
    fitted_model, model = fitted(name, labeling)
    [explanation] = model.explain([text], top=MAX_TOP)
    classes = list(model.classes)
    positive = classes.index(explanation["positive"])
    negative = classes.index(explanation["negative"])
    n_outputs = (
        1 if explanation["explained"] in ("decision_function", "mean_decision_function") else 2
    )
    value = explanation["decision"]

    want, magnitude = sklearn_decision(fitted_model, text, positive, negative, n_outputs)
    # Relative to the class scores the value is a difference of: GaussianNB's are ~1e10
    # and a margin of 30 between two of them is only known to ~1e-6 (scikit-learn's own
    # dense sum is as exact, see README "Parity"); for one decision column it is |value|.
    scale = max(abs(value), magnitude, 1e-300)
    parts = [explanation["baseline"], explanation["others"]]
    parts += [term["contribution"] for term in explanation["terms"]]
    total = math.fsum(parts)
    assert abs(total - value) <= RTOL * scale, (total, value)
    assert abs(value - want) <= RTOL * max(scale, 1.0), (value, want)

    assert explanation["label"] == model.predict([text])[0]
    if len(classes) == 2:
        assert (explanation["positive"], explanation["negative"]) == (classes[1], classes[0])
    else:
        assert explanation["positive"] == explanation["label"]
        assert explanation["negative"] != explanation["label"]


@family_cases
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts_strategy)
def test_contributions_sum_to_the_decision_value(name: str, labeling: str, text: str) -> None:
    check_explanation(name, labeling, text)


@family_cases
def test_fixed_texts(name: str, labeling: str) -> None:
    for text in ("", SPAM_EXAMPLE, "free " * 300, "café naïve 東京 😀 free"):
        check_explanation(name, labeling, text)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_terms_are_the_real_terms(name: str) -> None:
    fitted_model, model = fitted(name)
    [explanation] = model.explain([SPAM_EXAMPLE], top=MAX_TOP)
    steps, _ = split_pipeline(fitted_model)
    contributions = [abs(term["contribution"]) for term in explanation["terms"]]
    assert contributions == sorted(contributions, reverse=True)
    assert explanation["n_terms"] >= len(explanation["terms"]) > 0
    first = steps[0]
    blocks = (
        [b for _, b in first.transformer_list] if hasattr(first, "transformer_list") else [first]
    )
    for term in explanation["terms"]:
        block = blocks[term["block"]]
        assert term["terms"], term
        if isinstance(block, HashingVectorizer):
            analyze = block.build_analyzer()
            assert set(term["terms"]) <= set(analyze(SPAM_EXAMPLE))
            # They all hash to one column (FeatureHasher: |murmurhash3_32| mod n_features).
            columns = {
                abs(murmurhash3_32(word, positive=False)) % block.n_features
                for word in term["terms"]
            }
            assert len(columns) == 1
        else:
            [word] = term["terms"]
            assert word in block.vocabulary_


def test_top_keeps_the_sum() -> None:
    _, model = fitted("logistic_regression")
    [full] = model.explain([SPAM_EXAMPLE], top=MAX_TOP)
    [short] = model.explain([SPAM_EXAMPLE], top=2)
    assert short["terms"] == full["terms"][:2]
    rest = math.fsum(t["contribution"] for t in full["terms"][2:]) + full["others"]
    assert abs(short["others"] - rest) <= 1e-12 * max(abs(rest), 1.0)
    assert short["decision"] == full["decision"]


def test_feature_union_names_the_block() -> None:
    _, model = fitted("logistic_regression")
    [explanation] = model.explain(["free prize"], top=MAX_TOP)
    assert {term["block"] for term in explanation["terms"]} == {0, 1}


@pytest.mark.parametrize("top", [0, -1, MAX_TOP + 1, 10**9, True, 2.0, "3", None])
def test_top_is_bounded(top: object) -> None:
    _, model = fitted("multinomial_nb")
    with pytest.raises(ValueError, match=f"top must be an integer from 1 to {MAX_TOP}"):
        model.explain(["free"], top=top)  # type: ignore[arg-type]


def test_gaussian_nb_explains_the_tutorial_s_certainty() -> None:
    """Probabilities are 0 or 1; the log-likelihood difference still ranks the terms."""
    _, model = fitted("gaussian_nb")
    [prediction] = model.classify([SPAM_EXAMPLE])
    assert prediction["probabilities"]["spam"] == 1.0
    [explanation] = model.explain([SPAM_EXAMPLE], top=3)
    assert explanation["explained"] == "joint_log_likelihood_difference"
    assert explanation["decision"] > 0
    assert explanation["terms"][0]["contribution"] > 0


@pytest.mark.parametrize(
    ("document", "options"),
    [
        ({"text": "x"}, (False, DEFAULT_TOP)),
        ({"text": "x", "explain": False}, (False, DEFAULT_TOP)),
        ({"texts": ["x"], "explain": True}, (True, DEFAULT_TOP)),
        ({"text": "x", "explain": True, "top": 1}, (True, 1)),
        ({"text": "x", "explain": True, "top": MAX_TOP}, (True, MAX_TOP)),
    ],
)
def test_explain_request_fields(document: dict, options: tuple[bool, int]) -> None:
    assert explain_options(document) == options


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"explain": "yes"}, "\"explain\" must be true or false, got 'yes'"),
        ({"explain": 1}, '"explain" must be true or false'),
        ({"explain": None}, '"explain" must be true or false'),
        ({"explain": True, "top": 10**9}, f'"top" must be an integer from 1 to {MAX_TOP}'),
        ({"explain": True, "top": 0}, '"top" must be an integer'),
        ({"explain": True, "top": 2.5}, '"top" must be an integer'),
        ({"explain": True, "top": True}, '"top" must be an integer'),
        ({"explain": True, "top": "3"}, '"top" must be an integer'),
        ({"top": 3}, '"top" applies only with "explain": true'),
        ({"explain": False, "top": 3}, '"top" applies only with "explain": true'),
    ],
)
def test_bad_explain_request_fields_are_named(document: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        explain_options({"text": "x", **document})
