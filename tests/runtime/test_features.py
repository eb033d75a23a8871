"""Feature blocks: the settings' JSON, the stored vocabulary, and batch edge cases."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline

from exporter import export_pipeline
from runtime.analyzer import AnalyzerSettings
from runtime.features import FeatureBlock, decode_vocabulary, encode_vocabulary
from runtime.model import VECTORISE_FROM
from tests.corpus import make_corpus
from tests.reference import assert_same_as_sklearn

TEXTS, LABELS = make_corpus(150)


@pytest.mark.parametrize(
    ("hashing", "then"),
    [
        (HashingVectorizer(n_features=2**8), None),
        (HashingVectorizer(n_features=2**8, alternate_sign=False, norm="l1"), None),
        (HashingVectorizer(n_features=2**8, norm=None), TfidfTransformer()),
    ],
    ids=["signed-l2", "unsigned-l1", "tfidf"],
)
def test_a_batch_with_no_terms_at_all(hashing, then) -> None:
    """Regression: a hashed batch of empty texts crashed the norm (bincount of nothing is int)."""
    steps = [hashing, then] if then is not None else [hashing]
    pipeline = make_pipeline(*steps, SGDClassifier(random_state=0)).fit(TEXTS, LABELS)
    model = export_pipeline(pipeline).model
    empty = ["", " ", "!!", "\n"] * VECTORISE_FROM
    assert_same_as_sklearn(model, pipeline, empty)
    answers = model.classify(empty)  # the batch path the API takes
    assert [a["label"] for a in answers] == pipeline.predict(empty).tolist()


def block(**changes) -> FeatureBlock:
    settings = {
        "analyzer": AnalyzerSettings(ngram_range=(1, 2), stop_words=frozenset({"a", "the"})),
        "terms": "vocabulary",
        "n_features": 10,
        "binary": False,
        "steps": ("sublinear_tf", "idf", "l2"),
        "separator": "\n",
    }
    return FeatureBlock(**{**settings, **changes})


@pytest.mark.parametrize(
    "original",
    [
        block(),
        block(terms="hashing", separator=None, alternate_sign=True, steps=("l1",)),
        block(binary=True, steps=()),
    ],
)
def test_block_json_round_trip(original: FeatureBlock) -> None:
    assert FeatureBlock.from_json(original.to_json()) == original


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"steps": ["idf", "idf"]}, "idf"),
        ({"steps": ["l3"]}, "steps"),
        ({"terms": "bag"}, "terms"),
        ({"n_features": 0}, "n_features"),
        ({"n_features": True}, "n_features"),
        ({"separator": None}, "separator"),
        ({"alternate_sign": True}, "alternate_sign"),
        ({"binary": 1}, "binary"),
        ({"ngram_range": [1]}, "ngram_range"),
        ({"token_pattern": ".*"}, "token_pattern"),
        ({"analyzer": "sentence"}, "analyzer"),
    ],
)
def test_block_json_refusals_name_the_setting(change: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        FeatureBlock.from_json({**block().to_json(), **change})


def test_signed_hashing_with_sublinear_tf_is_refused_in_the_file() -> None:
    value = block(terms="hashing", separator=None, alternate_sign=True).to_json()
    with pytest.raises(ValueError, match="sublinear_tf"):
        FeatureBlock.from_json(value)


@pytest.mark.parametrize(
    "terms",
    [
        ["free", "prize"],
        ["line\nbreak", "nul\x00byte", "unit\x1fsep", "café 東京"],
        ["", "x"],
    ],
)
def test_vocabulary_round_trip(terms: list[str]) -> None:
    separator, blob = encode_vocabulary(terms)
    assert not any(separator in term for term in terms)
    assert decode_vocabulary(blob, separator, len(terms)) == terms


def test_vocabulary_of_the_wrong_size_is_refused() -> None:
    separator, blob = encode_vocabulary(["a", "b", "c"])
    with pytest.raises(ValueError, match="3 terms"):
        decode_vocabulary(blob, separator, 4)
