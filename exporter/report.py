"""Test-split metrics and the printed export report."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


@dataclass(frozen=True)
class Metrics:
    n_test: int
    accuracy: float
    n_correct: int
    spam_precision: float
    spam_recall: float
    spam_f1: float
    confusion: list[list[int]]  # rows = true label, columns = predicted, in `labels` order
    labels: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(true_labels: list[str], predicted: list[str], classes: list[str]) -> Metrics:
    precision, recall, f1, _ = precision_recall_fscore_support(
        true_labels, predicted, labels=["spam"], zero_division=0
    )
    return Metrics(
        n_test=len(true_labels),
        accuracy=float(accuracy_score(true_labels, predicted)),
        n_correct=int(sum(t == p for t, p in zip(true_labels, predicted, strict=True))),
        spam_precision=float(precision[0]),
        spam_recall=float(recall[0]),
        spam_f1=float(f1[0]),
        confusion=confusion_matrix(true_labels, predicted, labels=classes).tolist(),
        labels=classes,
    )


def format_report(
    *,
    source: str,
    n_rows: int,
    n_train: int,
    n_features: int,
    metrics: Metrics,
    parity_differences: int,
    artifact: str,
    size_bytes: int,
    sha256: str,
) -> str:
    width = max(len(label) for label in metrics.labels) + 2
    header = " " * (width + 7) + "".join(f"{'pred ' + lbl:>{width + 5}}" for lbl in metrics.labels)
    matrix = [header] + [
        f"  true {label:<{width}}" + "".join(f"{n:>{width + 5}}" for n in row)
        for label, row in zip(metrics.labels, metrics.confusion, strict=True)
    ]
    parity = (
        "OK (0 label differences)"
        if parity_differences == 0
        else f"FAILED ({parity_differences} label differences)"
    )
    lines = [
        f"data            {source}",
        f"rows            {n_rows} ({n_train} train, {metrics.n_test} test)",
        f"vocabulary      {n_features} terms",
        f"test accuracy   {metrics.accuracy!r} ({metrics.n_correct} of {metrics.n_test})",
        f"spam precision  {metrics.spam_precision:.4f}",
        f"spam recall     {metrics.spam_recall:.4f}",
        f"spam F1         {metrics.spam_f1:.4f}",
        "confusion matrix",
        *matrix,
        f"runtime parity  {parity} on the test split vs scikit-learn",
        f"artifact        {artifact} ({size_bytes / 1024:.1f} KiB)",
        f"sha256          {sha256}",
    ]
    return "\n".join(lines)
