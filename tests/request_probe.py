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
    top: int | None = None  # ask for explanations of this many terms
    distinct: bool = False  # made-up words, nearly all distinct (hashing explanations)
    vocabulary: bool = False  # the served model's own terms (many classes' scores move)


MAXIMA = {"MAX_BODY_BYTES": "6000000", "MAX_BATCH_SIZE": "50000"}  # runtime/config.py's caps

SCENARIOS = {
    "cold start": Scenario(-1, 0, {}),
    "one message": Scenario(1, 160, {}),
    "largest default request": Scenario(1000, 1024 * 1024, {}),
    "largest default message": Scenario(0, 1024 * 1024, {}),
    "maxima: 50,000 texts in 6 MB": Scenario(50_000, 6_000_000, MAXIMA),
    "maxima: one 6 MB message": Scenario(0, 6_000_000, MAXIMA),
    # Issue 20: explanations and many classes.
    "1 MiB of distinct words": Scenario(1, 1024 * 1024, {}, distinct=True),
    "1 MiB of distinct words, explained": Scenario(1, 1024 * 1024, {}, top=10, distinct=True),
    "maxima: 50,000 texts in 6 MB, explained top 50": Scenario(50_000, 6_000_000, MAXIMA, top=50),
    "one 18 KB message of its terms": Scenario(1, 18_000, {}, vocabulary=True),
    "one 18 KB message of its terms, explained": Scenario(1, 18_000, {}, top=10, vocabulary=True),
    "55 texts in 990 KB of its terms, explained": Scenario(
        55, 990_000, {}, top=10, vocabulary=True
    ),
    "1,000 tiny texts of its terms": Scenario(1000, 15_000, {}, vocabulary=True),
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


def distinct_text(rng: random.Random, length: int) -> str:
    """``length`` characters of made-up words of 5 to 9 letters: nearly all distinct."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(5, 9))) for _ in range(length // 7 + 1)]
    return " ".join(words)[:length]


def vocabulary_text(terms: list[str]) -> Any:
    """A maker of text from the model's own vocabulary terms."""

    def make(rng: random.Random, length: int) -> str:
        return " ".join(rng.choices(terms, k=length // 4 + 1))[:length]

    return make


def model_terms(path: str) -> list[str]:
    """The model's one-word vocabulary terms, read in a child process (loading a second
    model here would leave freed memory for the request to reuse, hiding its cost)."""
    import subprocess

    script = (
        "import sys; from runtime.model import Model; "
        "print('\\n'.join(Model.from_path(sys.argv[1]).featurizer.blocks[0].columns or ()))"
    )
    listed = subprocess.run(
        [sys.executable, "-c", script, path], capture_output=True, text=True, check=True
    ).stdout
    return [term for term in listed.splitlines() if term and " " not in term]


def body_for(scenario: Scenario, terms: list[str] | None = None) -> tuple[str, str]:
    """(content type, body) filling the scenario's body size with its number of texts."""
    rng = random.Random(0)
    if scenario.texts == 0:
        return "text/plain", sms_text(rng, scenario.body_bytes)
    explain = {} if scenario.top is None else {"explain": True, "top": scenario.top}
    # Each text costs its characters plus 3 bytes of JSON: two quotes and a comma.
    overhead = len('{"texts":[]}') + len(json.dumps(explain, separators=(",", ":")))
    per_text = (scenario.body_bytes - overhead) // scenario.texts - 3
    make = distinct_text if scenario.distinct else sms_text
    if terms is not None:
        make = vocabulary_text(terms)
    stream = make(rng, per_text * scenario.texts + 1000)
    starts = [rng.randrange(1000) + i * per_text for i in range(scenario.texts)]
    texts = [stream[start : start + per_text] for start in starts]
    document: dict[str, Any] = {"texts": texts} if scenario.texts > 1 else {"text": texts[0]}
    document.update(explain)
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
    terms = model_terms(args.model) if scenario.vocabulary else None
    content_type, body = body_for(scenario, terms)
    del terms
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
    result["body_bytes"] = len(response["body"])
    return result


if __name__ == "__main__":
    sys.stdout.write(RESULT_PREFIX + json.dumps(main()) + "\n")
