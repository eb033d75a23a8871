"""What serving a model costs: the size of its file and the time of one message.

``export.py --compare`` shows these figures to users and the benchmarks' per-recipe table
reports them; both measure them here, one way. The model is loaded from the very bytes
that would be deployed, and each timed call is ``Model.classify([text])``: one message on
the plain-Python path a one-message request takes, after a warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from runtime.model import Model


@dataclass(frozen=True)
class Footprint:
    model_bytes: int
    call_seconds: np.ndarray  # one timed classify([text]) per entry, in call order

    @property
    def median_latency_us(self) -> float:
        return float(np.median(self.call_seconds)) * 1e6


def measure_footprint(
    data: bytes, texts: Sequence[str], *, calls: int | None = None, warmup: int = 1
) -> Footprint:
    """Size of ``data`` and ``calls`` single-message calls (default: each text once).

    Calls cycle through ``texts`` from the start, after ``warmup`` untimed calls that take
    first-use costs out of the figures, as a warm container has paid them already.
    """
    if not texts:
        raise ValueError("measure_footprint needs at least one text to time")
    model = Model.from_bytes(data)
    n = len(texts)
    calls = n if calls is None else calls
    for i in range(warmup):
        model.classify([texts[i % n]])
    samples = np.empty(calls, dtype=np.float64)
    clock = time.perf_counter_ns
    for i in range(calls):
        text = texts[i % n]
        start = clock()
        model.classify([text])
        samples[i] = clock() - start
    return Footprint(len(data), samples / 1e9)
