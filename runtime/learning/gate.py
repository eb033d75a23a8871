"""The gate: a learned model replaces the serving one only if the golden set says so.

The golden set is labelled messages from the export's held-out split, stored in the
learnable file. Both models classify it (thresholds applied, as served); the learned one
is refused if the share of ham it flags rises by more than ``max_ham_flagged_rise``, or
its spam recall falls by more than ``max_spam_recall_fall``. With the tutorial split's
491 ham and 67 spam messages, the defaults let no further golden message go wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.model import Model


@dataclass(frozen=True)
class GateSettings:
    max_ham_flagged_rise: float = 0.002
    max_spam_recall_fall: float = 0.005


def positive_negative(model: Model) -> tuple[str | int, str | int]:
    """(spam-like, ham-like) classes: the threshold's positive class, else "spam"/"ham"."""
    classes = model.classes
    threshold = model.threshold
    positive = (
        threshold["positive"] if threshold else ("spam" if "spam" in classes else classes[-1])
    )
    negative = (
        "ham"
        if "ham" in classes and positive != "ham"
        else next(c for c in classes if c != positive)
    )
    return positive, negative


def rates(
    model: Model, golden: tuple[tuple[str | int, str], ...]
) -> tuple[list[Any], float, float]:
    """(predicted labels, ham flagged rate, spam recall) on the golden set."""
    positive, negative = positive_negative(model)
    predicted = [p["label"] for p in model.classify([text for _, text in golden])]
    ham = [p for (label, _), p in zip(golden, predicted, strict=True) if label == negative]
    spam = [p for (label, _), p in zip(golden, predicted, strict=True) if label == positive]
    flagged = sum(p != negative for p in ham) / len(ham) if ham else 0.0
    recall = sum(p == positive for p in spam) / len(spam) if spam else 1.0
    return predicted, flagged, recall


def judge(
    serving: Model,
    candidate: Model,
    golden: tuple[tuple[str | int, str], ...],
    settings: GateSettings,
) -> dict[str, Any]:
    """The gate's figures; ``passed`` says whether ``candidate`` may be promoted."""
    if not golden:
        return {"passed": False, "reason": "no_golden_set", "golden": 0}
    before, flagged_before, recall_before = rates(serving, golden)
    after, flagged_after, recall_after = rates(candidate, golden)
    reason = None
    if flagged_after - flagged_before > settings.max_ham_flagged_rise:
        reason = "ham_flagged_rose"
    elif recall_before - recall_after > settings.max_spam_recall_fall:
        reason = "spam_recall_fell"
    return {
        "passed": reason is None,
        "reason": reason,
        "golden": len(golden),
        "changed": sum(a != b for a, b in zip(before, after, strict=True)),
        "ham_flagged_before": round(flagged_before, 6),
        "ham_flagged_after": round(flagged_after, 6),
        "spam_recall_before": round(recall_before, 6),
        "spam_recall_after": round(recall_after, 6),
        "max_ham_flagged_rise": settings.max_ham_flagged_rise,
        "max_spam_recall_fall": settings.max_spam_recall_fall,
    }
