"""Every built-in recipe, trained on the real collection, matches scikit-learn on all
5,572 messages: feature rows, scores and labels, on the plain and the batch path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter import export_pipeline
from exporter.dataset import Dataset, load_dataset
from exporter.report import evaluate
from exporter.train import RECIPES, TrainingConfig, train
from tests.reference import assert_same_as_sklearn

pytestmark = [pytest.mark.slow, pytest.mark.dataset]


@pytest.fixture(scope="module")
def dataset(full_dataset_path: Path) -> Dataset:
    return load_dataset(full_dataset_path)


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_message_matches_sklearn(recipe: str, dataset: Dataset) -> None:
    assert len(dataset.texts) == 5572
    trained = train(dataset, TrainingConfig(recipe=recipe))
    model = export_pipeline(trained.model, texts=[]).model  # checked below, on everything
    assert_same_as_sklearn(model, trained.model, dataset.texts)

    predicted = model.predict(trained.test_texts)
    metrics = evaluate(trained.test_labels, predicted, ["ham", "spam"])
    majority = max(metrics.support.values()) / metrics.n_test
    assert metrics.accuracy > majority, recipe
    if recipe == "tutorial":
        assert (metrics.n_correct, metrics.n_test) == (504, 558)
        assert metrics.accuracy == 0.9032258064516129
