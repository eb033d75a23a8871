"""exporter/footprint.py: the one measurement of a model's file size and one-message time.

``export.py --compare`` and the benchmarks' recipe table both report it; these tests pin
what is measured (no timing is asserted): the bytes given, the model those bytes hold,
and exactly the calls asked for, one message each, after the warm-up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from exporter.footprint import measure_footprint
from runtime.model import Model
from runtime.modelfile import ModelError
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE, tutorial_model_bytes


@pytest.fixture(scope="module")
def data() -> bytes:
    return tutorial_model_bytes()


def test_it_times_each_call_on_one_message_cycling_after_the_warm_up(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    classify = Model.classify

    def recording(self: Model, texts: Sequence[str], **options: object) -> object:
        seen.append(list(texts))
        return classify(self, texts, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Model, "classify", recording)
    footprint = measure_footprint(data, ["a", "b", "c"], calls=5, warmup=2)

    assert seen == [["a"], ["b"], ["a"], ["b"], ["c"], ["a"], ["b"]]
    assert footprint.call_seconds.shape == (5,)
    assert np.all(footprint.call_seconds > 0)
    assert footprint.median_latency_us == pytest.approx(
        float(np.median(footprint.call_seconds)) * 1e6
    )


def test_the_size_is_that_of_the_bytes_whose_model_is_timed(data: bytes) -> None:
    footprint = measure_footprint(data, [SPAM_EXAMPLE, HAM_EXAMPLE])

    assert footprint.model_bytes == len(data)
    assert footprint.call_seconds.shape == (2,)  # each text once by default
    with pytest.raises(ModelError):
        measure_footprint(data[:-1], [SPAM_EXAMPLE])  # truncated: not a model, not timed


def test_nothing_to_time_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="at least one text"):
        measure_footprint(data, [])
