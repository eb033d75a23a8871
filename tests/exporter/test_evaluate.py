"""The grouped protocol and exporter/evaluate.py's three forms, on small data made here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score

from exporter.evaluate import main, parse_args, run
from exporter.obfuscate import CLASSES, obfuscate
from exporter.protocol import (
    duplicates_grouped,
    fold_metrics,
    group_key,
    grouped_folds,
    groups_of,
    summarise,
)
from exporter.train import BEST_RECIPE
from tests.datafiles import kaggle_csv


def test_copies_up_to_case_and_whitespace_are_one_group() -> None:
    texts = ["Free  prize", "free prize", "FREE\\tprize", "free prizes", "lunch?"]
    texts[2] = "FREE\tprize"
    assert group_key("  Free \n prize ") == "free prize"
    groups = groups_of(texts)
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert duplicates_grouped(texts) == 2


def test_no_group_is_on_both_sides_of_any_fold() -> None:
    rng = np.random.default_rng(0)
    texts = [f"message {int(n)}" for n in rng.integers(0, 60, size=300)]
    labels = ["spam" if int(t.split()[1]) % 4 == 0 else "ham" for t in texts]
    groups = groups_of(texts)
    folds = list(grouped_folds(labels, groups, folds=5, repeats=2, seed=3))
    assert len(folds) == 10
    for fold in folds:
        assert not set(groups[fold.train]) & set(groups[fold.test])
        assert {labels[i] for i in fold.test} == {"ham", "spam"}
    for repeat in (0, 1):  # each repeat tests every row exactly once
        tested = np.concatenate([f.test for f in folds if f.repeat == repeat])
        assert sorted(tested.tolist()) == list(range(len(texts)))


def test_fold_metrics_are_sklearns() -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(["ham", "spam"], size=200, p=[0.8, 0.2]).tolist()
    predicted = [t if rng.random() < 0.9 else ("ham" if t == "spam" else "spam") for t in truth]
    scores = rng.random(200) + np.array([t == "spam" for t in truth])
    got = fold_metrics(truth, predicted, scores)
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, predicted, labels=["spam"], zero_division=0
    )
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert got["spam_precision"] == pytest.approx(precision[0])
    assert got["spam_recall"] == pytest.approx(recall[0])
    assert got["spam_f1"] == pytest.approx(f1[0])
    ham = [p for t, p in zip(truth, predicted, strict=True) if t == "ham"]
    assert got["ham_flagged"] == pytest.approx(ham.count("spam") / len(ham))
    assert got["roc_auc"] == pytest.approx(roc_auc_score(np.array(truth) == "spam", scores))
    assert fold_metrics(truth, predicted, None)["roc_auc"] is None


def test_summary_is_mean_and_sample_sd() -> None:
    summary = summarise([{"accuracy": 0.9, "roc_auc": None}, {"accuracy": 1.0, "roc_auc": None}])
    spread = summary["accuracy"]
    assert spread is not None
    assert spread.mean == pytest.approx(0.95)
    assert spread.sd == pytest.approx(np.std([0.9, 1.0], ddof=1))
    assert summary["roc_auc"] is None


def test_obfuscation_is_reproducible_and_changes_text() -> None:
    text = "Free entry to win a cash prize, call now"
    for kind in CLASSES:
        assert obfuscate(kind, text, 7) == obfuscate(kind, text, 7)
        assert any(obfuscate(kind, text, i) != text for i in range(5)), kind


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "spam.csv"
    path.write_bytes(kaggle_csv(200))
    return path


def run_json(*argv: str) -> dict:
    out = io.StringIO()
    assert run(parse_args([*argv, "--json", "--quiet"]), out) == 0
    return json.loads(out.getvalue())


@pytest.mark.slow
def test_recipes_form(small_csv: Path) -> None:
    document = run_json("--recipes", "tutorial,multinomial_nb", "--data", str(small_csv))
    assert document["data"]["rows"] == 200
    assert document["protocol"]["folds"] * document["protocol"]["repeats"] == 10
    names = [r["name"] for r in document["results"]]
    assert names == ["tutorial", "multinomial_nb"]
    for result in document["results"]:
        assert result["metrics"]["spam_f1"]["n"] == 10
        assert 0 <= result["metrics"]["roc_auc"]["mean"] <= 1
        assert result["model_bytes"] > 0


@pytest.mark.slow
def test_recipe_form_with_perturbation_and_table(small_csv: Path, capsys) -> None:
    assert main(["--recipe", "best", "--data", str(small_csv), "--perturb", "--folds", "2",
                 "--repeats", "1", "--no-size"]) == 0  # fmt: skip
    out = capsys.readouterr()
    assert f"| {BEST_RECIPE} |" in out.out
    for kind in CLASSES:
        assert f"| {BEST_RECIPE} | {kind} |" in out.out
    assert "2/2" in out.err  # the progress bar


@pytest.mark.slow
def test_model_form(small_csv: Path, small_model_path: Path) -> None:
    document = run_json("--model", str(small_model_path), "--data", str(small_csv), "--perturb")
    [result] = document["results"]
    assert document["protocol"]["trained"] is False
    assert result["model_bytes"] == small_model_path.stat().st_size
    assert set(result["perturbed"]) == set(CLASSES)


def test_unknown_recipe_is_refused_by_name(small_csv: Path, capsys) -> None:
    assert main(["--recipes", "tutorial,forest", "--data", str(small_csv), "--quiet"]) == 2
    assert "forest" in capsys.readouterr().err


@pytest.mark.slow
def test_each_fold_is_measured_at_its_chosen_threshold(small_csv: Path) -> None:
    plain = run_json("--recipe", "multinomial_nb", "--data", str(small_csv), "--no-size")
    loose = run_json(
        "--recipe", "multinomial_nb", "--data", str(small_csv), "--no-size",
        "--max-ham-flagged", "0.5",
    )  # fmt: skip
    assert loose["protocol"]["max_ham_flagged"] == 0.5
    before, after = plain["results"][0]["metrics"], loose["results"][0]["metrics"]
    # a cut at about the median held-out ham score flags about half of the test ham
    assert before["ham_flagged"]["mean"] < 0.1 < 0.3 < after["ham_flagged"]["mean"] < 0.7
    assert after["spam_recall"]["mean"] >= before["spam_recall"]["mean"]
    assert after["roc_auc"] == before["roc_auc"]  # the scores do not depend on the cut
