"""The tutorial's recipe, fitted with scikit-learn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB

from exporter.dataset import Dataset

TUTORIAL_VECTORIZER_PARAMS: dict[str, Any] = {"sublinear_tf": True, "max_df": 0.5}


@dataclass(frozen=True)
class TrainingConfig:
    test_size: float = 0.1
    random_state: int = 42
    vectorizer_params: dict[str, Any] = field(
        default_factory=lambda: dict(TUTORIAL_VECTORIZER_PARAMS)
    )


@dataclass(frozen=True)
class TrainedModel:
    vectorizer: TfidfVectorizer
    classifier: GaussianNB
    test_texts: list[str]
    test_labels: list[str]
    n_train: int


def train(dataset: Dataset, config: TrainingConfig) -> TrainedModel:
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        dataset.texts,
        dataset.labels,
        test_size=config.test_size,
        random_state=config.random_state,
    )
    vectorizer = TfidfVectorizer(**config.vectorizer_params)
    features = vectorizer.fit_transform(train_texts)
    # GaussianNB needs dense input; this is the tutorial's choice, kept for parity.
    classifier = GaussianNB().fit(features.toarray(), np.asarray(train_labels))
    return TrainedModel(
        vectorizer=vectorizer,
        classifier=classifier,
        test_texts=list(test_texts),
        test_labels=list(test_labels),
        n_train=len(train_texts),
    )
