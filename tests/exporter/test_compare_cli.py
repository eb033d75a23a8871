"""``export.py --compare`` and ``--max-ham-flagged`` end to end, on a small CSV made here."""

from __future__ import annotations

import csv

import pytest

from runtime.model import Model
from tests.datafiles import kaggle_csv
from tests.exporter.test_export_cli import run_export

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

SMOKE_RECIPES = "tutorial,multinomial_nb,sgd_hashing"


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "spam.csv"
    path.write_bytes(kaggle_csv(300))
    return path


def test_compare_smoke(small_csv, tmp_path) -> None:
    out = tmp_path / "compare"
    result = run_export(
        "--data", str(small_csv), "--compare", "--recipes", SMOKE_RECIPES,
        "--compare-out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    grouped, _, split = result.stdout.partition("One split")
    assert "Grouped protocol" in grouped
    for recipe in SMOKE_RECIPES.split(","):
        assert f"| {recipe} | " in grouped, recipe
    assert "±" in grouped
    table = split.splitlines()[1:]
    assert table[0].startswith("| recipe | family | accuracy | spam precision | spam recall")
    assert "ham flagged" in table[0]
    assert "ROC AUC" in table[0]
    assert "model file" in table[0]
    assert "1-message latency" in table[0]
    for recipe in SMOKE_RECIPES.split(","):
        assert any(line.startswith(f"| {recipe} |") for line in table), recipe

    with (out / "compare.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["recipe"] for row in rows] == SMOKE_RECIPES.split(",")
    for row in rows:
        assert 0.0 <= float(row["accuracy"]) <= 1.0
        assert 0.0 <= float(row["roc_auc"]) <= 1.0
        assert int(row["model_bytes"]) > 0
        assert float(row["latency_us"]) > 0
    markdown = (out / "compare.md").read_text(encoding="utf-8")
    assert "| tutorial | gaussian_nb |" in markdown
    assert "300 messages" in markdown
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not (tmp_path / "artifacts").exists()


def test_compare_refuses_unknown_recipes_by_name(small_csv, tmp_path) -> None:
    result = run_export(
        "--data", str(small_csv), "--compare", "--recipes", "tutorial,forest",
        "--compare-out", str(tmp_path / "c"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--recipes" in result.stderr
    assert "forest" in result.stderr
    assert "Traceback" not in result.stderr


def test_max_ham_flagged_stores_and_reports_the_threshold(small_csv, tmp_path) -> None:
    out = tmp_path / "m.npz"
    result = run_export(
        "--data", str(small_csv), "-o", str(out), "--recipe", "multinomial_nb",
        "--max-ham-flagged", "0.01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "threshold       joint_log_likelihood_difference > " in result.stdout
    assert "at most 1.00% ham flagged, by 5-fold cross-validation on the training split" in (
        result.stdout
    )
    assert "  on the test split    default   threshold" in result.stdout
    model = Model.from_path(out)
    assert model.threshold is not None
    assert model.threshold["max_ham_flagged"] == 0.01
    assert model.threshold["positive"] == "spam"
    assert model.metadata["metrics_at_threshold"]["n_test"] == 30


def test_max_ham_flagged_refuses_a_rate_outside_0_to_1(small_csv, tmp_path) -> None:
    out = tmp_path / "m.npz"
    result = run_export("--data", str(small_csv), "-o", str(out), "--max-ham-flagged", "1.5")
    assert result.returncode == 2
    assert "--max-ham-flagged must be a rate" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
