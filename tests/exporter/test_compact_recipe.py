"""``compact_svc`` exists for one promise (docs/models.md): its model file stays within
1 MiB. Trained on the whole collection (the most n-grams pass its ``min_df``, so the
largest file this data gives), exported, and measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter import export_pipeline
from exporter.dataset import load_dataset
from exporter.train import RECIPES, fit

pytestmark = [pytest.mark.slow, pytest.mark.dataset]

ONE_MIB = 2**20


def test_compact_svc_trained_on_everything_fits_in_one_mib(full_dataset_path: Path) -> None:
    dataset = load_dataset(full_dataset_path)
    model = fit(RECIPES["compact_svc"].build({}), dataset.texts, dataset.labels)
    size = len(export_pipeline(model, texts=dataset.texts[:200]).data)
    assert size <= ONE_MIB, f"{size} bytes"
