"""One learning run: reports in the store + the serving model -> maybe a new model.

Shared by ``exporter/learn.py`` and the learner Lambda (runtime/learner_handler.py). The
run reads the serving model's learned reports back from the store (a learned file is a
function of the export and that set, so the set is re-read, never patched), examines
the reports not learned yet through the guard rails, relearns, and asks the gate. It
returns the new file and a summary without any report text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from runtime.learning.gate import GateSettings, judge
from runtime.learning.guards import GuardSettings, select
from runtime.learning.relearn import LearnableModel
from runtime.modelfile import MAX_LEARNED_REPORTS
from runtime.reports import Report, ReportError, ReportStore, S3ReportStore, all_ids

# Reports examined per run beyond those already learned: bounds a run's time and memory
# (10,000 reports learn in well under a second; the reads dominate on S3).
MAX_NEW_PER_RUN = 10_000
READ_THREADS = 16

EXIT_WROTE = 0
EXIT_GATE_REFUSED = 3


@dataclass
class Outcome:
    summary: dict[str, Any]
    data: bytes | None = None  # the new model file, when there is one to write
    sha256: str | None = None
    exit_code: int = EXIT_WROTE
    forgotten_ids: list[str] = field(default_factory=list)


def read_reports(
    store: ReportStore, ids: Iterable[str], problems: Counter[str]
) -> dict[str, Report]:
    """The reports stored under ``ids`` (read in parallel); missing or invalid ones counted."""

    def one(report_id: str) -> Report | str:
        try:
            return store.read(report_id)
        except ReportError as exc:
            return "missing" if str(exc).startswith("no report") else "invalid_report"

    ids = list(ids)
    found: dict[str, Report] = {}
    # Network reads overlap in threads; local files are read faster without them.
    threads = READ_THREADS if isinstance(store, S3ReportStore) else 0
    with ThreadPoolExecutor(max(threads, 1)) as pool:
        results = pool.map(one, ids) if threads else map(one, ids)
        for report_id, result in zip(ids, results, strict=True):
            if isinstance(result, str):
                problems[result] += 1
            else:
                found[report_id] = result
    return found


def learn(
    serving_data: bytes,
    store: ReportStore,
    *,
    forget: Sequence[str] = (),
    guards: GuardSettings | None = None,
    gate: GateSettings | None = None,
) -> Outcome:
    """Learn what the store holds and the serving model has not learned (or forget)."""
    guards = guards or GuardSettings()
    gate = gate or GateSettings()
    serving = LearnableModel(serving_data)
    forgotten = set(forget) & set(serving.report_ids)
    problems: Counter[str] = Counter()
    kept_ids = [i for i in serving.report_ids if i not in forgotten]
    learned = read_reports(store, kept_ids, problems)
    missing = problems.pop("missing", 0)  # deleted from the store: forgotten too
    invalid_learned = problems.pop("invalid_report", 0)
    known = set(serving.report_ids) | set(forget)
    new_ids = []
    for report_id in all_ids(store):
        if report_id not in known:
            new_ids.append(report_id)
            if len(new_ids) >= MAX_NEW_PER_RUN:
                break
    candidates = read_reports(store, new_ids, problems)
    problems.pop("missing", None)  # deleted between listing and reading
    selection = select(serving, list(learned.values()), list(candidates.values()), guards)
    skipped = selection.skipped + problems
    room = MAX_LEARNED_REPORTS - len(learned)
    if len(selection.accepted) > room:
        skipped["max_learned_reports"] += len(selection.accepted) - room
        del selection.accepted[room:]
    summary: dict[str, Any] = {
        "serving_sha256": serving.sha256,
        "base_sha256": serving.base_sha256,
        "reports_new": len(new_ids),
        "learned": len(selection.accepted),
        "forgotten": len(forgotten) + missing + invalid_learned,
        "skipped": dict(sorted(skipped.items())),
        "waiting": selection.waiting,
        "gate": None,
        "promoted": False,
    }
    changed = selection.accepted or len(learned) != len(serving.report_ids)
    if not changed:
        summary["reason"] = "too_few_reports" if selection.waiting else "nothing_to_learn"
        return Outcome(summary)
    result = serving.relearn([*learned.values(), *selection.accepted])
    summary["learned_total"] = len(result.report_ids)
    summary["model_sha256"] = result.sha256
    if selection.accepted:  # forgetting alone goes back toward the export: not gated
        verdict = judge(serving.model, result.model, serving.section.golden, gate)
        summary["gate"] = verdict
        if not verdict["passed"]:
            summary["reason"] = f"gate: {verdict['reason']}"
            return Outcome(summary, exit_code=EXIT_GATE_REFUSED)
    summary["promoted"] = True
    summary["reason"] = None
    return Outcome(summary, result.data, result.sha256, forgotten_ids=sorted(forgotten))
