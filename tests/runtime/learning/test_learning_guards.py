"""Each guard rail stops a hostile reporter, and says why; the learner is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.learning.gate import GateSettings
from runtime.learning.guards import GuardSettings
from runtime.learning.learner import EXIT_GATE_REFUSED, learn
from runtime.learning.relearn import LearnableModel
from runtime.reports import DirectoryReportStore
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE, make_corpus
from tests.learning import NOON, fitted, report

# Texts of words the export never saw: the serving model is unsure of them.
NEW = ["parcel", "redelivery", "toll", "overdue", "airdrop", "wallet", "mum", "locked"]
HOUR = 3600.0
# Rails that let everything through, to test one rail (or the gate) at a time.
OPEN = GuardSettings(
    min_new_reports=1,
    reporter_cap=10**6,
    confident=1.1,
    max_prior_shift=1.0,
    max_learned_share=10.0**6,
)


def campaign_text(i: int) -> str:
    return f"{NEW[i % 8]} {NEW[(i * 3 + 1) % 8]} fee {i} pay at bit.ly/{i:x} {NEW[(i + 5) % 8]}"


@pytest.fixture
def base() -> bytes:
    return fitted("multinomial_hashing").data


@pytest.fixture
def store(tmp_path: Path) -> DirectoryReportStore:
    return DirectoryReportStore(str(tmp_path))


def put(store: DirectoryReportStore, reports: list) -> None:
    for r in reports:
        store.put(r)


def test_fewer_than_the_minimum_change_nothing(base: bytes, store: DirectoryReportStore) -> None:
    put(store, [report(campaign_text(i), "spam", f"user{i}") for i in range(4)])
    outcome = learn(base, store)
    assert outcome.data is None
    assert outcome.summary["reason"] == "too_few_reports"
    assert outcome.summary["waiting"] == 4
    put(store, [report(campaign_text(4), "spam", "user4")])
    assert learn(base, store).summary["learned"] == 5


@pytest.mark.slow
def test_a_reporter_gets_at_most_the_cap_per_window(
    base: bytes, store: DirectoryReportStore
) -> None:
    settings = OPEN.__class__(**{**OPEN.__dict__, "reporter_cap": 3})
    flood = [report(campaign_text(i), "spam", "mallory", NOON + i) for i in range(40)]
    later = [
        report(campaign_text(i), "spam", "mallory", NOON + 25 * HOUR + i) for i in range(40, 45)
    ]
    put(store, flood + later)
    outcome = learn(base, store, guards=settings)
    # 3 in each of the two days; the other 39 are refused, by name.
    assert outcome.summary["learned"] == 6
    assert outcome.summary["skipped"] == {"reporter_cap": 39}
    # Over the cap for good (received_at does not change): retired, not examined again.
    assert outcome.summary["retired"] == {"reporter_cap": 39}
    assert len(list(Path(store.directory, "retired", "reporter_cap").iterdir())) == 39
    # The learned ones count against the cap on the next run, too.
    learned = LearnableModel(outcome.data or b"")
    assert len(learned.report_ids) == 6
    put(store, [report(campaign_text(99), "spam", "mallory", NOON + 100)])
    again = learn(outcome.data or b"", store, guards=settings)
    assert again.data is None
    assert again.summary["skipped"] == {"reporter_cap": 1}


def test_reports_the_model_already_believes_are_skipped(
    base: bytes, store: DirectoryReportStore
) -> None:
    settings = OPEN.__class__(**{**OPEN.__dict__, "confident": 0.95})
    texts, labels = make_corpus(240, seed=11)
    spam = [t for t, label in zip(texts, labels, strict=True) if label == "spam"][:30]
    put(store, [report(t, "spam", f"user{i}") for i, t in enumerate([*spam, SPAM_EXAMPLE])])
    outcome = learn(base, store, guards=settings)
    assert outcome.summary["skipped"]["already_confident"] >= 25
    assert outcome.summary["learned"] + outcome.summary["skipped"]["already_confident"] == 31


@pytest.mark.slow
def test_class_balance_holds_against_many_reporters(
    base: bytes, store: DirectoryReportStore
) -> None:
    settings = OPEN.__class__(**{**OPEN.__dict__, "max_prior_shift": 0.05})
    put(store, [report(campaign_text(i), "spam", f"sybil{i}") for i in range(40)])
    outcome = learn(base, store, guards=settings)
    # The export has 50 spam of 200: (50 + x) / (200 + x) <= 0.30 allows x = 14.
    assert outcome.summary["learned"] == 14
    assert outcome.summary["skipped"] == {"class_balance": 26}


@pytest.mark.slow
def test_learned_counts_stay_a_bounded_share_of_the_export(
    base: bytes, store: DirectoryReportStore
) -> None:
    settings = OPEN.__class__(**{**OPEN.__dict__, "max_learned_share": 0.25})
    reports = [report(" ".join([campaign_text(i)] * 4), "spam", f"sybil{i}") for i in range(30)]
    put(store, reports)
    outcome = learn(base, store, guards=settings)
    assert outcome.summary["skipped"]["learned_share_cap"] > 0
    assert outcome.summary["learned"] >= 1
    learned = LearnableModel(outcome.data or b"")
    spam = learned.model.classes.index("spam")
    export_mass = learned.base_feature_count[spam].sum()
    kept = [r for r in reports if r.report_id in set(learned.report_ids)]
    feature_count, _ = learned.counts(kept)
    assert 0 < feature_count[spam].sum() - export_mass <= 0.25 * export_mass


@pytest.mark.slow
def test_the_gate_refuses_a_model_that_flags_golden_ham(
    base: bytes, store: DirectoryReportStore
) -> None:
    texts, labels = make_corpus(240, seed=11)
    golden_ham = [t for t, label in zip(texts[200:], labels[200:], strict=True) if label == "ham"]
    # Every rail open: many reporters call the golden set's own ham spam, repeatedly.
    hostile = [
        report(f"{text} {HAM_EXAMPLE}", "spam", f"sybil{i}-{j}")
        for j in range(5)
        for i, text in enumerate(golden_ham)
    ]
    put(store, hostile)
    outcome = learn(base, store, guards=OPEN, gate=GateSettings())
    assert outcome.exit_code == EXIT_GATE_REFUSED
    assert outcome.data is None
    gate = outcome.summary["gate"]
    assert gate["passed"] is False
    assert gate["reason"] == "ham_flagged_rose"
    assert gate["ham_flagged_after"] > gate["ham_flagged_before"]
    assert outcome.summary["reason"] == "gate: ham_flagged_rose"


def test_a_label_outside_the_classes_is_skipped(base: bytes, store: DirectoryReportStore) -> None:
    put(store, [report(campaign_text(i), "phishing", f"user{i}") for i in range(6)])
    assert learn(base, store, guards=OPEN).summary["skipped"] == {"unknown_label": 6}


def test_learning_runs_are_idempotent(base: bytes, store: DirectoryReportStore) -> None:
    reports = [report(campaign_text(i), "spam", f"user{i}") for i in range(8)]
    put(store, reports[:5])
    first = learn(base, store, guards=OPEN)
    assert first.data is not None
    again = learn(first.data, store, guards=OPEN)
    assert again.data is None
    assert again.summary["reason"] == "nothing_to_learn"
    put(store, reports[5:])
    second = learn(first.data, store, guards=OPEN)
    # Learning in two runs gives the bytes of learning all at once.
    assert second.data == LearnableModel(base).relearn(reports).data


def test_a_report_deleted_from_the_store_is_forgotten(
    base: bytes, store: DirectoryReportStore, tmp_path: Path
) -> None:
    reports = [report(campaign_text(i), "spam", f"user{i}") for i in range(6)]
    put(store, reports)
    learned = learn(base, store, guards=OPEN).data
    assert learned is not None
    (tmp_path / f"{reports[0].report_id}.json").unlink()
    outcome = learn(learned, store, guards=OPEN)
    assert outcome.summary["forgotten"] == 1
    assert outcome.data == LearnableModel(base).relearn(reports[1:]).data
