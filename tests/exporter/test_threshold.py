"""The decision threshold: chosen on held-out training folds, stored sealed, applied by classify.

``exporter/threshold.py`` picks it; ``runtime/decision.py`` defines the score it cuts and
checks it at load; ``Model.classify`` applies it; ``Model.threshold`` reports it.
"""

from __future__ import annotations

import io
import json
import random
import zipfile

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from exporter import export_pipeline
from exporter.threshold import (
    choose_threshold,
    decision_scores,
    family_class_of,
    labels_at,
    lowest_threshold,
)
from runtime.decision import THRESHOLD_KEY
from runtime.model import Model, ModelError
from runtime.modelfile import METADATA
from runtime.npz import npy_bytes
from tests.corpus import make_corpus
from tests.families import BUILDERS, fitted

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow


def noisy_corpus(n: int = 400, flip: float = 0.08) -> tuple[list[str], list[str]]:
    """The synthetic corpus with some labels flipped, so ham and spam scores overlap."""
    texts, labels = make_corpus(n, seed=11)
    rng = random.Random(3)
    flipped = {"ham": "spam", "spam": "ham"}
    return texts, [flipped[y] if rng.random() < flip else y for y in labels]


def held_out_scores(pipeline, texts: list[str], labels: list[str], family) -> np.ndarray:
    """Each text's score from a Pipeline fitted on the other folds, with scikit-learn alone.

    ``cross_val_predict`` would do, but it cannot ask for ``predict_joint_log_proba``.
    """
    scores = np.empty(len(texts))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for train, held_out in cv.split(texts, labels):
        fold = clone(pipeline).fit([texts[i] for i in train], [labels[i] for i in train])
        features = fold[:-1].transform([texts[i] for i in held_out])
        scores[held_out] = family.binary_score_batch(
            getattr(fold[-1], family.score_method)(features)
        )
    return scores


def dense_gaussian():
    """GaussianNB in a Pipeline (for cross_val_predict): dense rows, as the tutorial fits."""
    to_dense = FunctionTransformer(lambda x: x.toarray(), accept_sparse=True)
    return make_pipeline(TfidfVectorizer(sublinear_tf=True, max_df=0.5), to_dense, GaussianNB())


@pytest.mark.parametrize("name", ["gaussian_nb", "multinomial_nb", "linear_svc", "calibrated"])
@pytest.mark.parametrize("rate", [0.0, 0.01, 0.05, 0.2])
def test_threshold_meets_its_rate_on_held_out_folds(name: str, rate: float) -> None:
    texts, labels = noisy_corpus()
    unfitted = {
        "gaussian_nb": BUILDERS["gaussian_nb"](),
        "multinomial_nb": BUILDERS["multinomial_nb"](),
        "linear_svc": BUILDERS["linear_svc"](),
        "calibrated": BUILDERS["calibrated_isotonic"](),
    }[name]
    choice = choose_threshold(unfitted, texts, labels, rate, folds=5, random_state=42)

    pipeline = dense_gaussian() if name == "gaussian_nb" else unfitted
    scores = held_out_scores(pipeline, texts, labels, family_class_of(unfitted))
    ham = scores[np.array(labels) == "ham"]
    flagged = int(np.sum(ham > choice.value))
    assert flagged / len(ham) <= rate
    assert choice.cv_ham_flagged == pytest.approx(flagged / len(ham))
    # The lowest such cut: any lower one would flag one ham message more than allowed.
    assert int(np.sum(ham >= choice.value)) > int(rate * len(ham))
    assert choice.positive == "spam"


def test_lowest_threshold_refuses_impossible_rates() -> None:
    with pytest.raises(ValueError, match="--max-ham-flagged must be a rate"):
        lowest_threshold(np.array([0.1, 0.2]), 1.0)
    with pytest.raises(ValueError, match="--max-ham-flagged must be a rate"):
        lowest_threshold(np.array([0.1, 0.2]), -0.1)
    assert lowest_threshold(np.array([3.0, 1.0, 2.0, 2.0]), 0.0) == 3.0
    assert lowest_threshold(np.array([3.0, 1.0, 2.0, 2.0]), 0.25) == 2.0


def with_threshold(name: str, value: object, labeling: str = "binary", **overrides) -> bytes:
    fitted_model, model = fitted(name, labeling)
    section = {
        "score": {
            "predict_joint_log_proba": "joint_log_likelihood_difference",
            "decision_function": "decision_function",
            "predict_proba": "probability",
        }[model.family.score_method],
        "value": value,
        "positive": model.classes[-1],
        "max_ham_flagged": 0.01,
        **overrides,
    }
    texts, _ = make_corpus()
    return export_pipeline(fitted_model, texts=texts[:20], metadata={THRESHOLD_KEY: section}).data


