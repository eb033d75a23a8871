"""benchmarks/feedback.py's smoke mode runs end to end and prints both tables."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.benchmarks.test_benchmarks_smoke import run_smoke

pytestmark = pytest.mark.slow


def test_feedback_benchmark_smoke_prints_both_tables(tmp_path: Path) -> None:
    result, out = run_smoke(tmp_path, "feedback", timeout=120)
    report = (out / "feedback.md").read_text()
    assert "| POST /feedback, a new report (fsynced) |" in report
    assert "| pointer, between checks |" in report
    assert report in result.stdout


def test_every_option_says_what_it_does_and_its_default() -> None:
    parser = importlib.import_module("benchmarks.feedback").build_parser()
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert [a.option_strings[0] for a in options if "default" not in (a.help or "")] == []
