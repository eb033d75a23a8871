"""Where vectorising starts to pay: plain-Python vs NumPy scoring by request size.

    python benchmarks/crossover.py --data ../shared/data/spam.csv
    python benchmarks/crossover.py --smoke --data SMALL.csv          # seconds, to check it works

For each recipe and each request size n, draws random requests of n messages from the
dataset and times ``Model.classify`` with the path forced both ways (best of a few
repeats per request, the two paths alternating). It then asks which rule picks the faster
path more often and loses less time: "n messages or more" (what ``VECTORISE_FROM`` is) or
"this many characters or more". NumPy is already imported here: its import, paid once
per container by the first vectorised request, is reported separately.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.output import add_data_option, add_output_options, log, output_dir, publish
from exporter.dataset import Dataset, DatasetError, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECIPES = ("tutorial", "multinomial_nb", "calibrated_svc")


@dataclass(frozen=True)
class Sample:
    """One random request timed both ways (best of the repeats, seconds)."""

    recipe: str
    n: int
    chars: int
    plain_s: float
    numpy_s: float


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument(
        "--recipes",
        default=",".join(DEFAULT_RECIPES),
        help="comma-separated built-in recipes (exporter/train.py) to measure "
        f"(default: {','.join(DEFAULT_RECIPES)})",
    )
    parser.add_argument(
        "--max-n",
        type=int,
        default=64,
        help="largest request size measured (default: 64; with --smoke 8)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="random requests per size and recipe (default: 30; with --smoke 2)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="timed calls per request and path, the best is kept (default: 5; with --smoke 1)",
    )
    parser.add_argument(
        "--seed", type=int, default=12, help="seed of the random requests (default: 12)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="sizes 1-8, few requests: checks that it runs (default: off)",
    )
    add_output_options(parser, "crossover.md")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.requests = args.requests or (2 if args.smoke else 30)
    args.repeats = args.repeats or (1 if args.smoke else 5)
    if args.smoke:
        args.max_n = min(args.max_n, 8)
    return args


def best_of(call: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    clock = time.perf_counter
    for _ in range(repeats):
        start = clock()
        call()
        best = min(best, clock() - start)
    return best


def measure_recipe(
    recipe: str, dataset: Dataset, workdir: Path, args: argparse.Namespace
) -> list[Sample]:
    from benchmarks.contenders import export_recipe

    model = export_recipe(dataset, recipe, workdir / f"{recipe}.npz").model
    rng = random.Random(f"{args.seed}-{recipe}")
    texts = dataset.texts
    samples = []
    for n in range(1, args.max_n + 1):
        for _ in range(args.requests):
            request = rng.sample(texts, n)
            # predict is the scoring both paths share (labels from scores), via the public API.
            plain = functools.partial(model.predict, request, vectorise=False)
            vectorised = functools.partial(model.predict, request, vectorise=True)
            if plain() != vectorised():
                raise RuntimeError(f"{recipe}: the two paths disagree on a request of {n}")
            first, second = (plain, vectorised) if rng.random() < 0.5 else (vectorised, plain)
            t_first, t_second = best_of(first, args.repeats), best_of(second, args.repeats)
            plain_s, numpy_s = (t_first, t_second) if first is plain else (t_second, t_first)
            samples.append(Sample(recipe, n, sum(map(len, request)), plain_s, numpy_s))
    return samples


def rule_cost(samples: Sequence[Sample], key: Callable[[Sample], int], threshold: int) -> float:
    """Total time if requests with key >= threshold were vectorised and the rest were not."""
    return sum(s.numpy_s if key(s) >= threshold else s.plain_s for s in samples)


def relative_cost(
    groups: Sequence[Sequence[Sample]], key: Callable[[Sample], int], threshold: int
) -> float:
    """Mean over recipes of (time under the rule / ideal time): each recipe counts alike.

    A plain sum would let the slowest recipe (char n-grams: ~15x the work per message)
    decide alone.
    """
    ratios = [
        rule_cost(g, key, threshold) / sum(min(s.plain_s, s.numpy_s) for s in g) for g in groups
    ]
    return sum(ratios) / len(ratios)


def best_threshold(
    groups: Sequence[Sequence[Sample]], key: Callable[[Sample], int]
) -> tuple[int, float, float]:
    """(threshold, time vs ideal, share of requests sent the faster way) minimising time."""
    samples = [s for g in groups for s in g]
    candidates = sorted({key(s) for s in samples} | {max(key(s) for s in samples) + 1})
    threshold = min(candidates, key=lambda t: relative_cost(groups, key, t))
    right = sum((key(s) >= threshold) == (s.numpy_s < s.plain_s) for s in samples)
    return threshold, relative_cost(groups, key, threshold), right / len(samples)


def numpy_import_seconds(runs: int = 5) -> float:
    """Median wall time `import numpy` adds to a fresh interpreter (this one), 1 BLAS thread."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", code], env=env, check=True)
        return time.perf_counter() - start

    once("import numpy")  # page cache
    with_numpy = statistics.median(once("import numpy") for _ in range(runs))
    bare = statistics.median(once("pass") for _ in range(runs))
    return with_numpy - bare


