"""A parity matrix wider than tests/combinations.py: 66 vectorizer settings x foreign texts.

The main matrix varies the feature chain little and the classifier much; this one varies
the vectorizer's settings (analyzer, n-grams, sublinear tf, norm, idf, binary counts,
lowercasing, hashing signs) under the families whose arithmetic they stress most:
GaussianNB, whose dense sum the runtime reorders (the near ties of foreign texts found
its export bound too tight), MultinomialNB (non-negative features only) and logistic
regression. Texts are foreign to the training corpus: other scripts, mixed vocabularies,
none of the corpus at all. Both runtime paths are compared (tests/reference.py).
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.pipeline import make_pipeline

from exporter import export_pipeline
from exporter.train import fit
from runtime.model import Model
from tests.corpus import HAM_WORDS, SPAM_WORDS, make_corpus
from tests.reference import assert_same_as_sklearn
from tests.texts import TRICKY

pytestmark = pytest.mark.slow

ANALYZERS = {"word": [(1, 1), (1, 2)], "char": [(2, 3), (1, 4)], "char_wb": [(2, 3), (1, 4)]}


def vectorizer_settings() -> dict[str, Any]:
    """Name -> a function building the unfitted vectorizer."""
    settings: dict[str, Any] = {}
    for (analyzer, ngrams), sublinear, norm in itertools.product(
        [(a, n) for a, ns in ANALYZERS.items() for n in ns], [False, True], ["l1", "l2", None]
    ):
        settings[f"tfidf-{analyzer}{ngrams}-sub{sublinear:d}-{norm}"] = functools.partial(
            TfidfVectorizer,
            analyzer=analyzer,
            ngram_range=ngrams,
            sublinear_tf=sublinear,
            norm=norm,
        )
    for analyzer, binary, lowercase in itertools.product(ANALYZERS, [False, True], [False, True]):
        settings[f"count-{analyzer}-bin{binary:d}-lower{lowercase:d}"] = functools.partial(
            CountVectorizer, analyzer=analyzer, binary=binary, lowercase=lowercase
        )
    for analyzer, norm, signed in itertools.product(ANALYZERS, ["l1", "l2", None], [False, True]):
        settings[f"hashing-{analyzer}-{norm}-signed{signed:d}"] = functools.partial(
            HashingVectorizer, analyzer=analyzer, norm=norm, alternate_sign=signed, n_features=2**9
        )
    return settings


SETTINGS = vectorizer_settings()
CLASSIFIERS = {
    "gaussian_nb": GaussianNB,
    "multinomial_nb": lambda: MultinomialNB(alpha=0.1),
    "logistic_regression": lambda: LogisticRegression(max_iter=2000),
}
# Nothing here is in the training corpus's distribution.
FOREIGN = [
    "Привет, как дела? Встретимся завтра",
    "مرحبا كيف حالك اليوم",
    "Γειά σου κόσμε, δωρεάν βραβείο",
    "今日は晴れです、明日は雨でしょう",
    "🎉🎉🎉 🎁 💰💰",
    "https://example.com/win?prize=1&id=42",
    "0800 123 4567 / +44 7700 900123",
    "zzzz qqqq xxxx yyyy",
    "FREE" * 50,
    "a b c d e f g h i j k l m n o p",
    " ".join(SPAM_WORDS[:3] + HAM_WORDS[:3]),  # both classes' words at once: a near tie
    " ".join(reversed(HAM_WORDS)),
    *TRICKY,
]


def test_the_matrix_is_wider_than_the_main_one() -> None:
    from tests.combinations import FEATURES

    assert len(SETTINGS) == 66 > len(FEATURES)


@functools.cache
def exported(setting: str, classifier: str) -> tuple[Any, Model] | None:
    texts, labels = make_corpus(200, seed=5)
    steps = SETTINGS[setting]()
    clf = CLASSIFIERS[classifier]()
    if classifier == "multinomial_nb" and "signed1" in setting:
        return None  # scikit-learn refuses negative features for MultinomialNB
    model = (steps, clf) if classifier == "gaussian_nb" else make_pipeline(steps, clf)
    fit(model, texts, labels)
    return model, export_pipeline(model, texts=FOREIGN).model


@pytest.mark.parametrize("classifier", list(CLASSIFIERS))
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_foreign_texts_score_as_in_sklearn(setting: str, classifier: str) -> None:
    pair = exported(setting, classifier)
    if pair is None:
        pytest.skip("scikit-learn refuses negative features for MultinomialNB")
    reference, model = pair
    assert_same_as_sklearn(model, reference, FOREIGN)
