"""Train a spam model with a built-in recipe and export it for the runtime.

    python exporter/export.py --data ../shared/data/spam.csv                 # the tutorial
    python exporter/export.py --data ../shared/data/spam.csv --recipe best   # our pick

Without --data (or SPAM_DATA) the public UCI collection is downloaded once into a user
cache directory. The artifact is written only after the runtime has been checked
against scikit-learn on the test split.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from collections import Counter
from pathlib import Path
from typing import Any

try:  # a file run before the project is installed finds no packages: say so in one line
    import exporter  # noqa: F401
except ModuleNotFoundError:
    sys.exit("error: the project is not installed: run `pip install -e .` in its directory")

from exporter.dataset import UCI_URL, Dataset, DatasetError, default_cache_dir, fetch_dataset
from exporter.dataset import load_dataset as load_dataset_file
from exporter.errors import ExportParityError, UnsupportedModelError
from exporter.features import check_vectorizer
from exporter.pipeline import export_pipeline, save, sklearn_outputs
from exporter.protocol import group_key
from exporter.report import Metrics, evaluate, format_report
from exporter.threshold import ThresholdChoice, choose_threshold, decision_scores, labels_at
from exporter.train import (
    BEST_RECIPE,
    DEFAULT_RECIPE,
    RECIPES,
    TrainedModel,
    TrainingConfig,
    build,
    resolve_recipe,
    train,
)
from runtime.model import NOTE_KEY

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "artifacts" / "model.npz"
DEFAULT_COMPARE_OUT = PROJECT_ROOT / "compare"


def _recipe_help() -> str:
    lines = [f"{name}: {recipe.summary}" for name, recipe in RECIPES.items()]
    return "built-in recipe; 'best' is " + BEST_RECIPE + ". Recipes: " + "; ".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("SPAM_DATA") or None,
        help="spam.csv (Kaggle), SMSSpamCollection (UCI, tab-separated) or the UCI zip; "
        "unset: $SPAM_DATA, else download --data-url",
    )
    parser.add_argument(
        "--positive-label",
        metavar="LABEL",
        help="with --data: the label (any case) that means spam when the file's two labels "
        "are not spam/ham, 1/0 or true/false",
    )
    parser.add_argument(
        "--data-url",
        default=os.environ.get("SPAM_DATA_URL", UCI_URL),
        help="where to download the collection when no --data is given",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=default_cache_dir(), help="download cache"
    )
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT, help="model file")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help=_recipe_help())
    parser.add_argument(
        "--test-size", type=float, default=0.1, help="share of messages held out for the report"
    )
    parser.add_argument("--random-state", type=int, default=42, help="seed of the train/test split")
    parser.add_argument(
        "--vectorizer-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a TfidfVectorizer parameter of a single-vectorizer recipe; VALUE is "
        "JSON or a tuple, e.g. ngram_range=(1,2), stop_words=english, lowercase=false",
    )
    parser.add_argument(
        "--max-ham-flagged",
        type=float,
        metavar="RATE",
        help="store a decision threshold chosen by cross-validation on the training split so "
        "that at most RATE (e.g. 0.005) of ham is flagged as spam; unset: scikit-learn's cut",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="rank every built-in recipe (or --recipes) with exporter/evaluate.py's grouped "
        "protocol and print its table; then train each on the same split for the file size, "
        "single-message latency and precision-recall curves, written (CSV, Markdown, PNG) to "
        "--compare-out; no model file is written",
    )
    parser.add_argument(
        "--compare-out", type=Path, default=DEFAULT_COMPARE_OUT, help="--compare's output folder"
    )
    parser.add_argument(
        "--recipes", metavar="A,B", help="--compare only these recipes (comma-separated)"
    )
    parser.add_argument(
        "--learnable",
        action="store_true",
        help="store what learning from reports needs (naive Bayes counts, settings and a "
        "golden set from the test split; see docs/learning.md); the learnable recipe always does",
    )
    parser.add_argument(
        "--upload",
        metavar="S3_URI",
        help="after exporting, upload the file to s3://bucket/key (see exporter/upload.py)",
    )
    return parser.parse_args(argv)


def vectorizer_params(overrides: list[str]) -> dict[str, Any]:
    """NAME=VALUE pairs; VALUE is JSON, a Python-style tuple ``(1,2)``, or a bare word."""
    params: dict[str, Any] = {}
    for item in overrides:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--vectorizer-param expects NAME=VALUE, got {item!r}")
        text = raw.strip()
        if text.startswith("(") and text.endswith(")"):
            text = "[" + text[1:-1].rstrip(", ") + "]"
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = {"true": True, "false": False, "none": None}.get(text.lower(), raw)
        if name == "ngram_range":
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError(
                    f"--vectorizer-param ngram_range expects two integers such as (1,2) "
                    f"or [1,2], got {raw!r}"
                )
            value = tuple(value)
        params[name.strip()] = value
    return params


def load_data(args: argparse.Namespace) -> Dataset:
    if args.data is not None:
        return load_dataset_file(args.data, positive_label=args.positive_label)
    return fetch_dataset(args.data_url, args.cache_dir)


def check_options(args: argparse.Namespace) -> None:
    """Refusals that need no data: before anything is read or trained."""
    rate = args.max_ham_flagged
    if rate is not None and not 0.0 <= rate < 1.0:
        raise ValueError(
            f"--max-ham-flagged must be a rate from 0 to below 1 (0.005 is 0.5%), got {rate:g}"
        )


def check_settings(model: Any) -> None:
    """Refuse unsupported vectorizer settings before any data is read or fitted."""
    steps = list(model) if isinstance(model, tuple) else [s for _, s in model.steps]
    for step in steps:
        if hasattr(step, "build_analyzer"):
            check_vectorizer(step)


def run_compare(args: argparse.Namespace) -> int:
    from exporter.compare import compare_recipes, markdown_table, resolve_recipes, write_outputs
    from exporter.evaluate import Progress, evaluate_recipe
    from exporter.evaluate import markdown_table as grouped_table

    recipes = resolve_recipes(args.recipes)
    dataset = load_data(args)
    progress = Progress(10 * len(recipes))
    grouped = [
        evaluate_recipe(name, dataset, measure_size=False, progress=progress) for name in recipes
    ]
    print(
        "Grouped protocol (exporter/evaluate.py: 2 x stratified group 5-fold, "
        "mean ± sd; this ranks recipes):"
    )
    print(grouped_table(grouped))
    print("\nOne split (file size, latency, curves; its figures include test texts copied "
          "in training):")  # fmt: skip
    rows, curves = compare_recipes(
        dataset, recipes, test_size=args.test_size, random_state=args.random_state
    )
    n_test = math.ceil(len(dataset.texts) * args.test_size)  # as train_test_split rounds
    header = (
        f"{len(dataset.texts)} messages from `{Path(dataset.source).name}`, the same split for "
        f"every recipe (test_size={args.test_size}, random_state={args.random_state}: "
        f"{n_test} test messages); latency: median `Model.classify([text])` over "
        f"single test messages, plain-Python path, {platform.python_implementation()} "
        f"{platform.python_version()}."
    )
    print(markdown_table(rows))
    paths = write_outputs(rows, curves, args.compare_out, header=header)
    for kind, path in paths.items():
        print(f"{kind:<4} {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return run_compare(args)
    if args.recipes:
        raise ValueError("--recipes applies to --compare; use --recipe for one export")
    try:
        params = vectorizer_params(args.vectorizer_param)
        config = TrainingConfig(
            recipe=args.recipe,
            test_size=args.test_size,
            random_state=args.random_state,
            vectorizer_params=params,
        )
        unfitted = build(config)
    except TypeError as exc:  # an unknown keyword for TfidfVectorizer
        raise ValueError(f"--vectorizer-param: {exc}") from None
    check_settings(unfitted)
    check_options(args)
    dataset = load_data(args)
    if args.max_ham_flagged is not None and set(dataset.labels) != {"ham", "spam"}:
        raise ValueError(
            f"--max-ham-flagged applies to spam/ham data; this file has "
            f"{len(set(dataset.labels))} classes"
        )
    print(f"training {config.recipe} on {len(dataset.texts)} messages ...", file=sys.stderr)
    try:
        trained = train(dataset, config, unfitted)
    except ValueError as exc:  # scikit-learn's own refusal, e.g. an empty vocabulary
        raise ValueError(
            f"training failed: {type(exc).__name__} (check --vectorizer-param)"
        ) from None
    _, _, predicted = sklearn_outputs(trained.model, trained.test_texts)
    classes = sorted(set(trained.test_labels) | set(predicted))
    metrics = evaluate(trained.test_labels, predicted, classes)
    deduplicated = without_copies(trained, predicted, classes)
    metadata: dict[str, Any] = {
        "training": {
            "recipe": trained.recipe,
            "data_sha256": dataset.sha256,
            "rows": len(dataset.texts),
            "n_train": trained.n_train,
            "n_test": len(trained.test_texts),
            "test_size": config.test_size,
            "random_state": config.random_state,
            "python": platform.python_version(),
        },
        "metrics": metrics.as_dict(),
        "metrics_without_copies": deduplicated.as_dict(),
    }
    choice, threshold_metrics = None, None
    if args.max_ham_flagged is not None:
        choice, threshold_metrics = tune_threshold(trained, config, args.max_ham_flagged)
        metadata.update(choice.metadata())
        metadata["metrics_at_threshold"] = threshold_metrics.as_dict()
    note = unknown_words_note(trained, choice)
    if note is not None:  # kept in the file: /health says it too
        metadata[NOTE_KEY] = note
    print("checking the runtime against scikit-learn on the test split ...", file=sys.stderr)
    parity_error = None
    try:
        learnable = args.learnable or resolve_recipe(config.recipe).learnable
        exported = export_pipeline(
            trained.model,
            texts=trained.test_texts,
            metadata=metadata,
            learnable=learnable,
            golden=(trained.test_texts, trained.test_labels) if learnable else None,
        )
    except ExportParityError as exc:
        parity_error = str(exc)
    print(
        format_report(
            source=dataset.source,
            recipe=trained.recipe,
            n_rows=len(dataset.texts),
            n_train=trained.n_train,
            metrics=metrics,
            parity_error=parity_error,
            artifact=str(args.output),
            size_bytes=None if parity_error else len(exported.data),
            sha256=None if parity_error else exported.sha256,
            threshold=choice,
            threshold_metrics=threshold_metrics,
            deduplicated=deduplicated,
            reproduction=(trained.recipe, params, config.test_size, config.random_state)
            == (DEFAULT_RECIPE, {}, 0.1, 42),
        )
    )
    if parity_error:
        print("error: runtime disagrees with scikit-learn; artifact not written", file=sys.stderr)
        return 1
    majority = max(metrics.support.values()) / metrics.n_test
    if metrics.accuracy <= majority:
        print(
            f"warning: test accuracy {metrics.accuracy:.4f} is not above always answering the "
            f"most common label ({majority:.4f}); check the recipe's settings",
            file=sys.stderr,
        )
    save(exported.data, args.output)
    if note is not None:
        print(f"note: {note}")
    if args.upload:
        return upload(args.output, args.upload)
    return 0


def without_copies(trained: TrainedModel, predicted: list[Any], classes: list[str]) -> Metrics:
    """The test metrics over the test texts that have no copy in the training split."""
    seen = {group_key(text) for text in trained.train_texts}
    kept = [i for i, text in enumerate(trained.test_texts) if group_key(text) not in seen]
    return evaluate([trained.test_labels[i] for i in kept], [predicted[i] for i in kept], classes)


def unknown_words_note(trained: TrainedModel, choice: ThresholdChoice | None) -> str | None:
    """One line when a message with no known word (an empty one, a word never seen in
    training) gets a label other than the most common one: the tutorial's GaussianNB calls
    them all spam. None when the model answers them with the common label."""
    classes = sorted(set(trained.train_labels))
    if choice is None:
        _, _, labels = sklearn_outputs(trained.model, [""])
    else:
        labels = labels_at(decision_scores(trained.model, [""]), choice.value, classes)
    label = labels[0]
    common, _ = Counter(trained.train_labels).most_common(1)[0]
    if label == common:
        return None
    return (
        f"this model classifies every message with no word it knows as {label!r} "
        f"(most messages are {common!r}); serve --recipe best ({BEST_RECIPE}) instead"
    )


def tune_threshold(
    trained: TrainedModel, config: TrainingConfig, rate: float
) -> tuple[ThresholdChoice, Metrics]:
    """Choose the threshold on the training split; measure it on the test split."""
    print(
        f"choosing a threshold for <= {rate:.2%} ham flagged by cross-validation "
        "on the training split ...",
        file=sys.stderr,
    )
    choice = choose_threshold(
        build(config),
        trained.train_texts,
        trained.train_labels,
        rate,
        random_state=config.random_state,
    )
    classes = sorted(set(trained.train_labels))
    scores = decision_scores(trained.model, trained.test_texts)
    predicted = labels_at(scores, choice.value, classes)
    return choice, evaluate(trained.test_labels, predicted, classes)


def upload(path: Path, s3_uri: str) -> int:
    from exporter.upload import UploadError, upload_model  # boto3 only when uploading

    try:
        result = upload_model(
            path, s3_uri, endpoint_url=os.environ.get("MODEL_S3_ENDPOINT_URL") or None
        )
    except UploadError as exc:
        print(f"error: upload failed: {exc}", file=sys.stderr)
        return 1
    print(f"uploaded        {result.uri}\n{result.env_lines()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (DatasetError, UnsupportedModelError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
