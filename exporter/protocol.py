"""The grouped protocol: repeated stratified group k-fold, where a group is a normalised text.

The SMS collection holds the same message many times (5,572 rows, 5,157 distinct texts
once case and whitespace are normalised). A random split puts copies on both sides and
the test measures memory, not generalisation; grouping by normalised text keeps every
copy of a text in the same fold. Repeating the k-fold with other shuffles gives a spread,
so two recipes that differ by one message are not ranked as if they differed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from exporter.report import POSITIVE

DEFAULT_FOLDS = 5
DEFAULT_REPEATS = 2
# Each figure a fold reports, with the heading evaluate's and compare's tables give it.
METRIC_HEADINGS = {
    "accuracy": "accuracy",
    "spam_precision": "spam precision",
    "spam_recall": "spam recall",
    "spam_f1": "spam F1",
    "ham_flagged": "ham flagged",
    "roc_auc": "ROC AUC",
}
METRICS = tuple(METRIC_HEADINGS)


def group_key(text: str) -> str:
    """Copies of one message: the same text up to case and runs of whitespace."""
    return " ".join(text.casefold().split())


def groups_of(texts: Sequence[str]) -> np.ndarray:
    """One integer per text; texts with the same ``group_key`` share it."""
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(group_key(t), len(ids)) for t in texts], dtype=np.int64)


def duplicates_grouped(texts: Sequence[str]) -> int:
    """Rows that are a copy of an earlier row: what a random split could leak."""
    return len(texts) - len(set(map(group_key, texts)))


@dataclass(frozen=True)
class Fold:
    repeat: int
    index: int
    train: np.ndarray  # row indices
    test: np.ndarray


def grouped_folds(
    labels: Sequence[str],
    groups: np.ndarray,
    *,
    folds: int = DEFAULT_FOLDS,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
) -> Iterator[Fold]:
    """``repeats`` shuffles of stratified group k-fold: no group is on both sides."""
    rows = np.zeros(len(labels))
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        for index, (train, test) in enumerate(splitter.split(rows, list(labels), groups)):
            yield Fold(repeat, index, train, test)


def fold_metrics(
    true_labels: Sequence[str], predicted: Sequence[str], scores: np.ndarray | None
) -> dict[str, float | None]:
    """One fold's figures; ``roc_auc`` is None without scores or with one class only."""
    truth = np.array([label == POSITIVE for label in true_labels])
    flagged = np.array([label == POSITIVE for label in predicted])
    tp = int(np.sum(truth & flagged))
    n_flagged, n_spam, n_ham = int(flagged.sum()), int(truth.sum()), int((~truth).sum())
    precision = tp / n_flagged if n_flagged else 0.0
    recall = tp / n_spam if n_spam else 0.0
    both = 0 < n_spam < len(truth)
    return {
        "accuracy": float(np.mean(truth == flagged)) if len(truth) else 0.0,
        "spam_precision": precision,
        "spam_recall": recall,
        "spam_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "ham_flagged": int(np.sum(~truth & flagged)) / n_ham if n_ham else 0.0,
        "roc_auc": float(roc_auc_score(truth, scores)) if scores is not None and both else None,
    }


@dataclass(frozen=True)
class Spread:
    mean: float
    sd: float  # sample standard deviation over the folds (0 for a single fold)
    n: int

    def as_json(self) -> dict[str, float | int]:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}


def summarise(per_fold: Sequence[dict[str, float | None]]) -> dict[str, Spread | None]:
    """Mean ± sd of each metric over the folds where it is defined."""
    summary: dict[str, Spread | None] = {}
    for name in METRICS:
        values = [v for fold in per_fold if (v := fold.get(name)) is not None]
        if not values:
            summary[name] = None
            continue
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[name] = Spread(statistics.fmean(values), sd, len(values))
    return summary
