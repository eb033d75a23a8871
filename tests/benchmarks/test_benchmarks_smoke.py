"""The benchmark's smoke mode runs end to end, so ``benchmarks/run.py`` cannot rot.

No timing is asserted: only that it finishes, prints the table and writes its report
where it was told to, leaving the committed results alone.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.datafiles import kaggle_csv

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

COMMITTED = [
    PROJECT_ROOT / "benchmarks" / name
    for name in ("results.md", "chart.png", "crossover.md", "breakdown.md", "archive.md")
]


def _fingerprints() -> dict[Path, str | None]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        for path in COMMITTED
    }


def run_smoke(
    tmp_path: Path, script: str, *options: str, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``python -m benchmarks.<script> --smoke`` on 300 messages; (the finished run, its --out).

    Fails unless it exits 0 and leaves every committed report as it was.
    """
    data = tmp_path / "spam.csv"
    data.write_bytes(kaggle_csv(300))
    out = tmp_path / "out"
    before = _fingerprints()
    command = [sys.executable, "-m", f"benchmarks.{script}", "--smoke"]
    result = subprocess.run(
        [*command, *options, "--data", str(data), "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert _fingerprints() == before
    return result, out


def test_smoke_run_prints_the_table_and_writes_only_to_out(tmp_path: Path) -> None:
    result, out = run_smoke(tmp_path, "run")

    assert "| metric (median) |" in result.stdout
    assert "cold start, wall" in result.stdout
    assert "label disagreements with scikit-learn" in result.stdout
    assert "0 batch, 0 via handler" in result.stdout  # ours agrees on every message
    assert "[bench]" in result.stderr  # progress goes to stderr...
    assert "[bench]" not in result.stdout  # ...so stdout is the report alone
    report = (out / "results.md").read_text()
    assert "## Cold start" in report
    assert "## Lambda packages: default and NumPy-free" in report
    assert "## Machine" in report
    assert "NumPy-free build: runtime/ + model only" in report  # ran, answered, no NumPy
    assert "pinned to CPU 0" in report
    assert "## Built-in recipes" in report
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (out / "chart.png").is_file() == has_matplotlib


@pytest.mark.parametrize("script", ["run", "crossover", "breakdown"])
def test_every_option_says_what_it_does_and_its_default(script: str) -> None:
    module = importlib.import_module(f"benchmarks.{script}")
    parser = module.build_parser()
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options
    vague = [a.option_strings[0] for a in options if "default" not in (a.help or "")]
    assert vague == []


def test_crossover_smoke_compares_both_rules_and_writes_only_to_out(tmp_path: Path) -> None:
    _, out = run_smoke(tmp_path, "crossover", "--max-n", "3", "--recipes", "tutorial", timeout=120)
    report = (out / "crossover.md").read_text()
    assert "| recipes | best n |" in report
    assert "| all, each recipe weighted alike |" in report
    assert "`import numpy`" in report


def test_breakdown_smoke_splits_the_cold_start_and_writes_only_to_out(tmp_path: Path) -> None:
    _, out = run_smoke(tmp_path, "breakdown")
    report = (out / "breakdown.md").read_text()
    assert "| whole cold start (import, load, one REST event, exit) |" in report
    assert "SHA-256 of the file (the model id)" in report
    assert "## Imports by module" in report


def test_archive_smoke_scores_shards_in_s3_and_prices_them_writing_only_to_out(
    tmp_path: Path,
) -> None:
    _, out = run_smoke(tmp_path, "archive")
    report = (out / "archive.md").read_text()
    assert "| tutorial | 300 | no |" in report
    assert "| tutorial | 300 | yes |" in report
    assert "scikit-learn, the tutorial's pipeline" in report
    assert "| one Step Functions invoke per message | arm64 |" in report


def test_normaliser_cold_start_benchmark_runs(tmp_path: Path) -> None:
    data = tmp_path / "spam.csv"
    data.write_bytes(kaggle_csv(300))
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.coldstart_normaliser",
         "--data", str(data), "--rounds", "1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for model in ("plain", "normalised"):
        for message in ("ascii", "non-ascii"):
            assert f"| {model} | {message} |" in result.stdout
    assert "ratio normalised/plain, non-ascii" in result.stdout
