"""A small, deterministic SMS-like corpus so most tests need no dataset file."""

from __future__ import annotations

import random
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import GaussianNB

from exporter import export_pipeline
from exporter.probe import HAM_WORDS, SHARED_WORDS, SPAM_WORDS

__all__ = ["HAM_WORDS", "SHARED_WORDS", "SPAM_WORDS"]

UNICODE_WORDS = ["café", "naïve", "Straße", "İstanbul", "東京", "😀", "résumé", "ﬁle", "Ωmega"]

SPAM_EXAMPLE = "WINNER!! claim your free prize now, txt CLAIM to 80082"
HAM_EXAMPLE = "see you at lunch tomorrow, love"


def make_corpus(n: int = 300, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = "spam" if i % 4 == 0 else "ham"
        own = SPAM_WORDS if label == "spam" else HAM_WORDS
        words = [rng.choice(own) for _ in range(rng.randint(3, 12))]
        words += [rng.choice(SHARED_WORDS) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.3:
            words.append(rng.choice(UNICODE_WORDS))
        rng.shuffle(words)
        text = " ".join(w.upper() if rng.random() < 0.1 else w for w in words)
        if label == "spam" and rng.random() < 0.5:
            text += f" {rng.randint(10000, 99999)}!"
        texts.append(text)
        labels.append(label)
    return texts, labels


def fit_tutorial(**vectorizer_params: Any) -> tuple[TfidfVectorizer, GaussianNB]:
    """The tutorial's (vectorizer, GaussianNB) pair fitted on the synthetic corpus."""
    texts, labels = make_corpus()
    vectorizer = TfidfVectorizer(**vectorizer_params)
    classifier = GaussianNB().fit(vectorizer.fit_transform(texts).toarray(), labels)
    return vectorizer, classifier


def tutorial_model_bytes(**vectorizer_params: Any) -> bytes:
    """A real model file of the tutorial's recipe, checked against scikit-learn on export."""
    texts, _ = make_corpus()
    return export_pipeline(fit_tutorial(**vectorizer_params), texts=texts).data
