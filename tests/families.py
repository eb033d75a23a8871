"""One fitted model of every classifier family (and feature kind) on the synthetic corpus.

Shared by the explanation and threshold tests: each entry is a fitted scikit-learn model
(a Pipeline, or the tutorial's (vectorizer, GaussianNB) pair) and its exported runtime
model, so tests compare the runtime with scikit-learn for every family.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from exporter import export_pipeline
from runtime.model import Model
from tests.corpus import make_corpus


def _union() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2))),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=2)),
        ]
    )


def _tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, max_df=0.5)


BUILDERS: dict[str, Callable[[], Any]] = {
    "gaussian_nb": lambda: (_tfidf(), GaussianNB()),
    "multinomial_nb": lambda: make_pipeline(_tfidf(), MultinomialNB(alpha=0.1)),
    "complement_nb": lambda: make_pipeline(CountVectorizer(), ComplementNB()),
    "bernoulli_nb": lambda: make_pipeline(_tfidf(), BernoulliNB(alpha=0.1)),
    "logistic_regression": lambda: make_pipeline(_union(), LogisticRegression(C=10)),
    "linear_svc": lambda: make_pipeline(_tfidf(), LinearSVC()),
    "sgd_hashing": lambda: make_pipeline(
        HashingVectorizer(n_features=2**12, ngram_range=(1, 2)),
        SGDClassifier(loss="modified_huber", random_state=0),
    ),
    "sgd_hashing_tfidf": lambda: make_pipeline(
        HashingVectorizer(n_features=2**10, alternate_sign=False, norm=None),
        TfidfTransformer(),
        SGDClassifier(loss="hinge", random_state=0),
    ),
    "ridge": lambda: make_pipeline(_tfidf(), RidgeClassifier()),
    "calibrated_sigmoid": lambda: make_pipeline(
        _union(), CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3)
    ),
    "calibrated_isotonic": lambda: make_pipeline(
        _tfidf(), CalibratedClassifierCV(LogisticRegression(), method="isotonic", cv=3)
    ),
}
LABELINGS = ("binary", "three_classes", "int_labels")


def labels_for(labeling: str, labels: list[str]) -> list[Any]:
    if labeling == "binary":
        return labels
    if labeling == "int_labels":
        return [1 if label == "spam" else 0 for label in labels]
    # A third class: every third ham message is "friend".
    return ["friend" if label == "ham" and i % 3 == 0 else label for i, label in enumerate(labels)]


def fit(model: Any, texts: list[str], labels: list[Any]) -> Any:
    if isinstance(model, tuple):
        vectorizer, classifier = model
        classifier.fit(vectorizer.fit_transform(texts).toarray(), labels)
        return model
    return model.fit(texts, labels)


@functools.cache
def fitted(name: str, labeling: str = "binary") -> tuple[Any, Model]:
    texts, labels = make_corpus()
    model = fit(BUILDERS[name](), texts, labels_for(labeling, labels))
    return model, export_pipeline(model, texts=texts[:40]).model
