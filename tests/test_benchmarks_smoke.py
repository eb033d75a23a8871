"""The benchmark's smoke mode runs end to end, so ``benchmarks/run.py`` cannot rot.

No timing is asserted: only that it finishes, prints the table and writes its report
where it was told to, leaving the committed results alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.datafiles import kaggle_csv

RUN = PROJECT_ROOT / "benchmarks" / "run.py"
COMMITTED = [PROJECT_ROOT / "benchmarks" / name for name in ("results.md", "chart.png")]


def _fingerprints() -> dict[Path, str | None]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        for path in COMMITTED
    }


def test_smoke_run_prints_the_table_and_writes_only_to_out(tmp_path: Path) -> None:
    data = tmp_path / "spam.csv"
    data.write_bytes(kaggle_csv(300))
    out = tmp_path / "out"
    before = _fingerprints()

    result = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--data", str(data), "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "| metric (median) |" in result.stdout
    assert "cold start, wall" in result.stdout
    assert "label disagreements with scikit-learn" in result.stdout
    assert "0 batch, 0 via handler" in result.stdout  # ours agrees on every message
    assert "| target (issue 5) |" in result.stdout
    report = (out / "results.md").read_text()
    assert "## Cold start" in report
    assert "## Machine" in report
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (out / "chart.png").is_file() == has_matplotlib
    assert _fingerprints() == before
