"""Three places parity used to fail: empty requests, near-tied GaussianNB, the plain path.

Each test failed before its fix: empty input raised or came back as ``(0,)``; the export
refused a correct GaussianNB whose scikit-learn probabilities are ill-conditioned; the
export's self-check never looked at the plain-Python feature rows a single message uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import GaussianNB

from exporter import export_pipeline
from exporter.errors import ExportParityError
from exporter.pipeline import sklearn_outputs
from runtime.features import Featurizer
from tests.families import BUILDERS, fitted
from tests.reference import assert_same_as_sklearn

SCORE_METHODS = ("decision_function", "predict_joint_log_proba", "predict_proba")


@pytest.mark.parametrize("labeling", ["binary", "three_classes"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_no_texts_give_sklearns_shape_for_zero_rows(name: str, labeling: str) -> None:
    """scikit-learn refuses zero rows; the runtime answers the shape it gives n rows, n = 0."""
    reference, model = fitted(name, labeling)
    _, outputs, _ = sklearn_outputs(reference, ["free prize"])
    assert outputs
    for method, one_row in outputs.items():
        for vectorise in (False, True):
            got = getattr(model, method)([], vectorise=vectorise)
            assert got.shape == (0, *one_row.shape[1:]), (method, vectorise)
            assert got.dtype == np.float64
    for vectorise in (False, True):
        assert model.predict([], vectorise=vectorise) == []
    assert model.classify([]) == []


NEAR_TIE_HAM = [
    "alpha one two three",
    "alpha four five",
    "alpha six seven eight nine",
    "alpha ten",
    "alpha eleven twelve",
    "alpha thirteen fourteen fifteen",
]


def _near_tied_gaussian() -> tuple[TfidfVectorizer, GaussianNB]:
    spam = [text.replace("alpha", "beta") for text in NEAR_TIE_HAM]
    vectorizer = TfidfVectorizer()
    rows = vectorizer.fit_transform(NEAR_TIE_HAM + spam).toarray()
    classifier = GaussianNB(priors=[0.4, 0.6]).fit(rows, ["ham"] * 6 + ["spam"] * 6)
    return vectorizer, classifier


def test_near_tied_gaussian_nb_exports_within_the_documented_bound() -> None:
    pair = _near_tied_gaussian()
    texts = ["alpha beta one"]
    _, outputs, _ = sklearn_outputs(pair, texts)
    # The case itself: log-likelihoods ~1e9 apart by less than their last bits can say,
    # so scikit-learn's own probabilities are off by far more than 1e-12.
    assert np.abs(outputs["predict_joint_log_proba"]).max() > 1e8
    assert abs(outputs["predict_proba"].sum() - 1.0) > 1e-12
    model = export_pipeline(pair, texts=texts).model
    assert_same_as_sklearn(model, pair, texts)


def test_near_tied_gaussian_nb_still_refuses_a_real_difference(monkeypatch) -> None:
    """The bound is relative to |jll|, not a blank cheque: a wrong probability is refused."""
    pair = _near_tied_gaussian()
    real = GaussianNB.predict_proba
    monkeypatch.setattr(GaussianNB, "predict_proba", lambda self, x: real(self, x)[:, ::-1])
    with pytest.raises(ExportParityError, match="predict_proba"):
        export_pipeline(pair, texts=["alpha beta one", "alpha one", "beta two"])


def test_export_checks_the_plain_python_rows_too(monkeypatch) -> None:
    """An explicit zero in a plain-path row changes no score or label, only the row."""
    reference, _ = fitted("multinomial_nb")
    real_row = Featurizer.row

    def row_with_an_explicit_zero(self, text, tally=None):  # type: ignore[no-untyped-def]
        columns, values = real_row(self, text, tally)
        if 0 not in columns:
            columns, values = [0, *columns], [0.0, *values]
        return columns, values

    monkeypatch.setattr(Featurizer, "row", row_with_an_explicit_zero)
    with pytest.raises(ExportParityError, match="plain-Python"):
        export_pipeline(reference, texts=["free prize now", "see you at lunch"])
