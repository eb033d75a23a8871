"""Issue 20's figures: what explanations and many classes cost one request.

    python -m benchmarks.bounds            # median of 3 fresh interpreters per row
    python -m benchmarks.bounds --smoke    # one run of each row, to check it works

Each row is one request through ``runtime.handler.lambda_handler`` in a fresh
interpreter (``tests/request_probe.py``): the status, the request's wall time, the
process's peak resident set (VmHWM, cold start included) and what the request added to
it. Two models, built from synthetic text (``tests/bounded_models.py``): the
``sgd_hashing`` recipe and a 1,000-class MultinomialNB over 3,000 TF-IDF terms. The
ratio rows compare an explained request with the same request unexplained, in the same
run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bounded_models import write_sgd_hashing_model, write_thousand_class_model
from tests.request_probe import measure

MiB = 1 << 20
ROWS = [
    ("sgd_hashing", "1 MiB of distinct words"),
    ("sgd_hashing", "1 MiB of distinct words, explained"),
    ("sgd_hashing", "maxima: 50,000 texts in 6 MB, explained top 50"),
    ("thousand_classes", "one 18 KB message of its terms"),
    ("thousand_classes", "one 18 KB message of its terms, explained"),
    ("thousand_classes", "55 texts in 990 KB of its terms, explained"),
    ("thousand_classes", "1,000 tiny texts of its terms"),
]
RATIOS = [
    ("sgd_hashing", "1 MiB of distinct words, explained", "1 MiB of distinct words"),
    (
        "thousand_classes",
        "one 18 KB message of its terms, explained",
        "one 18 KB message of its terms",
    ),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="fresh interpreters per row (default: %(default)s)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="one run per row, to check it works (default: off)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = 1 if args.smoke else args.runs
    with tempfile.TemporaryDirectory() as folder:
        models = {
            "sgd_hashing": str(write_sgd_hashing_model(Path(folder) / "sgd.npz")),
            "thousand_classes": str(write_thousand_class_model(Path(folder) / "thousand.npz")),
        }
        results: dict[tuple[str, str], dict[str, Any]] = {}
        for model, scenario in ROWS:
            print(f"[bounds] {model}: {scenario}", file=sys.stderr, flush=True)
            measured = [measure(models[model], scenario) for _ in range(runs)]
            results[model, scenario] = {
                "status": sorted({m["status"] for m in measured}),
                "seconds": statistics.median(m["request_seconds"] for m in measured),
                "peak": statistics.median(m["peak"] for m in measured),
                "added": statistics.median(m["peak"] - m["before_request"] for m in measured),
            }
    print(f"| model | request | status | wall s (median of {runs}) | peak MiB | added MiB |")
    print("|---|---|---|---:|---:|---:|")
    for (model, scenario), r in results.items():
        status = "/".join(map(str, r["status"]))
        print(
            f"| {model} | {scenario} | {status} | {r['seconds']:.2f} | "
            f"{r['peak'] / MiB:.1f} | {r['added'] / MiB:+.1f} |"
        )
    print()
    print("| model | explained / unexplained | peak ratio | time ratio | added MiB |")
    print("|---|---|---:|---:|---:|")
    for model, explained, plain in RATIOS:
        e, p = results[model, explained], results[model, plain]
        print(
            f"| {model} | {plain} | {e['peak'] / p['peak']:.2f} | "
            f"{e['seconds'] / p['seconds']:.2f} | {(e['peak'] - p['peak']) / MiB:+.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
