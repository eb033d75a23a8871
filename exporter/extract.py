"""Read a fitted scikit-learn model into plain arrays and settings ("read", not "emit").

Only settings the NumPy runtime reproduces exactly are accepted. Anything else (a
callable tokenizer, float32 output, another classifier) is refused here, at export time,
with the option named, rather than silently predicting differently in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.naive_bayes import GaussianNB

from runtime.analyzer import ACCENT_STRIPPERS, ANALYZERS


class UnsupportedModelError(ValueError):
    """The fitted model uses a setting the runtime cannot reproduce exactly."""


@dataclass(frozen=True)
class ModelParts:
    """Everything the runtime needs, with no scikit-learn objects left."""

    vocabulary: list[str]  # term of column i at position i
    idf: np.ndarray | None
    theta: np.ndarray
    var: np.ndarray
    class_prior: np.ndarray
    classes: list[str]
    vectorizer_settings: dict[str, Any]
    classifier_settings: dict[str, Any]


def extract(vectorizer: TfidfVectorizer, classifier: GaussianNB) -> ModelParts:
    if type(vectorizer) is not TfidfVectorizer:
        raise UnsupportedModelError(f"vectorizer must be TfidfVectorizer, got {type(vectorizer)}")
    if type(classifier) is not GaussianNB:
        raise UnsupportedModelError(f"classifier must be GaussianNB, got {type(classifier)}")
    settings = vectorizer_settings(vectorizer)
    classes = classifier.classes_.tolist()
    if not all(isinstance(c, str) for c in classes):
        raise UnsupportedModelError("class labels must be strings (for example 'ham'/'spam')")

    vocabulary = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        vocabulary[column] = term
    theta = np.asarray(classifier.theta_, dtype=np.float64)
    if theta.shape[1] != len(vocabulary):
        raise UnsupportedModelError("classifier was fitted on a different number of features")
    return ModelParts(
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None,
        theta=theta,
        var=np.asarray(classifier.var_, dtype=np.float64),
        class_prior=np.asarray(classifier.class_prior_, dtype=np.float64),
        classes=classes,
        vectorizer_settings=settings,
        classifier_settings={
            "type": "GaussianNB",
            "var_smoothing": float(classifier.var_smoothing),
            "epsilon": float(classifier.epsilon_),
            "priors": None if classifier.priors is None else list(map(float, classifier.priors)),
        },
    )


def vectorizer_settings(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    """The parameters the runtime relies on, after refusing the ones it cannot honour."""
    _refuse_unsupported(vectorizer)
    stop_words = vectorizer.stop_words
    if stop_words == "english":
        stop_words = ENGLISH_STOP_WORDS
    return {
        "analyzer": vectorizer.analyzer,
        "lowercase": bool(vectorizer.lowercase),
        "strip_accents": vectorizer.strip_accents,
        "token_pattern": vectorizer.token_pattern,
        "ngram_range": [int(n) for n in vectorizer.ngram_range],
        "stop_words": None if stop_words is None else sorted(stop_words),
        "norm": vectorizer.norm,
        "use_idf": bool(vectorizer.use_idf),
        "smooth_idf": bool(vectorizer.smooth_idf),
        "sublinear_tf": bool(vectorizer.sublinear_tf),
        "binary": bool(vectorizer.binary),
        # Fit-time only: their effect is already in the vocabulary and IDF weights.
        "fit_params": {
            "max_df": vectorizer.max_df,
            "min_df": vectorizer.min_df,
            "max_features": vectorizer.max_features,
            "fixed_vocabulary": vectorizer.vocabulary is not None,
        },
    }


def _refuse_unsupported(vectorizer: TfidfVectorizer) -> None:
    problems = []
    for option in ("preprocessor", "tokenizer"):
        if getattr(vectorizer, option) is not None:
            problems.append(f"{option}: a custom callable cannot be exported")
    if callable(vectorizer.analyzer) or vectorizer.analyzer not in ANALYZERS:
        problems.append(f"analyzer: must be one of {ANALYZERS}, got {vectorizer.analyzer!r}")
    if vectorizer.strip_accents is not None and vectorizer.strip_accents not in ACCENT_STRIPPERS:
        problems.append(
            f"strip_accents: must be one of {ACCENT_STRIPPERS} or None, "
            f"got {vectorizer.strip_accents!r}"
        )
    if vectorizer.input != "content":
        problems.append(f"input: only 'content' is supported, got {vectorizer.input!r}")
    if np.dtype(vectorizer.dtype) != np.float64:
        problems.append(f"dtype: only float64 is supported, got {vectorizer.dtype!r}")
    if vectorizer.norm not in ("l1", "l2", None):
        problems.append(f"norm: must be 'l1', 'l2' or None, got {vectorizer.norm!r}")
    stop_words = vectorizer.stop_words
    if (
        stop_words is not None
        and stop_words != "english"
        and (isinstance(stop_words, str) or not all(isinstance(w, str) for w in stop_words))
    ):
        problems.append("stop_words: must be 'english', a list of strings, or None")
    if vectorizer.analyzer == "word" and vectorizer.tokenizer is None:
        pattern = vectorizer.token_pattern
        if not isinstance(pattern, str):
            problems.append("token_pattern: must be a string")
        elif re.compile(pattern).groups > 1:
            problems.append("token_pattern: more than one capturing group")
    if problems:
        raise UnsupportedModelError(
            "the runtime cannot reproduce these settings exactly: " + "; ".join(problems)
        )
