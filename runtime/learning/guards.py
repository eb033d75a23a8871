"""Which new reports may be learned: the guard rails against poisoning and mistakes.

Modelled on rspamd's learning conditions. Each rail refuses a report with a named reason
(the summary counts them). A report refused for a reason that a later run would find
again (``unknown_label``, ``reporter_cap``: its received_at is fixed, ``already_confident``)
is listed in ``Selection.retire`` and the learner retires it, so it cannot take a later
run's place; one refused for a reason that can change (``class_balance``,
``learned_share_cap``) stays in the inbox and is examined again. Reports are taken in
the order they were received (then by id), so the outcome is a function of the store
and the serving model.

- ``unknown_label``: the label is not one of the model's classes.
- ``reporter_cap``: a reporter (API key id, IAM principal or local header) gets at most
  ``reporter_cap`` reports examined past this rail per ``reporter_window_s`` of
  ``received_at``, learned ones included.
- ``already_confident``: the serving model already gives the reported class at least
  ``confident`` probability (rspamd: "already in class"), so the report adds little
  and a flood of such reports cannot inflate the counts.
- ``class_balance``: after learning, each class's share of the learned model's class
  counts stays within ``max_prior_shift`` of its share at export.
- ``learned_share_cap``: per class, the feature counts of all learned reports stay at most
  ``max_learned_share`` of the export's.
- ``too_few_reports``: fewer than ``min_new_reports`` passed the rails: nothing changes yet.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from runtime.learning.counts import binarized
from runtime.learning.relearn import LearnableModel, chunks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.reports import Report


@dataclass(frozen=True)
class GuardSettings:
    min_new_reports: int = 5
    reporter_cap: int = 10
    reporter_window_s: int = 24 * 3600
    confident: float = 0.95
    max_prior_shift: float = 0.05
    max_learned_share: float = 0.25


@dataclass
class Selection:
    accepted: list[Report]
    skipped: Counter[str]
    waiting: int = 0  # passed every rail but fewer than min_new_reports did: kept for later
    retire: dict[str, list[str]] = field(default_factory=dict)  # reason -> ids refused for good

    def refuse_for_good(self, reason: str, report: Report) -> None:
        self.skipped[reason] += 1
        self.retire.setdefault(reason, []).append(report.report_id)


def received_seconds(report: Report) -> int:
    return calendar.timegm(time.strptime(report.received_at, "%Y-%m-%dT%H:%M:%SZ"))


def select(
    model: LearnableModel,
    learned: Sequence[Report],
    candidates: Sequence[Report],
    settings: GuardSettings,
) -> Selection:
    """The candidates that may join ``learned`` (the serving model's learned reports)."""
    selection = Selection([], Counter())
    ordered = sorted(candidates, key=lambda r: (r.received_at, r.report_id))
    known = []
    for report in ordered:
        if model.label_index(report.label) is None:
            selection.refuse_for_good("unknown_label", report)
        else:
            known.append(report)
    capped = _reporter_cap(learned, known, settings, selection)
    fresh = _not_confident(model, capped, settings, selection)
    accepted = _within_balance_and_share(model, learned, fresh, settings, selection.skipped)
    if len(accepted) < settings.min_new_reports:
        selection.waiting = len(accepted)
    else:
        selection.accepted = accepted
    return selection


def _reporter_cap(
    learned: Sequence[Report],
    candidates: list[Report],
    settings: GuardSettings,
    selection: Selection,
) -> list[Report]:
    window = settings.reporter_window_s

    def bucket(report: Report) -> tuple[str, int]:
        return report.reporter, received_seconds(report) // window

    used = Counter(bucket(r) for r in learned)
    kept = []
    for report in candidates:
        key = bucket(report)
        if used[key] >= settings.reporter_cap:
            selection.refuse_for_good("reporter_cap", report)
            continue
        used[key] += 1
        kept.append(report)
    return kept


def _not_confident(
    model: LearnableModel,
    candidates: list[Report],
    settings: GuardSettings,
    selection: Selection,
) -> list[Report]:
    if not candidates or not model.model.family.has_proba:
        return candidates
    proba = np.concatenate(
        [model.model.predict_proba([r.text for r in chunk]) for chunk in chunks(candidates)]
    )
    kept = []
    for report, row in zip(candidates, proba, strict=True):
        index = model.label_index(report.label)
        assert index is not None
        if row[index] >= settings.confident:
            selection.refuse_for_good("already_confident", report)
        else:
            kept.append(report)
    return kept


def _within_balance_and_share(
    model: LearnableModel,
    learned: Sequence[Report],
    candidates: list[Report],
    settings: GuardSettings,
    skipped: Counter[str],
) -> list[Report]:
    if not candidates:
        return []
    base_classes = model.base_class_count
    export_share = base_classes / base_classes.sum()
    base_mass = model.base_feature_count.sum(axis=1)
    classes = base_classes.copy()
    mass = np.zeros_like(base_mass)
    if learned:
        learned_features, learned_classes = model.counts(learned)
        classes = learned_classes
        mass = learned_features.sum(axis=1) - base_mass
    binarize = model.section.settings["binarize"]
    row_mass = np.concatenate([_row_mass(model, chunk, binarize) for chunk in chunks(candidates)])
    kept = []
    for i, report in enumerate(candidates):
        k = model.label_index(report.label)
        assert k is not None
        trial = classes.copy()
        trial[k] += 1
        if np.any(np.abs(trial / trial.sum() - export_share) > settings.max_prior_shift):
            skipped["class_balance"] += 1
            continue
        added = float(row_mass[i])
        if mass[k] + added > settings.max_learned_share * base_mass[k]:
            skipped["learned_share_cap"] += 1
            continue
        classes, mass[k] = trial, mass[k] + added
        kept.append(report)
    return kept


def _row_mass(model: LearnableModel, reports: list[Report], binarize: float | None) -> np.ndarray:
    """Each report's total feature count, as learning would add it."""
    rows = binarized(model.model.transform([r.text for r in reports]), binarize)
    return np.bincount(rows.row_of(), weights=rows.data, minlength=len(reports))
