"""Test-split metrics and the printed export report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

if TYPE_CHECKING:
    from exporter.threshold import ThresholdChoice

POSITIVE = "spam"


@dataclass(frozen=True)
class Metrics:
    n_test: int
    accuracy: float
    n_correct: int
    spam_precision: float
    spam_recall: float
    spam_f1: float
    ham_flagged: float  # share of true ham predicted spam: the cost an operator sees
    confusion: list[list[int]]  # rows = true label, columns = predicted, in `labels` order
    labels: list[str]
    support: dict[str, int]  # true messages per label
    # label -> precision, recall, f1: what a multi-class model is judged by (spam_* are 0)
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(true_labels: list[str], predicted: list[str], classes: list[str]) -> Metrics:
    precision, recall, f1, _ = precision_recall_fscore_support(
        true_labels, predicted, labels=[POSITIVE], zero_division=0
    )
    ham = [p for t, p in zip(true_labels, predicted, strict=True) if t != POSITIVE]
    return Metrics(
        n_test=len(true_labels),
        accuracy=float(accuracy_score(true_labels, predicted)),
        n_correct=int(sum(t == p for t, p in zip(true_labels, predicted, strict=True))),
        spam_precision=float(precision[0]),
        spam_recall=float(recall[0]),
        spam_f1=float(f1[0]),
        ham_flagged=sum(p == POSITIVE for p in ham) / len(ham) if ham else 0.0,
        confusion=confusion_matrix(true_labels, predicted, labels=classes).tolist(),
        labels=classes,
        support={label: true_labels.count(label) for label in classes},
        per_class=per_class_metrics(true_labels, predicted, classes),
    )


def per_class_metrics(
    true_labels: list[str], predicted: list[str], classes: list[str]
) -> dict[str, dict[str, float]]:
    precision, recall, f1, _ = precision_recall_fscore_support(
        true_labels, predicted, labels=classes, zero_division=0
    )
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f)}
        for label, p, r, f in zip(classes, precision, recall, f1, strict=True)
    }


def format_report(
    *,
    source: str,
    recipe: str,
    n_rows: int,
    n_train: int,
    metrics: Metrics,
    parity_error: str | None,
    artifact: str,
    size_bytes: int | None,
    sha256: str | None,
    threshold: ThresholdChoice | None = None,
    threshold_metrics: Metrics | None = None,
    deduplicated: Metrics | None = None,
    reproduction: bool = False,
) -> str:
    width = max(len(label) for label in metrics.labels) + 2
    header = " " * (width + 7) + "".join(f"{'pred ' + lbl:>{width + 5}}" for lbl in metrics.labels)
    matrix = [header] + [
        f"  true {label:<{width}}" + "".join(f"{n:>{width + 5}}" for n in row)
        for label, row in zip(metrics.labels, metrics.confusion, strict=True)
    ]
    parity = "OK (0 label differences)" if parity_error is None else f"FAILED ({parity_error})"
    lines = [
        f"data            {source}",
        f"recipe          {recipe}",
        f"rows            {n_rows} ({n_train} train, {metrics.n_test} test)",
        f"test accuracy   {metrics.accuracy!r} ({metrics.n_correct} of {metrics.n_test})"
        + (": the seed's reproduction" if reproduction else ""),
        *(_spam_lines(metrics) if _is_spam_ham(metrics) else _per_class_lines(metrics)),
        "confusion matrix",
        *matrix,
        f"runtime parity  {parity} on the test split vs scikit-learn",
    ]
    if deduplicated is not None:
        lines += format_deduplicated(metrics, deduplicated)
    if threshold is not None and threshold_metrics is not None:
        lines += format_threshold(threshold, metrics, threshold_metrics)
    if size_bytes is not None:
        lines.append(f"artifact        {artifact} ({size_bytes / 1024:.1f} KiB)")
        lines.append(f"sha256          {sha256}")
    return "\n".join(lines)


def size_text(size: int) -> str:
    """A model file's size as the tables print it."""
    return f"{size / 1024:.0f} KiB" if size < 2**20 else f"{size / 2**20:.2f} MiB"


def format_deduplicated(split: Metrics, deduplicated: Metrics) -> list[str]:
    """The split's metrics beside those on the test texts that have no copy in training."""
    rows = [
        ("test messages", split.n_test, deduplicated.n_test, "{}"),
        ("accuracy", split.accuracy, deduplicated.accuracy, "{:.4f}"),
        ("spam precision", split.spam_precision, deduplicated.spam_precision, "{:.4f}"),
        ("spam recall", split.spam_recall, deduplicated.spam_recall, "{:.4f}"),
        ("spam F1", split.spam_f1, deduplicated.spam_f1, "{:.4f}"),
        ("ham flagged", split.ham_flagged, deduplicated.ham_flagged, "{:.2%}"),
    ]
    return [
        "without copies  the test texts that also occur in training (up to case and "
        "whitespace) removed;",
        "                exporter/evaluate.py measures recipes without copies on all the data",
        f"  {'':<18}{'split':>10}{'no copies':>12}",
        *(f"  {name:<18}{fmt.format(a):>10}{fmt.format(b):>12}" for name, a, b, fmt in rows),
    ]


def _is_spam_ham(metrics: Metrics) -> bool:
    return set(metrics.labels) <= {"ham", POSITIVE}


def _spam_lines(metrics: Metrics) -> list[str]:
    return [
        f"spam precision  {metrics.spam_precision:.4f}",
        f"spam recall     {metrics.spam_recall:.4f}",
        f"spam F1         {metrics.spam_f1:.4f}",
        f"ham flagged     {metrics.ham_flagged:.2%}",
    ]


def _per_class_lines(metrics: Metrics) -> list[str]:
    width = max(len(label) for label in metrics.labels) + 2
    lines = [f"per class       {'':<{width}}precision  recall      F1  support"]
    for label, scores in metrics.per_class.items():
        lines.append(
            f"                {label:<{width}}{scores['precision']:>9.4f}{scores['recall']:>8.4f}"
            f"{scores['f1']:>8.4f}{metrics.support[label]:>9}"
        )
    return lines


def format_threshold(choice: ThresholdChoice, default: Metrics, tuned: Metrics) -> list[str]:
    """The test metrics at the chosen threshold next to scikit-learn's default cut."""
    rows = [
        ("test accuracy", default.accuracy, tuned.accuracy, "{:.4f}"),
        ("spam precision", default.spam_precision, tuned.spam_precision, "{:.4f}"),
        ("spam recall", default.spam_recall, tuned.spam_recall, "{:.4f}"),
        ("spam F1", default.spam_f1, tuned.spam_f1, "{:.4f}"),
        ("ham flagged", default.ham_flagged, tuned.ham_flagged, "{:.2%}"),
    ]
    return [
        f"threshold       {choice.score} > {choice.value!r} answers {choice.positive!r}",
        f"  chosen for    at most {choice.max_ham_flagged:.2%} ham flagged, by "
        f"{choice.folds}-fold cross-validation on the training split "
        f"(there: {choice.cv_ham_flagged:.2%} ham flagged, spam recall {choice.cv_recall:.4f})",
        f"  {'on the test split':<18}{'default':>10}{'threshold':>12}",
        *(f"  {name:<18}{fmt.format(a):>10}{fmt.format(b):>12}" for name, a, b, fmt in rows),
    ]
