"""A small, deterministic SMS-like corpus so most tests need no dataset file."""

from __future__ import annotations

import random

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import GaussianNB

from exporter.extract import ModelParts, extract

SPAM_WORDS = [
    "free",
    "prize",
    "winner",
    "claim",
    "cash",
    "urgent",
    "txt",
    "reply",
    "call",
    "now",
    "won",
    "award",
    "mobile",
    "offer",
]
HAM_WORDS = [
    "see",
    "you",
    "at",
    "lunch",
    "tomorrow",
    "ok",
    "home",
    "later",
    "love",
    "thanks",
    "dinner",
    "going",
    "where",
    "are",
    "u",
]
SHARED_WORDS = [
    "the",
    "a",
    "to",
    "and",
    "is",
    "it",
    "for",
    "on",
    "this",
    "that",
    "with",
    "me",
    "my",
    "your",
]
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


def fit_parts(**vectorizer_params) -> tuple[TfidfVectorizer, GaussianNB, ModelParts]:
    texts, labels = make_corpus()
    vectorizer = TfidfVectorizer(**vectorizer_params)
    classifier = GaussianNB().fit(vectorizer.fit_transform(texts).toarray(), labels)
    return vectorizer, classifier, extract(vectorizer, classifier)
