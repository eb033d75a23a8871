"""Model.classify_arrays, the archive's batch path, answers what classify answers.

For every family and labelling, and with a decision threshold: the same labels, and the
same numbers as classify's probabilities or scores (the NumPy batch path of both).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from runtime.archive.shard import CHUNK_CHARS as ARCHIVE_CHUNK_CHARS
from runtime.model import Model
from tests.corpus import make_corpus
from tests.exporter.test_threshold import decision_scores, with_threshold
from tests.families import BUILDERS, fitted

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

# Empty, short, a stream (past the API's chunk, not the archive's), and a stream for both.
TEXTS = [*make_corpus(90, seed=3)[0], "", "free", "x" * 20_000, "free " * 14_000]


def classify_values(prediction: dict[str, Any], classes: tuple[Any, ...]) -> list[float]:
    if "probabilities" in prediction:
        return [prediction["probabilities"][c] for c in classes]
    if "score" in prediction:
        return [prediction["score"]]
    return [prediction["scores"][c] for c in classes]


def check(model: Model) -> None:
    labels, values = model.classify_arrays(TEXTS)
    expected = model.classify(TEXTS)
    assert [model.classes[i] for i in labels.tolist()] == [p["label"] for p in expected]
    want = np.array([classify_values(p, model.classes) for p in expected])
    np.testing.assert_allclose(values, want, rtol=1e-12, atol=1e-12)
    for chunk_chars in (100, ARCHIVE_CHUNK_CHARS):  # many chunks and streams; the archive's
        other_labels, other_values = model.classify_arrays(TEXTS, chunk_chars=chunk_chars)
        assert other_labels.tolist() == labels.tolist()
        np.testing.assert_allclose(other_values, values, rtol=1e-12, atol=1e-12)
    empty_labels, empty_values = model.classify_arrays([])
    assert empty_labels.shape == (0,)
    assert empty_values.shape == (0, values.shape[1])


@pytest.mark.parametrize("labeling", ["binary", "three_classes", "int_labels"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_batch_arrays_match_classify_for_every_family(name: str, labeling: str) -> None:
    check(fitted(name, labeling)[1])


@pytest.mark.parametrize("name", ["gaussian_nb", "linear_svc", "calibrated_isotonic"])
def test_batch_arrays_apply_the_decision_threshold(name: str) -> None:
    fitted_model, _ = fitted(name)
    cut = float(np.median(decision_scores(fitted_model, TEXTS)))
    model = Model.from_bytes(with_threshold(name, cut))
    check(model)
    labels, _ = model.classify_arrays(TEXTS)
    assert 0 < int(labels.sum()) < len(TEXTS)  # the cut really splits these texts
