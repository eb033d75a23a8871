"""benchmarks/learning.py's smoke mode runs end to end, so the committed figures cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.test_benchmarks_smoke import run_smoke

pytestmark = pytest.mark.slow


def test_learning_benchmark_smoke_prints_every_table(tmp_path: Path) -> None:
    result, out = run_smoke(tmp_path, "learning")
    report = (out / "learning.md").read_text()
    assert report.strip() == result.stdout.strip()
    assert "| runtime: relearn 300 reports (rows, counts, arrays, file) |" in report
    assert "| reports N | answered 202 | learned |" in report
    assert "| ham labelled spam | 60 |" in report
