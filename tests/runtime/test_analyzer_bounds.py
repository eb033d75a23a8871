"""Issue 8.2: the analyzer settings a model file may carry keep a request's cost linear.

``runtime/analyzer.py`` decides it (MAX_NGRAM, SAFE_TOKEN_PATTERNS; why is written
there). Re-sealed files with out-of-bounds settings are refused at load in
test_loader_bounds.py; here, the bounds themselves: with the worst settings allowed,
the number of terms and the characters they hold grow at most linearly with the text,
and no safe token pattern nests a repeat inside a repeat (what makes ``(a+)+b``
backtrack exponentially).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.analyzer import (
    MAX_NGRAM,
    SAFE_TOKEN_PATTERNS,
    AnalyzerSettings,
    build_analyzer,
    check_settings,
)

try:  # Python 3.11+: the parser moved; only its tree is used
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

WORST = [
    AnalyzerSettings(analyzer=analyzer, token_pattern=pattern, ngram_range=(1, MAX_NGRAM))
    for analyzer in ("char", "char_wb")
    for pattern in SAFE_TOKEN_PATTERNS[:1]
] + [
    AnalyzerSettings(analyzer="word", token_pattern=pattern, ngram_range=(1, MAX_NGRAM))
    for pattern in SAFE_TOKEN_PATTERNS
]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab1 \t\n.!é"), max_size=300),
    options=st.sampled_from(WORST),
)
def test_terms_grow_linearly_with_the_text(text: str, options: AnalyzerSettings) -> None:
    terms = list(build_analyzer(options)(text))
    length = len(text) + 2  # char_wb pads each word with two spaces
    assert len(terms) <= 3 * MAX_NGRAM * length
    # Each character sits in at most MAX_NGRAM n-grams of each of MAX_NGRAM sizes.
    assert sum(map(len, terms)) <= 3 * MAX_NGRAM * MAX_NGRAM * length


def _nested_repeat(pattern: str) -> bool:
    """Whether a quantified group contains another quantifier (the backtracking shape)."""
    repeats = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT}

    def walk(items: object, inside: bool) -> bool:
        for op, value in items:  # type: ignore[attr-defined]
            if op in repeats and (inside or walk(value[2], True)):
                return True
            if op == sre_parse.SUBPATTERN and walk(value[3], inside):
                return True
            if op == sre_parse.BRANCH and any(walk(branch, inside) for branch in value[1]):
                return True
        return False

    return walk(sre_parse.parse(pattern), False)


def test_the_detector_sees_a_backtracking_pattern() -> None:
    assert _nested_repeat(r"(a+)+b")
    assert _nested_repeat(r"(\w|\d)*\s(x*)*")
    assert not _nested_repeat(r"(?u)\b\w\w+\b")


@pytest.mark.parametrize("pattern", SAFE_TOKEN_PATTERNS)
def test_safe_patterns_nest_no_repeats(pattern: str) -> None:
    assert not _nested_repeat(pattern)
    re.compile(pattern)


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        (AnalyzerSettings(ngram_range=(1, MAX_NGRAM + 1)), "ngram_range"),
        (AnalyzerSettings(ngram_range=(1, 1_000_000)), "ngram_range"),
        (AnalyzerSettings(ngram_range=(0, 1)), "ngram_range"),
        (AnalyzerSettings(token_pattern=r"(a+)+b"), "token_pattern"),
        (AnalyzerSettings(token_pattern=r"(?u)\b\w\w+\b "), "token_pattern"),
    ],
)
def test_settings_past_the_bounds_are_refused_naming_them(
    options: AnalyzerSettings, setting: str
) -> None:
    with pytest.raises(ValueError, match=setting):
        check_settings(options)


def test_char_analyzers_ignore_the_token_pattern() -> None:
    """scikit-learn ignores token_pattern for char analyzers, so any pattern is harmless."""
    check_settings(AnalyzerSettings(analyzer="char_wb", token_pattern=r"(a+)+b"))
