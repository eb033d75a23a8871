"""``export_pipeline`` on models the way users write them, and the file it writes."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB, GaussianNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

from exporter import export_pipeline
from exporter.errors import UnsupportedModelError
from exporter.probe import PROBE_TEXTS
from runtime.model import Model
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE, make_corpus
from tests.reference import assert_same_as_sklearn
from tests.texts import TRICKY

TEXTS, LABELS = make_corpus(200)


def make_pair() -> tuple[TfidfVectorizer, GaussianNB]:
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    dense = vectorizer.fit_transform(TEXTS).toarray()
    return vectorizer, GaussianNB().fit(dense, LABELS)


USER_MODELS = {
    "make_pipeline": lambda: make_pipeline(TfidfVectorizer(), MultinomialNB()),
    "named_steps": lambda: Pipeline(
        [("vectorize", CountVectorizer(ngram_range=(1, 2))), ("nb", ComplementNB(norm=True))]
    ),
    "nested_pipeline": lambda: make_pipeline(
        make_pipeline(CountVectorizer(), TfidfTransformer()), LogisticRegression()
    ),
    "feature_union_in_pipeline": lambda: Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(ngram_range=(1, 2))),
                        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))),
                        ("counted", make_pipeline(CountVectorizer(), TfidfTransformer())),
                        ("unused", "drop"),
                    ]
                ),
            ),
            ("svm", LinearSVC()),
        ]
    ),
    "make_union_with_hashing": lambda: make_pipeline(
        make_union(
            TfidfVectorizer(),
            HashingVectorizer(n_features=2**12, analyzer="char", ngram_range=(1, 3)),
        ),
        SGDClassifier(loss="log_loss", random_state=0),
    ),
}


def fit_user_model(name: str) -> Any:
    return USER_MODELS[name]().fit(TEXTS, LABELS)


@pytest.mark.slow  # ~1.5 s in all: the fast loop keeps one export per family elsewhere
@pytest.mark.parametrize("name", list(USER_MODELS))
@pytest.mark.parametrize("texts", ["given", "probe"])
def test_user_pipelines_export_and_match(name: str, texts: str) -> None:
    model = fit_user_model(name)
    exported = export_pipeline(model, texts=TEXTS[:50] if texts == "given" else None)
    assert exported.sha256 == hashlib.sha256(exported.data).hexdigest()
    assert exported.model.model_id == exported.sha256
    assert_same_as_sklearn(exported.model, model, TRICKY + list(PROBE_TEXTS[:40]))


@pytest.mark.parametrize("as_list", [False, True], ids=["tuple", "list"])
def test_vectorizer_gaussian_nb_pair(as_list: bool) -> None:
    pair = make_pair()
    exported = export_pipeline(list(pair) if as_list else pair)
    assert exported.model.family_name == "gaussian_nb"
    assert_same_as_sklearn(exported.model, pair, TRICKY)


def test_written_file_loads_and_is_the_checked_bytes(tmp_path) -> None:
    target = tmp_path / "deep" / "er" / "model.npz"
    exported = export_pipeline(fit_user_model("make_pipeline"), target)
    assert target.read_bytes() == exported.data
    assert [p.name for p in target.parent.iterdir()] == ["model.npz"]  # no temporary left
    loaded = Model.from_path(target, expected_sha256=exported.sha256)
    assert loaded.predict([SPAM_EXAMPLE, HAM_EXAMPLE]) == ["spam", "ham"]


def test_an_existing_file_is_replaced_whole_and_kept_on_refusal(tmp_path) -> None:
    target = tmp_path / "model.npz"
    first = export_pipeline(fit_user_model("make_pipeline"), target)
    second = export_pipeline(make_pair(), target)
    assert target.read_bytes() == second.data != first.data
    unsupported = make_pipeline(TfidfVectorizer(dtype=np.float32), MultinomialNB())
    with pytest.raises(UnsupportedModelError):
        export_pipeline(unsupported.fit(TEXTS, LABELS), target)
    assert target.read_bytes() == second.data
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


@pytest.mark.slow  # two full exports
def test_export_is_deterministic() -> None:
    assert export_pipeline(make_pair()).data == export_pipeline(make_pair()).data
    model = fit_user_model("feature_union_in_pipeline")
    assert export_pipeline(model).data == export_pipeline(model).data


def test_metadata_is_carried_and_cannot_replace_the_schema() -> None:
    exported = export_pipeline(
        make_pair(), metadata={"training": {"recipe": "mine"}, "classes": ["forged"]}
    )
    meta = exported.model.metadata
    assert meta["training"] == {"recipe": "mine"}
    assert meta["classes"] == ["ham", "spam"]
    assert meta["created_by"]["scikit-learn"]


@pytest.mark.parametrize(
    ("model", "present", "absent"),
    [
        (
            lambda: make_pipeline(TfidfVectorizer(), LinearSVC()),
            {"decision_function"},
            {"predict_proba", "predict_joint_log_proba"},
        ),
        (
            lambda: make_pipeline(TfidfVectorizer(), MultinomialNB()),
            {"predict_proba", "predict_joint_log_proba"},
            {"decision_function"},
        ),
        (
            lambda: make_pipeline(TfidfVectorizer(), LogisticRegression()),
            {"predict_proba", "decision_function"},
            {"predict_joint_log_proba"},
        ),
        (
            lambda: make_pipeline(TfidfVectorizer(), SGDClassifier(random_state=0)),
            {"decision_function"},
            {"predict_proba", "predict_joint_log_proba"},
        ),
    ],
    ids=["linear_svc", "multinomial_nb", "logistic_regression", "sgd_hinge"],
)
def test_model_offers_exactly_sklearns_method_names(model, present, absent) -> None:
    fitted = model().fit(TEXTS, LABELS)
    loaded, classifier = export_pipeline(fitted).model, fitted[-1]
    for name in present:
        assert hasattr(classifier, name)
        assert callable(getattr(loaded, name))
    for name in absent:
        assert not hasattr(classifier, name)
        assert not hasattr(loaded, name)
        with pytest.raises(AttributeError, match=f"{loaded.family_name} model has no {name}"):
            getattr(loaded, name)
    assert loaded.predict([SPAM_EXAMPLE]) == fitted.predict([SPAM_EXAMPLE]).tolist()


def test_integer_labels_are_answered_as_numbers() -> None:
    targets = [7 if label == "spam" else -2 for label in LABELS]
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(TEXTS, targets)
    loaded = export_pipeline(model).model
    assert loaded.classes == (-2, 7)
    [answer] = loaded.classify([SPAM_EXAMPLE])
    assert answer["label"] == 7
    assert type(answer["label"]) is int
    assert set(answer["probabilities"]) == {-2, 7}


def test_classifier_fitted_on_other_features_is_refused() -> None:
    vectorizer = TfidfVectorizer().fit(TEXTS)
    other = TfidfVectorizer(ngram_range=(1, 2)).fit(TEXTS)
    classifier = MultinomialNB().fit(other.transform(TEXTS), LABELS)
    with pytest.raises(UnsupportedModelError, match=r"fitted on \d+ features"):
        export_pipeline(make_pipeline(vectorizer, classifier))


def test_the_exported_repr_names_the_file_without_dumping_it() -> None:
    from tests.corpus import fit_tutorial, make_corpus

    texts, _ = make_corpus()
    exported = export_pipeline(fit_tutorial(), texts=texts[:20])
    text = repr(exported)
    assert text == (
        f"Exported(sha256={exported.sha256!r}, bytes={len(exported.data)}, "
        "family='gaussian_nb', classes=['ham', 'spam'])"
    )
