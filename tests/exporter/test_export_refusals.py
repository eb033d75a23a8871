"""What the runtime cannot reproduce exactly is refused before anything is written.

Each refusal is an ``UnsupportedModelError`` that names the step (the scikit-learn
class, or the FeatureUnion member) and the option, so the user knows what to change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import SVC, LinearSVC

from exporter import export_pipeline
from exporter.errors import UnsupportedModelError
from exporter.features import check_vectorizer
from runtime.analyzer import MAX_NGRAM
from tests.corpus import make_corpus

TEXTS, LABELS = make_corpus(120)


def fitted(*steps: Any) -> Pipeline:
    return make_pipeline(*steps).fit(TEXTS, LABELS)


def refused(model: Any, tmp_path: Path, *words: str) -> str:
    """Export must refuse, write nothing, and name every one of ``words``."""
    target = tmp_path / "model.npz"
    with pytest.raises(UnsupportedModelError) as info:
        export_pipeline(model, target)
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    return message


@pytest.mark.filterwarnings("ignore:The parameter 'token_pattern' will not be used")
@pytest.mark.parametrize(
    ("option", "setting"),
    [
        ("preprocessor", {"preprocessor": str.upper}),
        ("tokenizer", {"tokenizer": str.split}),
        ("analyzer", {"analyzer": str.split}),
        ("strip_accents", {"strip_accents": lambda s: s}),
        ("dtype", {"dtype": np.float32}),
        ("token_pattern", {"token_pattern": r"(a+)+b|\w+"}),
        ("ngram_range", {"ngram_range": (1, MAX_NGRAM + 1)}),
    ],
)
def test_vectorizer_setting_is_refused_by_name(option: str, setting: dict, tmp_path) -> None:
    model = fitted(TfidfVectorizer(**setting), MultinomialNB())
    refused(model, tmp_path, "TfidfVectorizer", option)


def test_token_pattern_none_is_refused() -> None:
    """scikit-learn cannot even fit it without a tokenizer; the CLI checks it unfitted."""
    with pytest.raises(UnsupportedModelError, match=r"TfidfVectorizer: .*token_pattern"):
        check_vectorizer(TfidfVectorizer(token_pattern=None))


def test_input_filename_is_refused(tmp_path) -> None:
    files = []
    for i, text in enumerate(TEXTS):
        files.append(tmp_path / f"{i}.txt")
        files[-1].write_text(text, encoding="utf-8")
    model = make_pipeline(CountVectorizer(input="filename"), MultinomialNB())
    model.fit([str(f) for f in files], LABELS)
    out = tmp_path / "out"
    out.mkdir()
    refused(model, out, "CountVectorizer", "input", "'filename'")


def test_every_problem_of_a_vectorizer_is_named_at_once(tmp_path) -> None:
    model = fitted(TfidfVectorizer(dtype=np.float32, ngram_range=(1, 20)), MultinomialNB())
    refused(model, tmp_path, "dtype", "ngram_range")


@pytest.mark.parametrize("classifier", [SVC(), KNeighborsClassifier()])
def test_unsupported_classifier_is_refused(classifier: Any, tmp_path) -> None:
    message = refused(fitted(TfidfVectorizer(), classifier), tmp_path, type(classifier).__name__)
    assert "MultinomialNB" in message  # and says what is supported


@pytest.mark.parametrize("step", [TruncatedSVD(n_components=5), Normalizer()])
def test_a_step_that_is_not_a_vectorizer_is_refused(step: Any, tmp_path) -> None:
    model = fitted(CountVectorizer(), step, LogisticRegression())
    refused(model, tmp_path, type(step).__name__, "CountVectorizer")


def test_a_pipeline_starting_elsewhere_is_refused(tmp_path) -> None:
    model = make_pipeline(Normalizer(), LogisticRegression())
    refused(model, tmp_path, "Normalizer", "TfidfVectorizer")


def test_transformer_weights_are_refused(tmp_path) -> None:
    union = FeatureUnion(
        [("words", TfidfVectorizer()), ("chars", TfidfVectorizer(analyzer="char_wb"))],
        transformer_weights={"words": 2.0, "chars": 1.0},
    )
    refused(fitted(union, LinearSVC()), tmp_path, "FeatureUnion", "transformer_weights")


def test_a_feature_union_member_is_checked_like_a_pipeline(tmp_path) -> None:
    union = FeatureUnion(
        [("words", TfidfVectorizer()), ("chars", TfidfVectorizer(dtype=np.float32))]
    )
    refused(fitted(union, LinearSVC()), tmp_path, "chars", "TfidfVectorizer", "dtype")


def test_signed_hashing_then_sublinear_tf_is_refused(tmp_path) -> None:
    """scikit-learn takes the log of negative counts (NaN), so no classifier fits on it;
    the steps are fitted apart, as a user who swapped in the transformer would have."""
    hashing = HashingVectorizer(n_features=2**10, norm=None)
    counts = hashing.transform(TEXTS)
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
    classifier = SGDClassifier(random_state=0).fit(counts, LABELS)
    model = make_pipeline(hashing, transformer, classifier)
    refused(model, tmp_path, "TfidfTransformer", "sublinear_tf", "alternate_sign")


def test_calibration_method_temperature_is_refused(tmp_path) -> None:
    clf = CalibratedClassifierCV(LinearSVC(), method="temperature", cv=3)
    refused(fitted(TfidfVectorizer(), clf), tmp_path, "CalibratedClassifierCV", "temperature")


def test_calibration_over_a_non_linear_estimator_is_refused(tmp_path) -> None:
    clf = CalibratedClassifierCV(MultinomialNB(), cv=3)
    refused(fitted(TfidfVectorizer(), clf), tmp_path, "CalibratedClassifierCV", "MultinomialNB")


def test_sparsified_coef_is_refused(tmp_path) -> None:
    model = fitted(TfidfVectorizer(), LogisticRegression())
    model[-1].sparsify()
    refused(model, tmp_path, "LogisticRegression", "coef_", "densify")


def test_float_class_labels_are_refused(tmp_path) -> None:
    vectorizer = TfidfVectorizer()
    features = vectorizer.fit_transform(TEXTS).toarray()
    classifier = GaussianNB().fit(features, [float(label == "spam") for label in LABELS])
    refused((vectorizer, classifier), tmp_path, "GaussianNB", "class labels", "float64")


def test_non_finite_parameters_are_refused(tmp_path) -> None:
    """BernoulliNB(binarize=None) on signed hashed counts fits NaN log-probabilities."""
    with np.errstate(invalid="ignore", divide="ignore"):
        model = fitted(HashingVectorizer(n_features=2**8), BernoulliNB(binarize=None))
    refused(model, tmp_path, "BernoulliNB", "NaN")


@pytest.mark.parametrize(
    ("model", "unfitted"),
    [
        (make_pipeline(TfidfVectorizer(), MultinomialNB()), "TfidfVectorizer"),
        (make_pipeline(HashingVectorizer(), SGDClassifier()), "SGDClassifier"),
        ((TfidfVectorizer().fit(TEXTS), GaussianNB()), "GaussianNB"),
    ],
    ids=["vectorizer", "classifier-after-hashing", "pair"],
)
def test_an_unfitted_model_is_refused(model: Any, unfitted: str, tmp_path) -> None:
    refused(model, tmp_path, unfitted, "not fitted")


def test_passthrough_step_is_refused(tmp_path) -> None:
    model = Pipeline(
        [("words", TfidfVectorizer()), ("nothing", "passthrough"), ("clf", MultinomialNB())]
    ).fit(TEXTS, LABELS)
    refused(model, tmp_path, "passthrough")


def test_something_that_is_no_model_is_refused(tmp_path) -> None:
    message = refused(MultinomialNB(), tmp_path, "Pipeline", "MultinomialNB")
    assert re.search(r"\(vectorizer, classifier\) pair", message)