@pytest.mark.parametrize("name", list(BUILDERS))
def test_classify_applies_the_threshold_to_every_family(name: str) -> None:
    fitted_model, plain = fitted(name)
    texts, _ = make_corpus(120, seed=5)
    texts += ["", "free", "see you", "zzz"]
    scores = decision_scores(fitted_model, texts)  # scikit-learn's own numbers
    cut = float(np.median(scores))
    model = Model.from_bytes(with_threshold(name, cut))
    want = labels_at(scores, cut, model.classes)
    assert 0 < want.count("spam") < len(want)
    for chunk in (texts[:3], texts):  # the plain path, then the NumPy batch
        answers = model.classify(chunk)
        assert [p["label"] for p in answers] == want[: len(chunk)]
        # Every answer says what decided it: the score that was cut, and the cut.
        for answer, score in zip(answers, scores, strict=False):
            decided = answer["decided_by"]
            assert decided["score"] == model.threshold["score"]
            assert decided["threshold"] == cut
            assert decided["value"] == pytest.approx(score, rel=1e-4, abs=1e-9)  # parity: elsewhere
            assert (decided["value"] > cut) == (answer["label"] == "spam")
    assert all("decided_by" not in p for p in plain.classify(texts))
    assert [e["label"] for e in model.explain(texts[:5])] == want[:5]
    assert model.predict(texts) == plain.predict(texts)  # scikit-learn's predict, untouched
    assert model.threshold == {
        "score": model.threshold["score"],
        "value": cut,
        "positive": "spam",
        "max_ham_flagged": 0.01,
    }
    assert plain.threshold is None


@pytest.mark.parametrize("name", ["multinomial_nb", "linear_svc", "calibrated_sigmoid"])
def test_default_threshold_is_scikit_learns_cut(name: str) -> None:
    _, plain = fitted(name)
    default = 0.5 if name.startswith("calibrated") else 0.0
    model = Model.from_bytes(with_threshold(name, default))
    texts, _ = make_corpus(200, seed=9)
    assert [p["label"] for p in model.classify(texts)] == plain.predict(texts)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"value": True}, "value must be a finite number"),
        ({"value": "0.5"}, "value must be a finite number"),
        ({"value": 10**400}, "value must be a finite number"),
        ({"score": "probability"}, "score must be 'decision_function'"),
        ({"positive": "ham"}, "positive must be the second class 'spam'"),
        ({"max_ham_flagged": 2}, "max_ham_flagged must be a rate"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_invalid_threshold_is_refused_by_name(overrides: dict, problem: str) -> None:
    with pytest.raises(ModelError, match=problem):
        with_threshold("linear_svc", **{"value": 0.1, **overrides})


def test_nan_threshold_is_refused() -> None:
    nan_section = {"score": "decision_function", "value": float("nan"), "positive": "spam"}
    with pytest.raises(ModelError, match="NaN is not allowed"):
        Model.from_bytes(reseal_metadata(with_threshold("linear_svc", 0.1), nan_section))


def test_probability_threshold_must_be_a_probability() -> None:
    with pytest.raises(ModelError, match="value must be a probability from 0 to 1"):
        with_threshold("calibrated_sigmoid", 1.5)


def test_threshold_is_for_two_classes_only() -> None:
    with pytest.raises(ModelError, match="two-class models only"):
        with_threshold("linear_svc", 0.0, labeling="three_classes", positive="spam")


def reseal_metadata(data: bytes, section: object) -> bytes:
    """The file with its threshold section replaced, the checksum left as it was."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    raw = members[f"{METADATA}.npy"]
    header_end = raw.index(b"\n") + 1
    metadata = json.loads(raw[header_end:])
    metadata[THRESHOLD_KEY] = section
    text = json.dumps(metadata).encode()  # allows NaN, as a hand-edited file might
    members[f"{METADATA}.npy"] = npy_bytes("|u1", (len(text),), text)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    return buffer.getvalue()


def test_threshold_is_covered_by_the_content_checksum() -> None:
    data = with_threshold("linear_svc", 0.25)
    assert Model.from_bytes(data).threshold["value"] == 0.25
    edited = reseal_metadata(
        data,
        {"score": "decision_function", "value": -5.0, "positive": "spam", "max_ham_flagged": 0.01},
    )
    with pytest.raises(ModelError, match="content checksum mismatch"):
        Model.from_bytes(edited)
