"""Every feature chain x classifier x label kind the exporter supports, fitted once each.

The matrix issue 13 asks parity for. Each entry is built from scratch and fitted on a
small synthetic corpus (two or three classes, string or integer labels), then exported
with ``export_pipeline`` (which itself checks parity on the built-in probe set) and
cached, so a combination costs its fit once per test session however many tests use it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any, NamedTuple

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from exporter import export_pipeline
from exporter.errors import UnsupportedModelError
from exporter.normalize import fold, fold_leet
from exporter.train import fit, hashed_char_grams
from runtime.model import Model
from tests.corpus import make_corpus

HASHED_COLUMNS = 2**10  # small, so hashed terms collide as they do at scale

# Each builds an unfitted list of feature steps (the chain before the classifier).
FEATURES: dict[str, Callable[[], list[Any]]] = {
    "tfidf": lambda: [TfidfVectorizer(sublinear_tf=True, max_df=0.5)],
    "count": lambda: [CountVectorizer(ngram_range=(1, 2))],
    "count+tfidf_transformer": lambda: [
        CountVectorizer(strip_accents="unicode"),
        TfidfTransformer(sublinear_tf=True),
    ],
    "hashing_signed_l2": lambda: [HashingVectorizer(n_features=HASHED_COLUMNS)],
    "hashing_signed_l1": lambda: [HashingVectorizer(n_features=HASHED_COLUMNS, norm="l1")],
    "hashing_unsigned_l1": lambda: [
        HashingVectorizer(n_features=HASHED_COLUMNS, alternate_sign=False, norm="l1")
    ],
    "hashing+tfidf_transformer": lambda: [
        HashingVectorizer(n_features=HASHED_COLUMNS, alternate_sign=False, norm=None),
        TfidfTransformer(sublinear_tf=True),
    ],
    "hashing_char_wb_fold_leet+tfidf_transformer": lambda: [  # the sgd_hashing recipe's chain
        hashed_char_grams(HASHED_COLUMNS),
        TfidfTransformer(sublinear_tf=True),
    ],
    "union_fold_leet+char_wb_fold": lambda: [
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), preprocessor=fold_leet)),
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=fold),
                ),
            ]
        )
    ],
    "union_word+char_wb": lambda: [
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2)),
            ]
        )
    ],
}

CLASSIFIERS: dict[str, Callable[[], Any]] = {
    "gaussian_nb": GaussianNB,
    "multinomial_nb": lambda: MultinomialNB(alpha=0.1),
    "complement_nb": lambda: ComplementNB(alpha=0.3),
    "complement_nb_norm": lambda: ComplementNB(alpha=0.3, norm=True),
    "bernoulli_nb_binarize_none": lambda: BernoulliNB(alpha=0.1, binarize=None),
    "bernoulli_nb_binarize_0": lambda: BernoulliNB(alpha=0.1, binarize=0.0),
    "bernoulli_nb_binarize_0.1": lambda: BernoulliNB(alpha=0.1, binarize=0.1),
    "logistic_regression": lambda: LogisticRegression(C=10, max_iter=2000),
    "linear_svc": LinearSVC,
    "sgd_hinge": lambda: SGDClassifier(loss="hinge", random_state=0),
    "sgd_log_loss": lambda: SGDClassifier(loss="log_loss", random_state=0),
    "sgd_modified_huber": lambda: SGDClassifier(loss="modified_huber", random_state=0),
    "ridge": RidgeClassifier,
    "calibrated_svc_sigmoid": lambda: CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3),
    "calibrated_svc_isotonic": lambda: CalibratedClassifierCV(LinearSVC(), method="isotonic", cv=3),
    "calibrated_lr_sigmoid": lambda: CalibratedClassifierCV(
        LogisticRegression(max_iter=2000), method="sigmoid", cv=3
    ),
    "calibrated_lr_isotonic": lambda: CalibratedClassifierCV(
        LogisticRegression(max_iter=2000), method="isotonic", cv=3
    ),
}

PROMO_WORDS = ["sale", "discount", "shop", "deal", "voucher", "store", "half", "price", "50%"]

# Label kinds: the class of each synthetic message, as the classifier is given it.
# Integer labels are deliberately not 0..k-1 in the strings' order.
LABELS: dict[str, dict[str, Any]] = {
    "str2": {"ham": "ham", "spam": "spam"},
    "str3": {"ham": "ham", "spam": "spam", "promo": "promo"},
    "int2": {"ham": 0, "spam": 1},
    "int3": {"ham": 2, "spam": -1, "promo": 5},
}


class Fitted(NamedTuple):
    sklearn: Any  # a fitted Pipeline, or a (features, GaussianNB) pair
    model: Model  # the exported file, loaded by the runtime


class Refused(NamedTuple):
    reason: str  # why this combination cannot be a valid model


# export_pipeline's own check; the parity tests compare far more texts themselves.
EXPORT_CHECK_TEXTS = ["", "free prize now", "see you at lunch", "café 東京 😀 İstanbul"]


def training_set(labels: str) -> tuple[list[str], list[Any]]:
    """The synthetic corpus; with three classes a quarter of it is promotional."""
    texts, names = make_corpus(300)
    mapping = LABELS[labels]
    if "promo" in mapping:
        rng = random.Random(11)
        for i in range(1, len(texts), 4):
            words = [rng.choice(PROMO_WORDS) for _ in range(rng.randint(3, 10))]
            texts[i], names[i] = " ".join(words), "promo"
    return texts, [mapping[name] for name in names]


def build(features: str, classifier: str) -> Any:
    """The model as a user would write it: a Pipeline, or a pair for GaussianNB."""
    steps, clf = FEATURES[features](), CLASSIFIERS[classifier]()
    if isinstance(clf, GaussianNB):
        vectorizer = steps[0] if len(steps) == 1 else make_pipeline(*steps)
        return (vectorizer, clf)
    return Pipeline([*((f"features{i}", s) for i, s in enumerate(steps)), ("classifier", clf)])


@functools.cache
def fitted(features: str, classifier: str, labels: str) -> Fitted | Refused:
    """The fitted model and its export, or why there is none.

    Only two reasons are accepted (``test_families_parity`` pins which combinations
    give them): scikit-learn refuses negative features for MultinomialNB and
    ComplementNB, and BernoulliNB(binarize=None) fits NaN log-probabilities on them,
    which the exporter refuses.
    """
    texts, targets = training_set(labels)
    try:
        model = fit(build(features, classifier), texts, targets)
    except ValueError as exc:
        if "Negative values" not in str(exc):
            raise
        return Refused(f"scikit-learn refuses to fit: {exc}")
    try:
        exported = export_pipeline(model, texts=EXPORT_CHECK_TEXTS)
    except UnsupportedModelError as exc:
        if "NaN or infinite" not in str(exc):
            raise
        return Refused(f"scikit-learn fits NaN parameters; the exporter refuses: {exc}")
    return Fitted(model, exported.model)


def _combinations() -> list[tuple[str, str, str]]:
    """Every feature x classifier, each with a binary and a 3-class label set.

    Alternating (strings, 2 classes) + (integers, 3 classes) with (integers, 2) +
    (strings, 3) gives every pair both class counts and, across the matrix, every
    classifier and every feature chain both label types, at half the fits of all four.
    """
    pairs = [(f, c) for f in FEATURES for c in CLASSIFIERS]
    kinds = [("str2", "int3"), ("int2", "str3")]
    return [(f, c, lab) for i, (f, c) in enumerate(pairs) for lab in kinds[i % 2]]


COMBINATIONS = _combinations()
