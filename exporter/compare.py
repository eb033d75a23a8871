"""``export.py --compare``: every built-in recipe on the same split, side by side.

Each recipe is trained on the same training split, exported (with the runtime checked
against scikit-learn on the test split, as a real export), and measured on the test
split: accuracy; spam precision, recall and F1; the share of ham flagged; ROC AUC of
its decision score (runtime/decision.py: every family has one); the Brier score of its
probabilities, where it has them (how far they are from calibrated); the file's size;
and the single-message latency of ``Model.classify`` (median over ``latency_messages``
test messages, each timed alone), both measured by exporter/footprint.py, which the
benchmarks use too. Writes the table as CSV and Markdown and the precision-recall curves
as a PNG.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from exporter.dataset import Dataset
from exporter.footprint import measure_footprint
from exporter.pipeline import export_pipeline, sklearn_outputs
from exporter.protocol import METRIC_HEADINGS
from exporter.report import POSITIVE, evaluate, size_text
from exporter.threshold import decision_scores
from exporter.train import RECIPES, TrainingConfig, train
from runtime.model import Model

LATENCY_MESSAGES = 200


@dataclass(frozen=True)
class Row:
    recipe: str
    family: str
    accuracy: float
    spam_precision: float
    spam_recall: float
    spam_f1: float
    ham_flagged: float
    roc_auc: float | None
    average_precision: float | None
    brier: float | None  # mean (P(spam) - truth)^2 where the model has probabilities
    model_bytes: int
    latency_us: float  # median single-message Model.classify, plain path
    score: str  # which score ROC AUC and the curve rank by


@dataclass(frozen=True)
class Curve:
    recipe: str
    precision: np.ndarray
    recall: np.ndarray


def resolve_recipes(names: str | None) -> list[str]:
    """All built-in recipes, or the comma-separated ones asked for (unknown ones refused)."""
    if not names:
        return list(RECIPES)
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in RECIPES]
    if unknown or not chosen:
        raise ValueError(f"--recipes: unknown {unknown}; choose from {', '.join(RECIPES)}")
    return chosen


def _brier(model: Model, outputs: dict[str, np.ndarray], truth: np.ndarray) -> float | None:
    """Brier score of P(spam): low only if probabilities are both sharp and calibrated."""
    if not model.family.has_proba or "predict_proba" not in outputs:
        return None
    column = list(model.classes).index(POSITIVE)
    return float(np.mean((outputs["predict_proba"][:, column] - truth) ** 2))


def compare_recipes(
    dataset: Dataset,
    recipes: Sequence[str],
    *,
    test_size: float = 0.1,
    random_state: int = 42,
    latency_messages: int = LATENCY_MESSAGES,
    progress: bool = True,
) -> tuple[list[Row], list[Curve]]:
    rows, curves = [], []
    for name in recipes:
        if progress:
            print(f"comparing: training {name} ...", flush=True, file=sys.stderr)
        config = TrainingConfig(recipe=name, test_size=test_size, random_state=random_state)
        trained = train(dataset, config)
        exported = export_pipeline(trained.model, texts=trained.test_texts)
        _, outputs, predicted = sklearn_outputs(trained.model, trained.test_texts)
        classes = sorted(set(trained.test_labels) | set(predicted))
        metrics = evaluate(trained.test_labels, predicted, classes)
        truth = np.array([label == POSITIVE for label in trained.test_labels])
        scores = decision_scores(trained.model, trained.test_texts)
        both = 0 < truth.sum() < len(truth)
        precision, recall, _ = precision_recall_curve(truth, scores)
        footprint = measure_footprint(exported.data, trained.test_texts[:latency_messages])
        rows.append(
            Row(
                recipe=name,
                family=exported.model.family_name,
                accuracy=metrics.accuracy,
                spam_precision=metrics.spam_precision,
                spam_recall=metrics.spam_recall,
                spam_f1=metrics.spam_f1,
                ham_flagged=metrics.ham_flagged,
                roc_auc=float(roc_auc_score(truth, scores)) if both else None,
                average_precision=float(average_precision_score(truth, scores)) if both else None,
                brier=_brier(exported.model, outputs, truth),
                model_bytes=footprint.model_bytes,
                latency_us=footprint.median_latency_us,
                score=exported.model.family.score_name,
            )
        )
        curves.append(Curve(name, precision, recall))
    return rows, curves


HEADERS = {
    "recipe": "recipe",
    "family": "family",
    **METRIC_HEADINGS,
    "average_precision": "avg precision",
    "brier": "Brier (P(spam))",
    "model_bytes": "model file",
    "latency_us": "1-message latency",
    "score": "scored by",
}


def _cell(field: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if field == "ham_flagged":
        return f"{value:.2%}"
    if field == "model_bytes":
        return size_text(value)
    if field == "latency_us":
        return f"{value:.1f} µs"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def markdown_table(rows: Sequence[Row]) -> str:
    names = [f.name for f in fields(Row)]
    numeric = {n for n in names if n not in ("recipe", "family", "score")}
    lines = [
        "| " + " | ".join(HEADERS[n] for n in names) + " |",
        "|" + "|".join("---:" if n in numeric else "---" for n in names) + "|",
    ]
    lines += ["| " + " | ".join(_cell(n, getattr(r, n)) for n in names) + " |" for r in rows]
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))


def write_png(curves: Sequence[Curve], rows: Sequence[Row], path: Path) -> None:
    """Precision-recall curves of every recipe's decision score on the test split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (whole, zoom) = plt.subplots(1, 2, figsize=(13, 5.5), dpi=100)
    by_name = {row.recipe: row for row in rows}
    for curve in curves:
        row = by_name[curve.recipe]
        ap = "n/a" if row.average_precision is None else f"{row.average_precision:.3f}"
        for axes in (whole, zoom):
            axes.step(
                curve.recall, curve.precision, where="post", label=f"{curve.recipe} (AP {ap})"
            )
    for axes, low, title in ((whole, 0.0, "whole range"), (zoom, 0.8, "top right corner")):
        axes.set_xlabel("spam recall")
        axes.set_ylabel("spam precision")
        axes.set_xlim(low, 1.005)
        axes.set_ylim(low, 1.005)
        axes.set_title(f"Precision-recall on the test split ({title})")
        axes.grid(alpha=0.3)
    whole.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(figure)


def write_outputs(
    rows: Sequence[Row], curves: Sequence[Curve], out: Path, *, header: str = ""
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "compare.csv", "md": out / "compare.md", "png": out / "compare.png"}
    write_csv(rows, paths["csv"])
    paths["md"].write_text((header + "\n\n" if header else "") + markdown_table(rows) + "\n")
    write_png(curves, rows, paths["png"])
    return paths
