"""runtime.analyzer gives scikit-learn's terms, in scikit-learn's order, for any text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from runtime.analyzer import (
    _ASCII_TOKENS,
    _SAME_TOKENS,
    MAX_NGRAM,
    SAFE_TOKEN_PATTERNS,
    AnalyzerSettings,
    build_analyzer,
    build_batch_analyzer,
    token_finder,
    token_finder_all,
)
from tests.texts import TRICKY, any_texts, word_texts

CASES: list[dict[str, Any]] = [
    {},
    {"lowercase": False, "ngram_range": (1, 3)},
    {"strip_accents": "ascii", "stop_words": "english"},
    {"strip_accents": "unicode", "ngram_range": (2, 2), "stop_words": ["the", "a", "free"]},
    *({"token_pattern": pattern} for pattern in SAFE_TOKEN_PATTERNS),
    {"analyzer": "char", "ngram_range": (1, 4)},
    {"analyzer": "char", "ngram_range": (3, 5), "strip_accents": "unicode"},
    {"analyzer": "char_wb", "ngram_range": (2, 5)},
    {"analyzer": "char_wb", "ngram_range": (1, 1), "lowercase": False},
    {"analyzer": "char_wb", "ngram_range": (4, MAX_NGRAM), "strip_accents": "ascii"},
]


def settings_for(case: dict[str, Any]) -> AnalyzerSettings:
    stop_words = case.get("stop_words")
    if stop_words == "english":
        stop_words = ENGLISH_STOP_WORDS
    return AnalyzerSettings(
        **{k: v for k, v in case.items() if k != "stop_words"},
        stop_words=None if stop_words is None else frozenset(stop_words),
    )


def sklearn_terms(case: dict[str, Any], text: str) -> list[str]:
    return CountVectorizer(**case).build_analyzer()(text)


ids = [",".join(f"{k}={v}" for k, v in c.items()) or "defaults" for c in CASES]
cases = pytest.mark.parametrize("case", CASES, ids=ids)


@cases
def test_tricky_texts(case: dict[str, Any]) -> None:
    analyze = build_analyzer(settings_for(case))
    analyze_all = build_batch_analyzer(settings_for(case))
    expected = [sklearn_terms(case, text) for text in TRICKY]
    assert [list(analyze(text)) for text in TRICKY] == expected
    assert analyze_all(TRICKY) == expected
    lazy = build_analyzer(settings_for(case), lazy=True)
    assert [list(lazy(text)) for text in TRICKY] == expected


@cases
@settings(max_examples=40, deadline=None)
@given(text=st.one_of(any_texts, word_texts))
def test_arbitrary_texts(case: dict[str, Any], text: str) -> None:
    expected = sklearn_terms(case, text)
    assert list(build_analyzer(settings_for(case), lazy=True)(text)) == expected
    assert build_batch_analyzer(settings_for(case))([text]) == [expected]


@pytest.mark.parametrize("pattern", sorted(_SAME_TOKENS))
@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(), any_texts, word_texts))
def test_a_faster_token_pattern_finds_the_same_tokens(pattern: str, text: str) -> None:
    assert token_finder(pattern)(text) == re.findall(pattern, text)
    assert _SAME_TOKENS[pattern] != pattern


@pytest.mark.parametrize("pattern", sorted(_SAME_TOKENS))
@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.one_of(st.text(), st.text(st.characters(max_codepoint=127)))))
def test_a_batch_finds_the_same_tokens_in_ascii_and_other_texts(
    pattern: str, texts: list[str]
) -> None:
    """ASCII texts are scanned by the ASCII form of the faster pattern."""
    assert list(token_finder_all(pattern)(texts)) == [re.findall(pattern, t) for t in texts]
    assert set(_ASCII_TOKENS) == set(_SAME_TOKENS.values())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"analyzer": "chars"}, "analyzer"),
        ({"strip_accents": "latin"}, "strip_accents"),
        ({"ngram_range": (0, 1)}, "ngram_range"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
        ({"ngram_range": (1, MAX_NGRAM + 1)}, "ngram_range"),
        ({"token_pattern": r"(a|aa)+$"}, "token_pattern"),
    ],
)
def test_settings_scikit_learn_or_the_runtime_cannot_honour(change: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        build_analyzer(AnalyzerSettings(**change))
