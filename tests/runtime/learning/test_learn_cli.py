"""exporter/learn.py: a JSON summary line last; exit 0 wrote a model, 3 gate refused, 2 unusable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.learning import command
from runtime.learning.command import main
from runtime.learning.relearn import LearnableModel
from runtime.reports import DirectoryReportStore
from tests.conftest import PROJECT_ROOT
from tests.corpus import make_corpus
from tests.learning import fitted, report
from tests.runtime.learning.test_learning_guards import OPEN, campaign_text


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, DirectoryReportStore]:
    model = tmp_path / "model.npz"
    model.write_bytes(fitted("multinomial_hashing").data)
    reports = tmp_path / "reports"
    reports.mkdir()
    return model, reports, DirectoryReportStore(str(reports))


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_learning_writes_the_model_and_says_so(setup, tmp_path, capsys) -> None:
    model, reports, store = setup
    learned = [report(campaign_text(i), "spam", f"user{i}") for i in range(6)]
    for r in learned:
        store.put(r)
    out = tmp_path / "out.npz"
    assert main(["--model", str(model), "--reports", str(reports), "--output", str(out)]) == 0
    summary = last_json(capsys)
    assert summary["promoted"] is True
    assert summary["learned"] == 6
    assert summary["gate"]["passed"] is True
    assert out.read_bytes() == LearnableModel(model.read_bytes()).relearn(learned).data
    assert all(r.text not in json.dumps(summary) for r in learned)


@pytest.mark.slow
def test_a_refused_gate_exits_3_and_writes_nothing(setup, tmp_path, capsys, monkeypatch) -> None:
    model, reports, store = setup
    texts, labels = make_corpus(240, seed=11)
    ham = [t for t, y in zip(texts[200:], labels[200:], strict=True) if y == "ham"]
    for j in range(5):
        for i, text in enumerate(ham):
            store.put(report(f"{text} x{j}", "spam", f"sybil{i}-{j}"))
    # Every rail open, so that only the gate stands between the reports and the model.
    monkeypatch.setattr(command, "GuardSettings", lambda **_: OPEN)
    out = tmp_path / "out.npz"
    code = main(["--model", str(model), "--reports", str(reports), "--output", str(out)])
    summary = last_json(capsys)
    assert code == 3
    assert summary["promoted"] is False
    assert summary["reason"] == "gate: ham_flagged_rose"
    assert summary["gate"]["ham_flagged_after"] > summary["gate"]["ham_flagged_before"]
    assert not out.exists()


def test_unusable_input_exits_2_with_the_reason(setup, capsys) -> None:
    model, reports, _ = setup
    assert main(["--model", str(model), "--reports", str(reports), "--forget", "nope"]) == 2
    assert "report ids" in last_json(capsys)["error"]
    assert main(["--model", str(model) + ".missing", "--reports", str(reports)]) == 2
    assert "cannot read" in last_json(capsys)["error"]


@pytest.mark.slow
def test_the_script_runs_from_a_checkout(setup, tmp_path) -> None:
    model, reports, _ = setup
    result = subprocess.run(
        [
            sys.executable,
            "exporter/learn.py",
            "--model",
            str(model),
            "--reports",
            str(reports),
            "--output",
            str(tmp_path / "out.npz"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["reason"] == "nothing_to_learn"
