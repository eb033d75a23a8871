"""Learnable pipelines fitted on the synthetic corpus, and reports, for the learning tests."""

from __future__ import annotations

import copy
import functools
from typing import Any, NamedTuple

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline

from exporter import export_pipeline
from runtime.reports import Report, new_report
from tests.corpus import make_corpus

NOON = 1_796_644_800.0  # 2026-12-07T12:00:00Z


def report(text: str, label: str, reporter: str = "tester", at: float = NOON) -> Report:
    """A report as POST /feedback makes one (the id is its content hash)."""
    return new_report(text=text, label=label, reporter=reporter, model_sha256="0" * 64, now=at)


# One pipeline per learnable family, with vocabulary and hashing features among them.
PIPELINES = {
    "multinomial_hashing": lambda: make_pipeline(
        HashingVectorizer(n_features=2**12, ngram_range=(1, 2), alternate_sign=False, norm=None),
        MultinomialNB(alpha=0.1),
    ),
    "multinomial_tfidf": lambda: make_pipeline(
        TfidfVectorizer(sublinear_tf=True), MultinomialNB(alpha=0.1, fit_prior=False)
    ),
    "complement_hashing_l2": lambda: make_pipeline(
        HashingVectorizer(n_features=2**10, alternate_sign=False), ComplementNB(alpha=0.3)
    ),
    "complement_norm": lambda: make_pipeline(TfidfVectorizer(), ComplementNB(alpha=0.5, norm=True)),
    "bernoulli": lambda: make_pipeline(
        TfidfVectorizer(), BernoulliNB(alpha=0.1, class_prior=[0.7, 0.3])
    ),
    "bernoulli_hashing": lambda: make_pipeline(
        HashingVectorizer(n_features=2**11, alternate_sign=False, norm=None),
        BernoulliNB(alpha=1.0, binarize=1.0),
    ),
}


class Fitted(NamedTuple):
    pipeline: Pipeline
    data: bytes  # the learnable export


@functools.cache
def fitted(name: str) -> Fitted:
    texts, labels = make_corpus(240, seed=11)
    pipeline = PIPELINES[name]().fit(texts[:200], labels[:200])
    exported = export_pipeline(pipeline, learnable=True, golden=(texts[200:], labels[200:]))
    return Fitted(pipeline, exported.data)


def sklearn_learned(pipeline: Pipeline, reports: list[Any]) -> Pipeline:
    """``classifier.partial_fit(features(report_texts), report_labels)`` on a copy."""
    learned = copy.deepcopy(pipeline)
    ordered = sorted({r.report_id: r for r in reports}.values(), key=lambda r: r.report_id)
    if ordered:
        features = learned[:-1].transform([r.text for r in ordered])
        learned[-1].partial_fit(features, np.array([r.label for r in ordered]))
    return learned
