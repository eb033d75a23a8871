"""Peak memory of one request through ``runtime.handler.lambda_handler``, in this process.

Run in a fresh interpreter per measurement (a peak is a high-water mark):

    python -m tests.request_probe MODEL_PATH SCENARIO [--address-space-mib N]

prints one JSON object: the HTTP status, and the peak resident set (VmHWM) before the
handler is imported, after the cold start, and during the request (the peak is reset
once the event is built, so ``peak`` is what the process held at most while answering,
cold-start memory and the event included). ``--address-space-mib``
caps the address space (RLIMIT_AS) at what the cold start mapped plus N MiB, as a small
Lambda would, to show the request fits in that much more memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from typing import Any, NamedTuple

from tests.memory import peak_rss, reset_peak_rss

MiB = 1 << 20
RESULT_PREFIX = "request_probe: "  # the handler writes its own JSON log lines to stdout


def measure(model: str, scenario: str, *, address_space_mib: int | None = None) -> dict[str, Any]:
    """Run the probe in a fresh interpreter and return its result."""
    import subprocess
    from pathlib import Path

    command = [sys.executable, "-m", "tests.request_probe", model, scenario]
    if address_space_mib is not None:
        command += ["--address-space-mib", str(address_space_mib)]
    completed = subprocess.run(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])  # type: ignore[no-any-return]
    raise AssertionError(f"no result from the probe: {completed.stdout[-2000:]}")


class Scenario(NamedTuple):
    texts: int  # 0: one raw text/plain message of ``chars`` characters
    body_bytes: int  # what the body fills, at most
    environment: dict[str, str]


MAXIMA = {"MAX_BODY_BYTES": "6000000", "MAX_BATCH_SIZE": "50000"}  # runtime/config.py's caps

SCENARIOS = {
    "cold start": Scenario(-1, 0, {}),
    "one message": Scenario(1, 160, {}),
    "largest default request": Scenario(1000, 1024 * 1024, {}),
    "largest default message": Scenario(0, 1024 * 1024, {}),
    "maxima: 50,000 texts in 6 MB": Scenario(50_000, 6_000_000, MAXIMA),
    "maxima: one 6 MB message": Scenario(0, 6_000_000, MAXIMA),
}

# Words of tests/corpus.py (not imported: it imports scikit-learn, 100 MiB of baseline).
_WORDS = [
    *("free", "prize", "winner", "claim", "cash", "urgent", "txt", "reply", "call", "now"),
    *("see", "you", "at", "lunch", "tomorrow", "ok", "home", "later", "love", "thanks"),
    *("the", "a", "to", "and", "is", "it", "for", "on", "this", "that", "with", "me", "my"),
    *("Hi!", "2moro?", "L1000", "www.example.com", "08002986030", ";-)", "lol"),
]


def sms_text(rng: random.Random, length: int) -> str:
    """SMS-like ASCII text of ``length`` characters: words, numbers, made-up words."""
    # Misspellings and codes give a char_wb model new n-grams, as real messages do.
    made_up = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6)) for _ in range(999)
    ]
    pool = _WORDS * 60 + made_up  # about 30% made-up words
    words = rng.choices(pool, k=length // 5 + 1)
    text = " ".join(words)
    while len(text) < length:
        text += " " + text
    return text[:length]


def body_for(scenario: Scenario) -> tuple[str, str]:
    """(content type, body) filling the scenario's body size with its number of texts."""
    rng = random.Random(0)
    if scenario.texts == 0:
        return "text/plain", sms_text(rng, scenario.body_bytes)
    # Each text costs its characters plus 3 bytes of JSON: two quotes and a comma.
    per_text = (scenario.body_bytes - len('{"texts":[]}')) // scenario.texts - 3
    stream = sms_text(rng, per_text * scenario.texts + 1000)
    starts = [rng.randrange(1000) + i * per_text for i in range(scenario.texts)]
    texts = [stream[start : start + per_text] for start in starts]
    document = {"texts": texts} if scenario.texts > 1 else {"text": texts[0]}
    body = json.dumps(document, separators=(",", ":"))
    assert len(body.encode()) <= scenario.body_bytes, len(body)
    return "application/json", body


def address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--address-space-mib", type=int)
    args = parser.parse_args(argv)
    scenario = SCENARIOS[args.scenario]
    os.environ.update({"MODEL_PATH": args.model, **scenario.environment})
    os.environ.pop("MODEL_S3_URI", None)

    from tests.events import rest_v1

    result: dict[str, Any] = {"scenario": args.scenario, "interpreter": peak_rss()}
    started = time.perf_counter()
    from runtime.handler import lambda_handler  # the cold start: settings and model

    result["cold_seconds"] = time.perf_counter() - started
    result["cold_start"] = peak_rss()
    if scenario.texts < 0:
        return result
    content_type, body = body_for(scenario)
    event = rest_v1(body=body, headers={"Content-Type": content_type})
    del body
    if args.address_space_mib is not None:
        import numpy  # noqa: F401  (what a batch maps anyway: counted in the baseline)

        limit = address_space() + args.address_space_mib * MiB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        result["address_space_limit"] = limit
    # The event's own construction is no part of the request: start a new peak from here.
    result["peak_reset"] = reset_peak_rss()
    result["before_request"] = peak_rss()
    started = time.perf_counter()
    response = lambda_handler(event, None)
    result["request_seconds"] = time.perf_counter() - started
    result["peak"] = peak_rss()
    result["status"] = response["statusCode"]
    if response["statusCode"] == 200:
        answer = json.loads(response["body"])
        result["answers"] = len(answer["predictions"]) if "predictions" in answer else 1
    else:
        result["error"] = response["body"][:300]
    return result


if __name__ == "__main__":
    sys.stdout.write(RESULT_PREFIX + json.dumps(main()) + "\n")
