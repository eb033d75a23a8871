"""Warm latency (one message per call) and batch throughput, measured in this process.

Each contender gets its own block of calls after a short warm-up, as a warm Lambda
container serves only its own model; per-call times come from ``perf_counter_ns``.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Per-call latencies of one contender, in seconds."""

    key: str
    label: str
    samples: np.ndarray

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples, q))


@dataclass(frozen=True)
class Batch:
    """Wall times of whole-dataset calls; throughput uses the median."""

    key: str
    label: str
    n_messages: int
    seconds: list[float]

    @property
    def median_s(self) -> float:
        return float(np.median(self.seconds))

    @property
    def per_second(self) -> float:
        return self.n_messages / self.median_s


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The handler logs one line per request; send it to /dev/null, still paying for it."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


def measure_latency(
    key: str,
    label: str,
    call: Callable[[object], object],
    inputs: Sequence[object],
    calls: int,
    warmup: int,
) -> Latency:
    """Time ``calls`` single calls, cycling through ``inputs`` from the start."""
    n = len(inputs)
    for i in range(warmup):
        call(inputs[i % n])
    samples = np.empty(calls, dtype=np.float64)
    clock = time.perf_counter_ns
    for i in range(calls):
        item = inputs[i % n]
        start = clock()
        call(item)
        samples[i] = clock() - start
    return Latency(key, label, samples / 1e9)


def measure_batch(
    key: str, label: str, call: Callable[[], object], n_messages: int, repeats: int
) -> tuple[Batch, object]:
    """Time ``repeats`` whole-dataset calls after one untimed call; return the last output.

    The untimed call takes first-use costs (page faults of fresh buffers, lazy caches) out
    of the median, as a warm container would have paid them already.
    """
    output = call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        output = call()
        seconds.append(time.perf_counter() - start)
    return Batch(key, label, n_messages, seconds), output


def tokenise_floor(token_pattern: str, lowercase: bool = True) -> Callable[[Sequence[str]], list]:
    """Only tokenising, with the vectorizer's own regex: no runtime can do less per message."""
    findall = re.compile(token_pattern).findall
    if lowercase:
        return lambda texts: [findall(text.lower()) for text in texts]
    return lambda texts: [findall(text) for text in texts]


def disagreements(labels: Sequence[object], reference: Sequence[object]) -> int:
    """How many labels differ from scikit-learn's; must be counted over every message."""
    if len(labels) != len(reference):
        raise ValueError(f"{len(labels)} labels for {len(reference)} messages")
    return sum(str(a) != str(b) for a, b in zip(labels, reference, strict=True))