def by_size_table(samples: Sequence[Sample], recipes: Sequence[str], max_n: int) -> list[str]:
    """Median NumPy/plain time ratio per size: below 1, vectorising wins."""
    header = "| n | " + " | ".join(f"{r}: plain, NumPy/plain" for r in recipes) + " |"
    lines = [header, "|" + "---|" * (len(recipes) + 1)]
    for n in range(1, max_n + 1):
        cells = []
        for recipe in recipes:
            here = [s for s in samples if s.recipe == recipe and s.n == n]
            plain = statistics.median(s.plain_s for s in here)
            ratio = statistics.median(s.numpy_s / s.plain_s for s in here)
            cells.append(f"{plain * 1e6:,.0f} µs, {ratio:.2f}")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return lines


def rules_table(samples: Sequence[Sample], recipes: Sequence[str]) -> tuple[list[str], int]:
    """Best count and character thresholds per recipe and over all; returns the count rule."""
    lines = [
        "| recipes | best n | time vs ideal | faster path chosen "
        "| best characters | time vs ideal | faster path chosen |",
        "|---|---|---|---|---|---|---|",
    ]
    groups = {r: [s for s in samples if s.recipe == r] for r in recipes}
    rows = [(r, [g]) for r, g in groups.items()]
    rows.append(("all, each recipe weighted alike", list(groups.values())))
    overall_n = 0
    for name, group in rows:
        n, n_cost, n_right = best_threshold(group, lambda s: s.n)
        c, c_cost, c_right = best_threshold(group, lambda s: s.chars)
        lines.append(
            f"| {name} | {n} | {n_cost:.3f}x | {n_right:.0%} "
            f"| {c:,} | {c_cost:.3f}x | {c_right:.0%} |"
        )
        overall_n = n
    return lines, overall_n


def candidates_table(samples: Sequence[Sample], recipes: Sequence[str], max_n: int) -> list[str]:
    """Time vs ideal, per recipe, for round values of VECTORISE_FROM."""
    groups = {r: [s for s in samples if s.recipe == r] for r in recipes}
    lines = [
        "| VECTORISE_FROM | " + " | ".join(recipes) + " | mean |",
        "|---|" + "---|" * (len(recipes) + 1),
    ]
    for t in (2, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64):
        if t > max_n:
            break
        cells = [f"{relative_cost([g], lambda s: s.n, t):.3f}x" for g in groups.values()]
        mean = relative_cost(list(groups.values()), lambda s: s.n, t)
        lines.append(f"| {t} | " + " | ".join(cells) + f" | {mean:.3f}x |")
    return lines


def render(
    samples: Sequence[Sample], args: argparse.Namespace, numpy_import_s: float
) -> tuple[str, int]:
    recipes = [r for r in args.recipes.split(",") if r]
    rules, overall_n = rules_table(samples, recipes)
    from runtime.model import VECTORISE_FROM

    big = [s for s in samples if s.n == args.max_n]
    saved = statistics.median(s.plain_s - s.numpy_s for s in big) if big else 0.0
    payback = f"{numpy_import_s / saved:,.0f}" if saved > 0 else "never"
    lines = [
        "# Plain Python or NumPy: where vectorising pays",
        "",
        "Generated by `benchmarks/crossover.py`. Each cell: median plain-Python time of "
        f"`Model.classify` for a random request of n messages ({args.requests} requests per "
        f"size, best of {args.repeats} calls each), then the median of NumPy time / plain "
        "time (below 1: NumPy wins).",
        "",
        *by_size_table(samples, recipes, args.max_n),
        "",
        "## Which rule picks the faster path",
        "",
        "Time vs ideal: total time of all sampled requests under the rule, divided by the "
        "time had every request taken its faster path.",
        "",
        *rules,
        "",
        "The same measure for round thresholds on the message count:",
        "",
        *candidates_table(samples, recipes, args.max_n),
        "",
        "## The import that comes with the first vectorised request",
        "",
        f"- `import numpy` (1 BLAS thread) adds {numpy_import_s * 1e3:.0f} ms to a fresh "
        f"`{Path(sys.executable).name} -I` here.",
        f"- At n = {args.max_n}, vectorising saves a median {saved * 1e6:,.0f} µs per request: "
        f"the import is paid back after about {payback} such requests.",
        f"- `VECTORISE_FROM` in runtime/model.py when this ran: {VECTORISE_FROM}; the "
        f"measured best count over all recipes: {overall_n}.",
        "",
        "## Run",
        "",
        f"- command: python benchmarks/crossover.py {' '.join(sys.argv[1:])}",
        f"- Python {sys.version.split()[0]} ({sys.executable}), "
        f"{len(os.sched_getaffinity(0))} usable cores",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ]
    return "\n".join(lines) + "\n", overall_n


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        dataset = load_dataset(args.data)
    except DatasetError as exc:
        print(f"error: {exc} (pass --data PATH or set SPAM_DATA)", file=sys.stderr)
        return 2
    import numpy  # noqa: F401  (imported once up front: its cost is measured apart)

    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="crossover-") as tmp:
        for recipe in [r for r in args.recipes.split(",") if r]:
            log(f"{recipe}: training, then sizes 1-{args.max_n} x {args.requests} requests")
            samples += measure_recipe(recipe, dataset, Path(tmp), args)
    log("timing `import numpy` in fresh interpreters")
    report, best_n = render(samples, args, numpy_import_seconds(2 if args.smoke else 7))
    out = output_dir(args)
    written = publish(args, out, {"crossover.md": report.encode()})
    print(report)
    print(f"best count threshold over all recipes: {best_n}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
