"""One learning run: reports in the store + the serving model -> maybe a new model.

Shared by ``exporter/learn.py`` and the learner Lambda (runtime/learner_handler.py). The
run reads the serving model's learned reports back from the store (a learned file is a
function of the export and that set, so the set is re-read, never patched). If some
are to be forgotten, or left the store, it only unlearns them. Otherwise it examines
a bounded batch of reports not learned yet through the guard rails, relearns, and asks
the gate; it retires what it refused for good and what the gate refused. It returns the
new file and a summary without any report text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from runtime.learning.gate import GateSettings, judge
from runtime.learning.guards import GuardSettings, select
from runtime.learning.relearn import LearnableModel, Learned
from runtime.modelfile import MAX_LEARNED_REPORTS
from runtime.reports import Report, ReportError, ReportStore, S3ReportStore, all_ids

# New reports examined per run: bounds a run's time and memory by count and by bytes
# of text (10,000 SMS are 1.6 MB; 8 MiB of report text is ~256 e-mail-sized reports).
# The learner's peak memory is measured in docs/learning.md against its 1024 MB.
MAX_NEW_PER_RUN = 10_000
MAX_NEW_TEXT_BYTES = 8 * 1024 * 1024
# Text of all learned reports together: they are re-read every run (the learned file is
# recomputed from the set, which keeps forgetting byte-identical), so this bounds that.
MAX_LEARNED_TEXT_BYTES = 32 * 1024 * 1024
READ_CHUNK = 64  # ids read between checks of the byte budget: it overshoots by <= 8 MiB
READ_THREADS = 16

EXIT_WROTE = 0
EXIT_GATE_REFUSED = 3


@dataclass
class Outcome:
    summary: dict[str, Any]
    data: bytes | None = None  # the new model file, when there is one to write
    sha256: str | None = None
    exit_code: int = EXIT_WROTE


def read_reports(
    store: ReportStore,
    ids: Iterable[str],
    problems: Counter[str],
    invalid: list[str] | None = None,
) -> dict[str, Report]:
    """The reports stored under ``ids`` (read in parallel); missing or invalid ones counted
    (and the invalid ones' ids added to ``invalid``)."""

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
                if invalid is not None and result == "invalid_report":
                    invalid.append(report_id)
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
    """Forget, or else learn what the store holds and the serving model has not learned.

    Removals come first and alone: when ``forget`` names learned reports, or learned
    reports left the store, the run only unlearns them (not gated: removing reports is
    the operator's decision and goes back toward the export), so a forget always takes
    effect. New reports wait for the next run.
    """
    guards = guards or GuardSettings()
    gate = gate or GateSettings()
    serving = LearnableModel(serving_data)
    forgotten = set(forget) & set(serving.report_ids)
    problems: Counter[str] = Counter()
    kept_ids = [i for i in serving.report_ids if i not in forgotten]
    learned = read_reports(store, kept_ids, problems)
    missing = problems.pop("missing", 0)  # deleted from the store: forgotten too
    invalid_learned = problems.pop("invalid_report", 0)
    summary: dict[str, Any] = {
        "serving_sha256": serving.sha256,
        "base_sha256": serving.base_sha256,
        "reports_new": 0,
        "learned": 0,
        "forgotten": len(forgotten) + missing + invalid_learned,
        "skipped": {},
        "waiting": 0,
        "retired": {},
        "gate": None,
        "promoted": False,
    }
    if len(learned) != len(serving.report_ids):
        return _promote(serving.relearn(list(learned.values())), summary)
    if forget:
        summary["reason"] = "nothing_to_forget"
        return Outcome(summary)
    return _learn_new(serving, store, learned, summary, guards, gate)


def _learn_new(
    serving: LearnableModel,
    store: ReportStore,
    learned: dict[str, Report],
    summary: dict[str, Any],
    guards: GuardSettings,
    gate: GateSettings,
) -> Outcome:
    problems: Counter[str] = Counter()
    candidates, invalid = read_new_reports(store, set(serving.report_ids), problems)
    selection = select(serving, list(learned.values()), list(candidates.values()), guards)
    skipped = selection.skipped + problems
    room = min(
        MAX_LEARNED_REPORTS - len(learned),
        _fitting(selection.accepted, MAX_LEARNED_TEXT_BYTES - _text_bytes(learned.values())),
    )
    if len(selection.accepted) > room:
        skipped["max_learned"] += len(selection.accepted) - room
        del selection.accepted[room:]
    to_retire = {**selection.retire, "invalid_report": invalid}
    summary.update(
        reports_new=len(candidates) + len(invalid),
        learned=len(selection.accepted),
        skipped=dict(sorted(skipped.items())),
        waiting=selection.waiting,
    )
    if not selection.accepted:
        summary["retired"] = _retire(store, to_retire)
        summary["reason"] = "too_few_reports" if selection.waiting else "nothing_to_learn"
        return Outcome(summary)
    result = serving.relearn([*learned.values(), *selection.accepted])
    verdict = judge(serving.model, result.model, serving.section.golden, gate)
    summary["gate"] = verdict
    if not verdict["passed"]:
        # Retired, so the next run moves on to other reports instead of rebuilding this
        # refused model for ever; an operator can requeue them (docs/learning.md).
        to_retire["gate_refused"] = [r.report_id for r in selection.accepted]
        summary["retired"] = _retire(store, to_retire)
        summary["model_sha256"] = result.sha256
        summary["reason"] = f"gate: {verdict['reason']}"
        return Outcome(summary, exit_code=EXIT_GATE_REFUSED)
    summary["retired"] = _retire(store, to_retire)
    return _promote(result, summary)


def read_new_reports(
    store: ReportStore, known: set[str], problems: Counter[str]
) -> tuple[dict[str, Report], list[str]]:
    """Reports not in ``known``, in id order, at most MAX_NEW_PER_RUN of them and about
    MAX_NEW_TEXT_BYTES of text (the last chunk read may pass it by one chunk); and the
    ids of stored reports that are not valid ones."""
    found: dict[str, Report] = {}
    invalid: list[str] = []
    budget = MAX_NEW_TEXT_BYTES
    listed = (i for i in all_ids(store) if i not in known)
    while budget > 0 and len(found) + len(invalid) < MAX_NEW_PER_RUN:
        want = min(READ_CHUNK, MAX_NEW_PER_RUN - len(found) - len(invalid))
        chunk = [i for _, i in zip(range(want), listed, strict=False)]
        if not chunk:
            break
        seen: Counter[str] = Counter()
        reports = read_reports(store, chunk, seen, invalid)
        found.update(reports)
        budget -= _text_bytes(reports.values())
        seen.pop("missing", None)  # deleted between listing and reading
        problems.update(seen)
    return found, invalid


def _text_bytes(reports: Iterable[Report]) -> int:
    return sum(len(r.text.encode("utf-8", "surrogatepass")) for r in reports)


def _fitting(reports: Sequence[Report], budget: int) -> int:
    """How many of ``reports``, from the first, fit in ``budget`` bytes of text."""
    for count, report in enumerate(reports):
        budget -= len(report.text.encode("utf-8", "surrogatepass"))
        if budget < 0:
            return count
    return len(reports)


def _retire(store: ReportStore, by_reason: dict[str, list[str]]) -> dict[str, int]:
    retired: dict[str, int] = {}
    for reason, ids in sorted(by_reason.items()):
        count = store.retire_many(ids, reason)
        if count:
            retired[reason] = count
    return retired


def _promote(result: Learned, summary: dict[str, Any]) -> Outcome:
    summary["learned_total"] = len(result.report_ids)
    summary["model_sha256"] = result.sha256
    summary["promoted"] = True
    summary["reason"] = None
    return Outcome(summary, result.data, result.sha256)
