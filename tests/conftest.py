"""Shared fixtures: a small real model for fast tests, the full dataset when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.corpus import tutorial_model_bytes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATASET_ENV = "SPAM_DATA"
DEFAULT_DATASET = PROJECT_ROOT.parent / "shared" / "data" / "spam.csv"


# The fast loop the README names is `pytest -m "not slow"`. A module whose every test takes
# seconds (subprocesses, zip builds, S3 servers, the full dataset) says so itself with
# `pytestmark = pytest.mark.slow`; single slow tests elsewhere carry the mark.


def dataset_path() -> Path | None:
    path = Path(os.environ.get(DATASET_ENV) or DEFAULT_DATASET)
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def full_dataset_path() -> Path:
    """The SMS Spam Collection; tests that need it skip (locally) when it is absent."""
    path = dataset_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the dataset: set {DATASET_ENV} or provide {DEFAULT_DATASET}")
        pytest.skip(f"dataset not found: set {DATASET_ENV} or provide {DEFAULT_DATASET}")
    return path


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real exported model trained on the synthetic corpus in tests/corpus.py.

    Classes are ("ham", "spam"); tests.corpus.SPAM_EXAMPLE is spam, HAM_EXAMPLE is ham.
    """
    path = tmp_path_factory.mktemp("model") / "model.npz"
    path.write_bytes(tutorial_model_bytes(sublinear_tf=True, max_df=0.5))
    return path
