"""The models issue 20's bounds are measured on, built from synthetic text (no dataset).

- ``sgd_hashing``: the recipe of that name (hashed char_wb 1-4 grams, no vocabulary),
  whose explanations once kept every distinct term of a message;
- ``thousand_classes``: TF-IDF over 3,000 terms and MultinomialNB with 1,000 classes,
  a legitimate model whose answers are 1,000 numbers per text.
"""

from __future__ import annotations

import random
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from exporter import export_pipeline
from exporter.train import RECIPES
from tests.corpus import make_corpus

N_CLASSES = 1000
N_TERMS = 3000


def made_up_words(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct lowercase words of 5 to 9 letters."""
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(5, 9))))
    return sorted(words)


def thousand_class_corpus(seed: int = 3) -> tuple[list[str], list[str]]:
    """Three texts per class, each of its own three words and a few shared ones."""
    rng = random.Random(seed)
    vocabulary = made_up_words(rng, N_TERMS)
    texts, labels = [], []
    for k in range(N_CLASSES):
        own = vocabulary[3 * k : 3 * k + 3]
        for _ in range(3):
            words = own * 2 + rng.choices(vocabulary, k=4)
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(f"class{k:04d}")
    return texts, labels


def write_thousand_class_model(path: Path) -> Path:
    texts, labels = thousand_class_corpus()
    pipeline = make_pipeline(TfidfVectorizer(max_features=N_TERMS), MultinomialNB(alpha=0.1))
    pipeline.fit(texts, labels)
    export_pipeline(pipeline, path, texts=texts[:50])
    return path


def write_sgd_hashing_model(path: Path) -> Path:
    texts, labels = make_corpus()
    pipeline = RECIPES["sgd_hashing"].build({}).fit(texts, labels)
    export_pipeline(pipeline, path, texts=texts)
    return path
