"""A hostile or unlucky report cannot stop learning: what the learner will not learn is
retired, a forget always takes effect, and a run is bounded by bytes as well as count."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.learning import learner
from runtime.learning import relearn as relearn_module
from runtime.learning.gate import GateSettings
from runtime.learning.guards import GuardSettings
from runtime.learning.learner import EXIT_GATE_REFUSED, EXIT_WROTE, learn
from runtime.learning.relearn import LearnableModel
from runtime.learning.run import RunOptions, run
from runtime.reports import DirectoryReportStore, ReportError
from tests.corpus import make_corpus
from tests.learning import fitted, report
from tests.runtime.learning.test_learning_guards import OPEN

NEVER = GateSettings(-1.0, -1.0)  # a gate no model passes: any rise or fall is too much


@pytest.fixture
def base() -> bytes:
    return fitted("multinomial_hashing").data


@pytest.fixture
def store(tmp_path: Path) -> DirectoryReportStore:
    directory = tmp_path / "reports"
    directory.mkdir()
    return DirectoryReportStore(str(directory))


def legit(n: int, tag: str) -> list:
    texts, labels = make_corpus(400, seed=99)
    return [report(f"{texts[i]} {tag}{i}", labels[i], reporter=f"{tag}{i}") for i in range(n)]


def retired(store: DirectoryReportStore, reason: str) -> set[str]:
    folder = Path(store.directory, "retired", reason)
    return {p.name.removesuffix(".json") for p in folder.iterdir()} if folder.exists() else set()


@pytest.mark.slow
def test_a_batch_the_gate_refused_is_retired_and_the_next_run_moves_on(
    base: bytes, store: DirectoryReportStore
) -> None:
    # One reporter labels the golden set's own ham "spam": the gate refuses the batch.
    golden_ham = [t for label, t in LearnableModel(base).section.golden if label == "ham"]
    hostile = [report(f"{t} {t}", "spam", reporter="mallory") for t in golden_ham[:10]]
    for r in hostile:
        store.put(r)
    first = learn(base, store)
    assert first.exit_code == EXIT_GATE_REFUSED
    assert first.data is None
    assert first.summary["retired"] == {"gate_refused": first.summary["learned"]}
    assert retired(store, "gate_refused") <= {r.report_id for r in hostile}
    # Honest reports arrive; the refused batch no longer blocks them.
    honest = legit(12, "user")
    for r in honest:
        store.put(r)
    second = learn(base, store, guards=OPEN)
    assert second.exit_code == EXIT_WROTE, second.summary
    learned = set(LearnableModel(second.data or b"").report_ids)
    assert {r.report_id for r in honest} <= learned
    assert not learned & retired(store, "gate_refused")


@pytest.mark.slow
def test_a_forget_takes_effect_even_when_the_gate_would_refuse(
    base: bytes, store: DirectoryReportStore, tmp_path: Path
) -> None:
    first = legit(12, "first")
    for r in first:
        store.put(r)
    (tmp_path / "m0.npz").write_bytes(base)
    code, _ = run(
        RunOptions(
            reports=store.directory,
            model=str(tmp_path / "m0.npz"),
            output=str(tmp_path / "m1.npz"),
            guards=OPEN,
        )
    )
    assert code == EXIT_WROTE
    victim = first[0].report_id
    for r in legit(12, "second"):  # new reports wait while a gate refuses everything
        store.put(r)
    code, summary = run(
        RunOptions(
            reports=store.directory,
            model=str(tmp_path / "m1.npz"),
            output=str(tmp_path / "m2.npz"),
            forget=[victim],
            guards=OPEN,
            gate=NEVER,
        )
    )
    assert code == EXIT_WROTE, summary
    assert summary["promoted"] is True
    assert summary["learned"] == 0
    assert summary["forgotten"] == 1
    kept = [r for r in first if r.report_id != victim]
    assert (tmp_path / "m2.npz").read_bytes() == LearnableModel(base).relearn(kept).data
    assert not Path(store.directory, f"{victim}.json").exists()


@pytest.mark.slow
def test_permanently_refused_reports_do_not_starve_legit_ones(
    base: bytes, store: DirectoryReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(learner, "MAX_NEW_PER_RUN", 50)
    settings = GuardSettings(min_new_reports=1, confident=1.1, max_learned_share=10.0)
    flood = [report(f"win cash prize now claim {i} zzq{i}", "spam", "mallory") for i in range(120)]
    honest = legit(30, "user")
    for r in [*flood, *honest]:
        store.put(r)
    model = base
    for _ in range(4):  # 150 reports, 50 examined a run: every one is examined once
        outcome = learn(model, store, guards=settings, gate=GateSettings(1.0, 1.0))
        model = outcome.data or model
    learned = set(LearnableModel(model).report_ids)
    assert {r.report_id for r in honest} <= learned
    assert len(retired(store, "reporter_cap")) >= 100


def test_already_confident_reports_are_retired(base: bytes, store: DirectoryReportStore) -> None:
    model = LearnableModel(base)
    sure = [t for label, t in model.section.golden if label == "ham"]
    proba = model.model.predict_proba(sure)
    confident = [t for t, row in zip(sure, proba, strict=True) if row[0] >= 0.95][:5]
    assert confident
    for i, t in enumerate(confident):
        store.put(report(t, "ham", reporter=f"u{i}"))
    outcome = learn(base, store)
    assert outcome.summary["retired"] == {"already_confident": len(confident)}
    assert learn(base, store).summary["reports_new"] == 0


def test_a_run_reads_a_bounded_number_of_bytes(
    base: bytes, store: DirectoryReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reports as large as a report can be (32,760 four-byte characters): the count bound
    # alone would let 10,000 of them (1.2 GiB in memory) into one run.
    monkeypatch.setattr(learner, "MAX_NEW_TEXT_BYTES", 200 * 1024)
    monkeypatch.setattr(learner, "READ_CHUNK", 1)
    for i in range(6):
        store.put(report(f"w{i} " + "\U0001f600" * 32_760, "spam", reporter=f"r{i}"))
    outcome = learn(base, store, guards=OPEN)
    assert outcome.summary["reports_new"] == 2  # the second passes the budget: reading stops


def test_counting_chunk_by_chunk_gives_the_same_bytes(
    base: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = legit(40, "user")
    whole = LearnableModel(base).relearn(reports).data
    monkeypatch.setattr(relearn_module, "CHUNK_TEXT_CHARS", 50)
    assert LearnableModel(base).relearn(reports).data == whole


def test_retire_is_a_durable_move_that_can_be_undone(store: DirectoryReportStore) -> None:
    r = report("parcel fee unpaid", "spam")
    store.put(r)
    assert store.retire(r.report_id, "gate_refused") is True
    assert store.list_ids() == []
    assert store.retire(r.report_id, "gate_refused") is False  # gone already
    moved = Path(store.directory, "retired", "gate_refused", f"{r.report_id}.json")
    moved.rename(Path(store.directory, f"{r.report_id}.json"))  # requeue
    assert store.read(r.report_id) == r
    with pytest.raises(ReportError, match="not a reason"):
        store.retire(r.report_id, "../elsewhere")
