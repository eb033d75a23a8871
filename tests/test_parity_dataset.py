"""The runtime against scikit-learn on every message of the real SMS Spam Collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.dataset import load_dataset
from exporter.emit import render_model
from exporter.extract import extract
from exporter.train import TrainedModel, TrainingConfig, train
from runtime.model import Model
from tests.reference import assert_same_as_sklearn


@pytest.fixture(scope="module")
def trained(full_dataset_path: Path) -> tuple[TrainedModel, Model, list[str]]:
    dataset = load_dataset(full_dataset_path)
    trained = train(dataset, TrainingConfig())
    parts = extract(trained.vectorizer, trained.classifier)
    return trained, Model.from_bytes(render_model(parts, {})), dataset.texts


def test_every_message_matches_sklearn(trained) -> None:
    fitted, model, texts = trained
    assert len(texts) == 5572
    assert_same_as_sklearn(model, fitted.vectorizer, fitted.classifier, texts)


def test_tutorial_accuracy_is_reproduced(trained) -> None:
    fitted, model, _ = trained
    predicted = model.predict(fitted.test_texts)
    correct = sum(p == t for p, t in zip(predicted, fitted.test_labels, strict=True))
    assert (correct, len(fitted.test_labels)) == (504, 558)
    assert correct / len(fitted.test_labels) == 0.9032258064516129
