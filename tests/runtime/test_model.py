"""The Model's promises beyond parity: a few texts never import NumPy, answers are JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import RidgeClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from exporter import export_pipeline
from runtime.features import LOG_TABLE_SIZE
from runtime.model import VECTORISE_FROM, _warn_if_trained_elsewhere
from tests.combinations import training_set
from tests.conftest import PROJECT_ROOT
from tests.texts import TRICKY

PIPELINES = {
    "multinomial_nb": lambda: make_pipeline(TfidfVectorizer(sublinear_tf=True), MultinomialNB()),
    "union_linear_svc": lambda: make_pipeline(
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2))),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))),
            ]
        ),
        LinearSVC(),
    ),
    "hashing_calibrated": lambda: make_pipeline(
        HashingVectorizer(n_features=2**12, alternate_sign=False, norm=None),
        TfidfTransformer(sublinear_tf=True),
        CalibratedClassifierCV(LinearSVC(), cv=3),
    ),
    "ridge_3_classes": lambda: make_pipeline(TfidfVectorizer(), RidgeClassifier()),
}

# Runs in a fresh interpreter: score texts, then report what was imported.
PROBE = """
import json, sys
from runtime.model import Model
model = Model.from_path(sys.argv[1])
texts = json.loads(sys.stdin.read())
answers = model.classify(texts)
print(json.dumps({"numpy": "numpy" in sys.modules, "answers": answers}))
"""


def run_probe(path: Path, texts: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        input=json.dumps(texts),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", list(PIPELINES))
def test_few_texts_never_import_numpy(name: str, tmp_path) -> None:
    texts, labels = training_set("str3" if "3_classes" in name else "str2")
    pipeline = PIPELINES[name]().fit(texts, labels)
    path = tmp_path / "model.npz"
    export_pipeline(pipeline, path)
    # A term counted past the stored log table takes NumPy's log (by design), so not here.
    ordinary = [t for t in TRICKY if t.count("free") <= LOG_TABLE_SIZE]
    few = (ordinary * 2)[: VECTORISE_FROM - 1]
    plain = run_probe(path, few)
    assert plain["numpy"] is False
    assert [a["label"] for a in plain["answers"]] == pipeline.predict(few).tolist()
    batch = run_probe(path, [*few, "free prize"])
    assert batch["numpy"] is True
    assert [a["label"] for a in batch["answers"]][:-1] == pipeline.predict(few).tolist()


HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
TABLES = unicodedata.unidata_version


@pytest.mark.parametrize(
    ("created_by", "trained_with", "serving_with"),
    [
        ({"python": f"{HERE}.0", "unicode": TABLES}, None, None),
        # A minor version has one set of tables: a record saying otherwise is not read.
        ({"python": f"{HERE}.99", "unicode": "1.1.0"}, None, None),
        ({"python": "2.7.18", "unicode": TABLES}, {"python": "2.7"}, {"python": HERE}),
        (
            {"python": "2.7.18", "unicode": "5.2.0"},
            {"python": "2.7", "unicode": "5.2.0"},
            {"python": HERE, "unicode": TABLES},
        ),
        ({"python": "2.7.18"}, {"python": "2.7"}, {"python": HERE}),
        (
            {"unicode": "5.2.0"},
            {"python": "", "unicode": "5.2.0"},
            {"python": HERE, "unicode": TABLES},
        ),
        ("3.13", None, None),
    ],
)
def test_a_model_from_another_python_is_reported(
    capsys: pytest.CaptureFixture[str],
    created_by: object,
    trained_with: dict[str, str] | None,
    serving_with: dict[str, str] | None,
) -> None:
    _warn_if_trained_elsewhere(created_by)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    if trained_with is None:
        assert lines == []
        return
    (line,) = lines
    assert line["level"] == "WARNING"
    assert line["msg"] == "model_trained_elsewhere"
    assert "Unicode tables" in line["detail"]
    assert (line["trained_with"], line["serving_with"]) == (trained_with, serving_with)
