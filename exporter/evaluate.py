"""Measure recipes, or a model file on your own labelled messages, without leaking copies.

    python exporter/evaluate.py --data ../shared/data/spam.csv --recipe best
    python exporter/evaluate.py --data ../shared/data/spam.csv --recipes tutorial,linear_svc
    python exporter/evaluate.py --model artifacts/model.npz --data mine.csv

Protocol (exporter/protocol.py): repeated stratified group k-fold, where a group is a
text up to case and whitespace, so no message is on both sides. A recipe is trained on
each fold's training part and measured on its test part; a model file is measured on
each test part as it is (nothing is trained), which gives the spread of its figures on
your data. ``--perturb`` also measures every fold's test part rewritten by each
obfuscation class (exporter/obfuscate.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

try:  # a file run before the project is installed finds no packages: say so in one line
    import exporter  # noqa: F401
except ModuleNotFoundError:
    sys.exit("error: the project is not installed: run `pip install -e .` in its directory")

import numpy as np

from exporter.dataset import Dataset, DatasetError, load_dataset
from exporter.obfuscate import CLASSES, obfuscate
from exporter.protocol import (
    DEFAULT_FOLDS,
    DEFAULT_REPEATS,
    METRIC_HEADINGS,
    METRICS,
    Spread,
    duplicates_grouped,
    fold_metrics,
    grouped_folds,
    groups_of,
    summarise,
)
from exporter.report import size_text

PERTURBED_METRICS = ("spam_recall", "ham_flagged")


@dataclass
class Result:
    """One recipe's (or model file's) figures over the folds."""

    name: str
    per_fold: list[dict[str, float | None]] = field(default_factory=list)
    perturbed: dict[str, list[dict[str, float | None]]] = field(default_factory=dict)
    model_bytes: int | None = None  # the largest fold model's file, recipes only
    seconds: float = 0.0

    def summary(self) -> dict[str, Spread | None]:
        return summarise(self.per_fold)

    def perturbed_summary(self) -> dict[str, dict[str, Spread | None]]:
        return {kind: summarise(folds) for kind, folds in self.perturbed.items()}

    def as_json(self) -> dict[str, Any]:
        def spreads(summary: dict[str, Spread | None], names: Sequence[str]) -> dict[str, Any]:
            return {n: None if (s := summary[n]) is None else s.as_json() for n in names}

        return {
            "name": self.name,
            "metrics": spreads(self.summary(), METRICS),
            "perturbed": {
                kind: spreads(summary, PERTURBED_METRICS)
                for kind, summary in self.perturbed_summary().items()
            },
            "model_bytes": self.model_bytes,
            "seconds": round(self.seconds, 1),
        }


class Progress:
    """A bar on stderr: redrawn in place on a terminal, one line per step otherwise."""

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = sys.stderr if stream is None else stream
        self.start = time.monotonic()

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        elapsed = time.monotonic() - self.start
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{label} ({elapsed:.0f} s)"
        )
        if self.stream.isatty():
            end = "\n" if self.done >= self.total else ""
            print("\r" + line.ljust(79), end=end, file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)


def perturbed_texts(texts: Sequence[str], rows: np.ndarray, seed: int) -> dict[str, list[str]]:
    """Each obfuscation class applied to the given rows (seeded by the row's index)."""
    return {kind: [obfuscate(kind, texts[i], int(i), seed) for i in rows] for kind in CLASSES}


def recipe_predictions(model: Any, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """scikit-learn's labels and the family's binary decision score (its declarations)."""
    from exporter.pipeline import sklearn_outputs
    from exporter.threshold import family_class_of

    _, outputs, predicted = sklearn_outputs(model, texts)
    family = family_class_of(model)
    scores = family.binary_score_batch(outputs[family.score_method])
    return predicted, np.asarray(scores, dtype=np.float64)


def evaluate_recipe(
    name: str,
    dataset: Dataset,
    *,
    folds: int = DEFAULT_FOLDS,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    perturb: bool = False,
    measure_size: bool = True,
    max_ham_flagged: float | None = None,
    progress: Progress | None = None,
) -> Result:
    """Train recipe ``name`` on each fold's training part, measure on its test part.

    With ``max_ham_flagged``, each fold's decision threshold is chosen as ``export.py
    --max-ham-flagged`` chooses it, by cross-validation on that fold's training part only.
    """
    from exporter.pipeline import export_pipeline
    from exporter.threshold import choose_threshold, labels_at
    from exporter.train import TrainingConfig, build, fit, resolve_recipe

    result = Result(resolve_recipe(name).name)
    started = time.monotonic()
    texts, labels = dataset.texts, dataset.labels
    for fold in grouped_folds(labels, groups_of(texts), folds=folds, repeats=repeats, seed=seed):
        model = fit(
            build(TrainingConfig(recipe=name)),
            [texts[i] for i in fold.train],
            [labels[i] for i in fold.train],
        )
        test_texts = [texts[i] for i in fold.test]
        test_labels = [labels[i] for i in fold.test]
        predicted, scores = recipe_predictions(model, test_texts)
        cut: float | None = None
        if max_ham_flagged is not None:
            train_labels = [labels[i] for i in fold.train]
            choice = choose_threshold(
                build(TrainingConfig(recipe=name)),
                [texts[i] for i in fold.train],
                train_labels,
                max_ham_flagged,
            )
            cut, classes = choice.value, sorted(set(train_labels))
            predicted = labels_at(scores, cut, classes)
        result.per_fold.append(fold_metrics(test_labels, predicted, scores))
        if measure_size:  # also checks the runtime against scikit-learn on the fold
            size = len(export_pipeline(model, texts=test_texts[:200]).data)
            result.model_bytes = max(size, result.model_bytes or 0)
        if perturb:
            for kind, changed in perturbed_texts(texts, fold.test, seed).items():
                predicted, scores = recipe_predictions(model, changed)
                if cut is not None:
                    predicted = labels_at(scores, cut, classes)
                result.perturbed.setdefault(kind, []).append(
                    fold_metrics(test_labels, predicted, scores)
                )
        if progress is not None:
            progress.step(f"{result.name} fold {fold.repeat + 1}.{fold.index + 1}")
    result.seconds = time.monotonic() - started
    return result


def model_predictions(model: Any, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The labels the service answers (the stored threshold applied) and the scores."""
    labels = [prediction["label"] for prediction in model.classify(list(texts))]
    family = model.family
    scores = family.binary_score_batch(getattr(model, family.score_method)(list(texts)))
    return [str(label) for label in labels], np.asarray(scores, dtype=np.float64)


def evaluate_model(
    path: Path,
    dataset: Dataset,
    *,
    folds: int = DEFAULT_FOLDS,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    perturb: bool = False,
    progress: Progress | None = None,
) -> Result:
    """A model file measured as it is on each fold's test part of the user's messages."""
    from runtime.model import Model

    model = Model.from_path(path)
    result = Result(path.name, model_bytes=path.stat().st_size)
    started = time.monotonic()
    texts, labels = dataset.texts, dataset.labels
    predicted, scores = model_predictions(model, texts)
    changed = {kind: model_predictions(model, t) for kind, t in perturbed_texts(
        texts, np.arange(len(texts)), seed).items()} if perturb else {}  # fmt: skip
    for fold in grouped_folds(labels, groups_of(texts), folds=folds, repeats=repeats, seed=seed):
        test_labels = [labels[i] for i in fold.test]
        result.per_fold.append(
            fold_metrics(test_labels, [predicted[i] for i in fold.test], scores[fold.test])
        )
        for kind, (kind_predicted, kind_scores) in changed.items():
            result.perturbed.setdefault(kind, []).append(
                fold_metrics(
                    test_labels, [kind_predicted[i] for i in fold.test], kind_scores[fold.test]
                )
            )
        if progress is not None:
            progress.step(f"{result.name} fold {fold.repeat + 1}.{fold.index + 1}")
    result.seconds = time.monotonic() - started
    return result


def spread_cell(name: str, spread: Spread | None) -> str:
    if spread is None:
        return "n/a"
    if name == "ham_flagged":
        return f"{spread.mean:.2%} ± {spread.sd:.2%}"
    return f"{spread.mean:.4f} ± {spread.sd:.4f}"


def size_cell(size: int | None) -> str:
    if size is None:
        return "n/a"
    return size_text(size)


def markdown_table(results: Sequence[Result]) -> str:
    lines = [
        "| model | " + " | ".join(METRIC_HEADINGS.values()) + " | model file |",
        "|---|" + "---:|" * (len(METRIC_HEADINGS) + 1),
    ]
    for result in results:
        summary = result.summary()
        cells = [spread_cell(name, summary[name]) for name in METRICS]
        lines.append(
            f"| {result.name} | " + " | ".join(cells) + f" | {size_cell(result.model_bytes)} |"
        )
    return "\n".join(lines)


def perturbed_table(results: Sequence[Result]) -> str:
    """Spam recall and ham flagged per obfuscation class, the clean figures first."""
    lines = [
        "| model | obfuscation | spam recall | Δ recall | ham flagged | Δ ham flagged |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        clean = result.summary()
        recall, flagged = clean["spam_recall"], clean["ham_flagged"]
        lines.append(
            f"| {result.name} | clean | {spread_cell('spam_recall', recall)} | | "
            f"{spread_cell('ham_flagged', flagged)} | |"
        )
        for kind, summary in result.perturbed_summary().items():
            kind_recall, kind_flagged = summary["spam_recall"], summary["ham_flagged"]
            d_recall = f"{kind_recall.mean - recall.mean:+.4f}" if kind_recall and recall else "n/a"
            d_flagged = (
                f"{(kind_flagged.mean - flagged.mean) * 100:+.2f} pt"
                if kind_flagged and flagged
                else "n/a"
            )
            lines.append(
                f"| {result.name} | {kind} | {spread_cell('spam_recall', kind_recall)} | "
                f"{d_recall} | {spread_cell('ham_flagged', kind_flagged)} | {d_flagged} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--recipe", help="one built-in recipe (or 'best')")
    what.add_argument("--recipes", metavar="A,B", help="several recipes; 'all' for every one")
    what.add_argument("--model", type=Path, help="a model file, measured as it is on --data")
    parser.add_argument(
        "--data", type=Path, required=True, help="labelled messages: spam.csv, "
        "SMSSpamCollection, or any label,text CSV (label ham or spam)"
    )  # fmt: skip
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="k of the k-fold")
    parser.add_argument(
        "--repeats", type=int, default=DEFAULT_REPEATS, help="k-folds with other shuffles"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the first shuffle")
    parser.add_argument(
        "--perturb", action="store_true", help="also measure each obfuscation class"
    )
    parser.add_argument(
        "--no-size", action="store_true", help="recipes: skip exporting each fold's model"
    )
    parser.add_argument(
        "--max-ham-flagged",
        type=float,
        metavar="RATE",
        help="recipes: measure at the threshold export.py --max-ham-flagged RATE would store, "
        "chosen on each fold's training part",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def recipe_names(args: argparse.Namespace) -> list[str]:
    from exporter.compare import resolve_recipes

    if args.recipe:
        return [args.recipe]
    return resolve_recipes(None if args.recipes == "all" else args.recipes)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    if args.folds < 2 or args.repeats < 1:
        raise ValueError("--folds must be at least 2 and --repeats at least 1")
    dataset = load_dataset(args.data)
    names = [] if args.model else recipe_names(args)
    if not args.model:
        from exporter.train import resolve_recipe

        for name in names:
            resolve_recipe(name)  # refuse an unknown name before any training
    total = args.folds * args.repeats * max(len(names), 1)
    progress = Progress(total, enabled=not args.quiet)
    options = {"folds": args.folds, "repeats": args.repeats, "seed": args.seed}
    if args.model:
        results = [
            evaluate_model(args.model, dataset, perturb=args.perturb, progress=progress, **options)
        ]
    else:
        results = [
            evaluate_recipe(
                name,
                dataset,
                perturb=args.perturb,
                measure_size=not args.no_size,
                max_ham_flagged=args.max_ham_flagged,
                progress=progress,
                **options,
            )
            for name in names
        ]
    spam = sum(label == "spam" for label in dataset.labels)
    about = {
        "data": {
            "source": Path(dataset.source).name,
            "sha256": dataset.sha256,
            "rows": len(dataset.texts),
            "spam": spam,
            "duplicates_grouped": duplicates_grouped(dataset.texts),
        },
        "protocol": {
            "name": "repeated stratified group k-fold, group = text up to case and whitespace",
            **options,
            "trained": not args.model,
            "max_ham_flagged": args.max_ham_flagged,
        },
        "python": platform.python_version(),
    }
    if args.json:
        json.dump({**about, "results": [r.as_json() for r in results]}, out, indent=2)
        out.write("\n")
        return 0
    data: dict[str, Any] = about["data"]  # type: ignore[assignment]
    print(
        f"{data['rows']} messages ({data['spam']} spam) from {data['source']}; "
        f"{data['duplicates_grouped']} duplicates grouped with their first copy; "
        f"{args.repeats} x stratified group {args.folds}-fold (seed {args.seed}), mean ± sd "
        f"over {args.folds * args.repeats} folds"
        + ("" if not args.model else "; the model file as it is, nothing trained")
        + (
            ""
            if args.max_ham_flagged is None
            else f"; at each fold's threshold for <= {args.max_ham_flagged:.2%} ham flagged"
        ),
        file=out,
    )
    print(markdown_table(results), file=out)
    if args.perturb:
        print("\nUnder obfuscation (test folds only, about half of each message):", file=out)
        print(perturbed_table(results), file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
