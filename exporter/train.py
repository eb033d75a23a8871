"""The built-in recipes, fitted with scikit-learn on the tutorial's split.

``tutorial`` is the classic recipe and stays the default: TF-IDF + GaussianNB, which
scikit-learn can only fit on dense rows, so it is a (vectorizer, classifier) pair rather
than a Pipeline. The others are Pipelines a user would write, each of whose vectorizers
reads text through ``exporter.normalize.fold_leet`` (obfuscated spellings such as
fullwidth letters, "fr\\u200bee" or "fr33" count as "free"); ``best`` names the one we recommend,
chosen by the grouped protocol (docs/models.md, ``exporter/evaluate.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from exporter.dataset import Dataset
from exporter.normalize import fold_leet

TUTORIAL_VECTORIZER_PARAMS: dict[str, Any] = {"sublinear_tf": True, "max_df": 0.5}
DEFAULT_RECIPE = "tutorial"
BEST_RECIPE = "compact_svc"


NORMALISER = fold_leet  # every recipe but the tutorial reads text through it


def _tfidf(params: dict[str, Any]) -> TfidfVectorizer:
    return TfidfVectorizer(**{**TUTORIAL_VECTORIZER_PARAMS, **params})


def _folded_tfidf(params: dict[str, Any]) -> TfidfVectorizer:
    """The tutorial's TF-IDF reading normalised text (a user's override still wins)."""
    return _tfidf({"preprocessor": NORMALISER, **params})


def hashed_char_grams(n_features: int) -> HashingVectorizer:
    """The sgd_hashing recipe's features: normalised char_wb 1-4 grams, hashed, unsigned
    counts (its TfidfTransformer weighs them). The parity matrix builds it small."""
    return HashingVectorizer(
        n_features=n_features,
        analyzer="char_wb",
        ngram_range=(1, 4),
        alternate_sign=False,
        norm=None,
        preprocessor=NORMALISER,
    )


def _words_and_chars(
    *, word_min_df: int = 1, char_min_df: int = 2, char_range: tuple[int, int] = (2, 5)
) -> FeatureUnion:
    """Word 1-2 grams beside char_wb n-grams: misspellings still share most n-grams.

    ``min_df`` above 1 drops the n-grams seen in fewer training messages: most of a
    vocabulary, and terms that can only memorise the message they came from.
    """
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=word_min_df,
                    preprocessor=NORMALISER,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=char_range,
                    sublinear_tf=True,
                    min_df=char_min_df,
                    preprocessor=NORMALISER,
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    build: Callable[[dict[str, Any]], Any]  # vectorizer overrides -> unfitted model
    takes_vectorizer_params: bool = False
    learnable: bool = False  # exported with what the runtime's learner needs (--learnable)


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "tutorial",
            "TfidfVectorizer(sublinear_tf, max_df=0.5) + GaussianNB: the tutorial, the default",
            lambda p: (_tfidf(p), GaussianNB()),
            takes_vectorizer_params=True,
        ),
        Recipe(
            "multinomial_nb",
            "the tutorial's TF-IDF + MultinomialNB(alpha=0.1)",
            lambda p: make_pipeline(_folded_tfidf(p), MultinomialNB(alpha=0.1)),
            takes_vectorizer_params=True,
        ),
        Recipe(
            "complement_nb",
            "the tutorial's TF-IDF + ComplementNB(alpha=0.3)",
            lambda p: make_pipeline(_folded_tfidf(p), ComplementNB(alpha=0.3)),
            takes_vectorizer_params=True,
        ),
        Recipe(
            "bernoulli_nb",
            "the tutorial's TF-IDF + BernoulliNB(alpha=0.1): word presence",
            lambda p: make_pipeline(_folded_tfidf(p), BernoulliNB(alpha=0.1)),
            takes_vectorizer_params=True,
        ),
        Recipe(
            "logistic_regression",
            "word 1-2 + char_wb 2-5 TF-IDF + LogisticRegression(C=30)",
            lambda p: make_pipeline(_words_and_chars(), LogisticRegression(C=30, max_iter=1000)),
        ),
        Recipe(
            "linear_svc",
            "word 1-2 + char_wb 2-5 TF-IDF + LinearSVC",
            lambda p: make_pipeline(_words_and_chars(), LinearSVC()),
        ),
        Recipe(
            "calibrated_svc",
            "word 1-2 + char_wb 2-5 TF-IDF + CalibratedClassifierCV(LinearSVC, sigmoid)",
            lambda p: make_pipeline(
                _words_and_chars(), CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=5)
            ),
        ),
        Recipe(
            "compact_svc",
            "word 1-2 (min_df=2) + char_wb 2-3 (min_df=3) TF-IDF + CalibratedClassifierCV("
            "LinearSVC, sigmoid): calibrated_svc's model on a pruned vocabulary, under 1 MiB: best",
            lambda p: make_pipeline(
                _words_and_chars(word_min_df=2, char_min_df=3, char_range=(2, 3)),
                CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=5),
            ),
        ),
        Recipe(
            "sgd_hashing",
            "HashingVectorizer(2**16, char_wb 1-4) + TfidfTransformer(sublinear_tf) + "
            "SGDClassifier(modified_huber, alpha=1e-4): no vocabulary stored",
            # Character n-grams, not words: words spaced out letter by letter and joined
            # back by the normaliser ("freeentry") still share most of their n-grams.
            lambda p: make_pipeline(
                hashed_char_grams(2**16),
                TfidfTransformer(sublinear_tf=True),
                SGDClassifier(loss="modified_huber", alpha=1e-4, random_state=42),
            ),
        ),
        Recipe(
            "learnable",
            "HashingVectorizer(2**18) + TfidfTransformer(sublinear_tf) + MultinomialNB(alpha=0.01):"
            " learns reports, even words it never saw (benchmarks/learnable_settings.md)",
            lambda p: make_pipeline(
                HashingVectorizer(
                    n_features=2**18, alternate_sign=False, norm=None, preprocessor=NORMALISER
                ),
                TfidfTransformer(sublinear_tf=True),
                MultinomialNB(alpha=0.01),
            ),
            learnable=True,
        ),
        Recipe(
            "ridge",
            "the tutorial's TF-IDF + RidgeClassifier",
            lambda p: make_pipeline(_folded_tfidf(p), RidgeClassifier()),
            takes_vectorizer_params=True,
        ),
    )
}


def resolve_recipe(name: str) -> Recipe:
    if name == "best":
        name = BEST_RECIPE
    recipe = RECIPES.get(name)
    if recipe is None:
        raise ValueError(f"unknown recipe {name!r}; choose one of: best, {', '.join(RECIPES)}")
    return recipe


@dataclass(frozen=True)
class TrainingConfig:
    recipe: str = DEFAULT_RECIPE
    test_size: float = 0.1
    random_state: int = 42
    vectorizer_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainedModel:
    model: Any  # a fitted Pipeline, or a (vectorizer, GaussianNB) pair
    recipe: str
    test_texts: list[str]
    test_labels: list[str]
    n_train: int
    train_texts: list[str] = field(default_factory=list, repr=False)
    train_labels: list[str] = field(default_factory=list, repr=False)

    @property
    def vectorizer(self) -> Any:
        """The tutorial's vectorizer (for benchmarks that serve it the tutorial's way)."""
        assert isinstance(self.model, tuple), "only the tutorial recipe is a pair"
        return self.model[0]

    @property
    def classifier(self) -> Any:
        assert isinstance(self.model, tuple), "only the tutorial recipe is a pair"
        return self.model[1]


def build(config: TrainingConfig) -> Any:
    """The unfitted model, so its settings can be checked before any training."""
    recipe = resolve_recipe(config.recipe)
    if config.vectorizer_params and not recipe.takes_vectorizer_params:
        raise ValueError(
            f"--vectorizer-param applies to recipes with a single TfidfVectorizer; "
            f"{recipe.name!r} has several"
        )
    return recipe.build(config.vectorizer_params)


def fit(model: Any, texts: list[str], labels: list[Any]) -> Any:
    """A Pipeline's own fit, or the (vectorizer, classifier) pair fitted on dense rows."""
    if isinstance(model, tuple):
        vectorizer, classifier = model
        # GaussianNB needs dense input; this is the tutorial's choice, kept for parity.
        classifier.fit(vectorizer.fit_transform(texts).toarray(), np.asarray(labels))
        return model
    return model.fit(texts, labels)


def train(dataset: Dataset, config: TrainingConfig, model: Any = None) -> TrainedModel:
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        dataset.texts,
        dataset.labels,
        test_size=config.test_size,
        random_state=config.random_state,
    )
    fitted = fit(build(config) if model is None else model, list(train_texts), list(train_labels))
    return TrainedModel(
        model=fitted,
        recipe=resolve_recipe(config.recipe).name,
        test_texts=list(test_texts),
        test_labels=list(test_labels),
        n_train=len(train_texts),
        train_texts=list(train_texts),
        train_labels=list(train_labels),
    )
