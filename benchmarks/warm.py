"""Warm latency (one message per call) and batch throughput, measured in this process.

Each contender gets its own block of calls after a short warm-up, as a warm Lambda
container serves only its own model; per-call times come from ``perf_counter_ns``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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
    """The handler's log lines go to a pipe that another process drains, as on Lambda.

    Writing to /dev/null would hide the cost of the write system call into a pipe
    (measured: 33 us per handler call to /dev/null, 54-66 us through a pipe).
    """
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    try:
        with open(write_end, "w", encoding="utf-8") as pipe, contextlib.redirect_stdout(pipe):
            yield
    finally:
        reader.wait(timeout=30)


def measure_latency(
    key: str,
    label: str,
    call: Callable[[Any], object],
    inputs: Sequence[Any],
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


Output = TypeVar("Output")


def measure_batch(
    key: str, label: str, call: Callable[[], Output], n_messages: int, repeats: int
) -> tuple[Batch, Output]:
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


def tokenise_floor(
    token_pattern: str, lowercase: bool = True
) -> Callable[[Sequence[str]], list[list[str]]]:
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


SAMPLE_TEXTS = (
    "WINNER!! As a valued network customer you have been selected to receive a prize",
    "Ok lar... Joking wif u oni...",
    "Are we still meeting for dinner tonight?",
    "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005",
    "I'm gonna be home soon and i don't want to talk about this stuff anymore tonight",
)


def main(argv: list[str] | None = None) -> int:
    """Warm one-message ``lambda_handler`` calls, next to the model's own share of them."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm", description=main.__doc__)
    parser.add_argument("--model", required=True, help="model file to serve (sets MODEL_PATH)")
    parser.add_argument(
        "--calls", type=int, default=20_000, help="timed calls (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2_000, help="untimed calls first (default: %(default)s)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    os.environ["MODEL_PATH"] = args.model
    with quiet_stdout():
        from runtime.handler import lambda_handler
    from benchmarks.contenders import rest_event
    from runtime.model import Model

    model = Model.from_path(args.model)
    events = [rest_event(text) for text in SAMPLE_TEXTS]
    texts = [[text] for text in SAMPLE_TEXTS]
    with quiet_stdout():
        answer = lambda_handler(events[0], None)
    if answer["statusCode"] != 200:  # timing an error path would measure the wrong thing
        raise SystemExit(f"the handler answered {answer['statusCode']}: {answer['body']}")
    results: dict[str, list[float]] = {"handler": [], "model": []}
    with quiet_stdout():
        for _ in range(args.rounds):
            handler = measure_latency(
                "handler", "", lambda e: lambda_handler(e, None), events, args.calls, args.warmup
            )
            bare = measure_latency("model", "", model.classify, texts, args.calls, args.warmup)
            results["handler"].append(handler.percentile(50))
            results["model"].append(bare.percentile(50))
    handler_us = float(np.median(results["handler"])) * 1e6
    model_us = float(np.median(results["model"])) * 1e6
    print(f"lambda_handler, one message, REST 1.0, log to a pipe: p50 {handler_us:.1f} us")
    print(f"model.classify([text]): p50 {model_us:.1f} us")
    print(f"outside the model: {handler_us - model_us:.1f} us ({1 - model_us / handler_us:.0%})")
    print(f"rounds: handler {[round(x * 1e6, 1) for x in results['handler']]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
