"""Issue 20: the exporter accepts scikit-learn's own classes only, and refuses at export
what the runtime would refuse (or answer ambiguously) later.

A ``TfidfVectorizer`` subclass whose ``build_preprocessor`` rewrote URLs was exported
and disagreed with the fitted model on 58 of 5,572 messages: parity was checked only
on the probe texts. Now any subclass of an accepted step is refused, naming it and the
methods it defines. Labels past 2**53, labels with a lone surrogate, vocabularies past
the runtime's limit and FeatureUnions of more blocks than it loads are all
``UnsupportedModelError``s at export.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

from exporter import export_pipeline
from exporter.features import UnsupportedModelError
from runtime.features import MAX_BLOCKS, MAX_VOCABULARY_TERMS
from runtime.modelfile import ModelError, check_classes
from tests.corpus import make_corpus

TEXTS, LABELS = make_corpus(120)


class UrlRewritingVectorizer(TfidfVectorizer):
    """The issue's subclass: its own preprocessor, which no model file can describe."""

    def build_preprocessor(self) -> Any:
        base = super().build_preprocessor()
        return lambda text: re.sub(r"https?://\S+|www\.\S+", " urltoken ", base(text))


class QuietHashing(HashingVectorizer):
    def transform(self, X: Any) -> Any:
        return super().transform(X)


class OwnTransformer(TfidfTransformer):
    pass


class OwnPipeline(Pipeline):
    pass


def refused(model: Any, tmp_path: Path, *words: str) -> str:
    target = tmp_path / "model.npz"
    with pytest.raises(UnsupportedModelError) as info:
        export_pipeline(model, target)
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert not target.exists()
    return message


def test_a_vectorizer_subclass_with_its_own_preprocessor_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    model = make_pipeline(UrlRewritingVectorizer(), MultinomialNB()).fit(TEXTS, LABELS)
    refused(model, tmp_path, "UrlRewritingVectorizer", "TfidfVectorizer", "build_preprocessor")


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ((QuietHashing(alternate_sign=False), MultinomialNB()), ("QuietHashing", "transform")),
        ((CountVectorizer(), OwnTransformer(), MultinomialNB()), ("OwnTransformer",)),
    ],
)
def test_any_subclass_of_an_accepted_step_is_refused(
    steps: tuple[Any, ...], words: tuple[str, ...], tmp_path: Path
) -> None:
    refused(make_pipeline(*steps).fit(TEXTS, LABELS), tmp_path, *words)


def test_a_pipeline_subclass_is_refused(tmp_path: Path) -> None:
    model = OwnPipeline([("v", TfidfVectorizer()), ("c", MultinomialNB())]).fit(TEXTS, LABELS)
    refused(model, tmp_path, "OwnPipeline")


def test_a_subclass_inside_a_feature_union_is_refused(tmp_path: Path) -> None:
    union = FeatureUnion([("words", TfidfVectorizer()), ("urls", UrlRewritingVectorizer())])
    model = make_pipeline(union, MultinomialNB()).fit(TEXTS, LABELS)
    refused(model, tmp_path, "'urls'", "UrlRewritingVectorizer")


def test_integer_labels_beyond_two_to_the_53_are_refused(tmp_path: Path) -> None:
    labels = [2**53 + 1 if label == "spam" else 0 for label in LABELS]
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(TEXTS, labels)
    refused(model, tmp_path, str(2**53 + 1), "2**53")


def test_integer_labels_up_to_two_to_the_53_are_exported(tmp_path: Path) -> None:
    labels = [2**53 if label == "spam" else -(2**53) for label in LABELS]
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(TEXTS, labels)
    assert export_pipeline(model).model.classes == (-(2**53), 2**53)


def test_the_loader_refuses_integer_labels_beyond_two_to_the_53_too() -> None:
    with pytest.raises(ModelError, match="2\\*\\*53"):
        check_classes([0, 2**53 + 1])


def test_a_label_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    labels = np.array(["ham\ud800" if label == "ham" else label for label in LABELS], dtype=object)
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(TEXTS, labels)
    refused(model, tmp_path, "surrogate")


@pytest.mark.slow  # a million-entry dict: ~1 s
def test_a_vocabulary_past_the_runtime_s_limit_is_refused_at_export(tmp_path: Path) -> None:
    model = make_pipeline(CountVectorizer(), MultinomialNB()).fit(TEXTS, LABELS)
    vectorizer = model.steps[0][1]
    vectorizer.vocabulary_ = {f"t{i}": i for i in range(1_000_000)}
    refused(model, tmp_path, "1000000", str(MAX_VOCABULARY_TERMS))


def test_a_feature_union_of_more_blocks_than_the_runtime_loads_is_refused(
    tmp_path: Path,
) -> None:
    members = [(f"m{i}", CountVectorizer()) for i in range(MAX_BLOCKS + 1)]
    model = make_pipeline(FeatureUnion(members), MultinomialNB()).fit(TEXTS, LABELS)
    refused(model, tmp_path, "FeatureUnion", str(MAX_BLOCKS + 1), str(MAX_BLOCKS))
