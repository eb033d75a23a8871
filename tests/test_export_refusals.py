"""Settings the runtime cannot reproduce are refused at export time, naming the option."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.naive_bayes import GaussianNB, MultinomialNB

from exporter.extract import UnsupportedModelError, extract
from tests.corpus import make_corpus

UNSUPPORTED = {
    "preprocessor": {"preprocessor": str.upper},
    "tokenizer": {"tokenizer": str.split},
    "analyzer": {"analyzer": str.split},
    "strip_accents": {"strip_accents": lambda s: s},
    "dtype": {"dtype": np.float32},
}


def fit(vectorizer, classifier=None):
    texts, labels = make_corpus(120)
    classifier = classifier or GaussianNB()
    features = vectorizer.fit_transform(texts)
    return vectorizer, classifier.fit(features.toarray(), labels)


@pytest.mark.filterwarnings("ignore:The parameter 'token_pattern' will not be used")
@pytest.mark.parametrize("option", sorted(UNSUPPORTED))
def test_unsupported_vectorizer_setting_is_refused(option: str) -> None:
    vectorizer, classifier = fit(TfidfVectorizer(**UNSUPPORTED[option]))
    with pytest.raises(UnsupportedModelError, match=option):
        extract(vectorizer, classifier)


def test_other_classifier_is_refused() -> None:
    vectorizer, classifier = fit(TfidfVectorizer(), MultinomialNB())
    with pytest.raises(UnsupportedModelError, match="GaussianNB"):
        extract(vectorizer, classifier)


def test_plain_count_vectorizer_is_refused() -> None:
    vectorizer, classifier = fit(CountVectorizer())
    with pytest.raises(UnsupportedModelError, match="TfidfVectorizer"):
        extract(vectorizer, classifier)


def test_non_string_labels_are_refused() -> None:
    texts, labels = make_corpus(120)
    vectorizer = TfidfVectorizer()
    classifier = GaussianNB().fit(
        vectorizer.fit_transform(texts).toarray(), [int(x == "spam") for x in labels]
    )
    with pytest.raises(UnsupportedModelError, match="strings"):
        extract(vectorizer, classifier)
