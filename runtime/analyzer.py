"""Text analysis identical to scikit-learn's ``_VectorizerMixin.build_analyzer``.

Every step (lowercasing, accent stripping, tokenising, stop words, n-grams) follows
``sklearn/feature_extraction/text.py`` line for line, because a single differing token
changes the prediction. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

Analyzer = Callable[[str], Iterable[str]]

ANALYZERS = ("word", "char", "char_wb")
ACCENT_STRIPPERS = ("ascii", "unicode")

# A model file is untrusted until its SHA-256 matches a pin, so the settings it carries
# must not let one request cost more than a small multiple of its length. The n-gram
# span bounds the terms per character; token patterns come from a set whose matching
# is linear in the text (no nested or overlapping quantifiers that could backtrack).
MAX_NGRAM = 10
SAFE_TOKEN_PATTERNS = (
    r"(?u)\b\w\w+\b",  # scikit-learn's default
    r"\b\w\w+\b",
    r"(?u)\b\w+\b",
    r"\b\w+\b",
    r"(?u)\w+",
    r"\w+",
    r"\S+",
    r"(\w)\w*",
    r"(?u)\b\w\w+\b|[^\w\s]",
)

# scikit-learn collapses runs of two or more whitespace characters (a lone tab stays).
# Left to re's own cache: only character analyzers need it, word models skip the compile.
_WHITE_SPACES = r"\s\s+"


class AnalyzerSettings(NamedTuple):
    """The vectorizer parameters that decide which terms a text produces."""

    analyzer: str = "word"
    lowercase: bool = True
    strip_accents: str | None = None
    token_pattern: str = r"(?u)\b\w\w+\b"
    ngram_range: tuple[int, int] = (1, 1)
    stop_words: frozenset[str] | None = None


def check_settings(settings: AnalyzerSettings) -> None:
    """Raise ValueError for settings scikit-learn would refuse or the runtime cannot mirror."""
    if settings.analyzer not in ANALYZERS:
        raise ValueError(f"analyzer must be one of {ANALYZERS}, got {settings.analyzer!r}")
    if settings.strip_accents is not None and settings.strip_accents not in ACCENT_STRIPPERS:
        raise ValueError(
            f"strip_accents must be one of {ACCENT_STRIPPERS} or None, "
            f"got {settings.strip_accents!r}"
        )
    low, high = settings.ngram_range
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= MAX_NGRAM):
        raise ValueError(
            f"ngram_range must satisfy 1 <= min <= max <= {MAX_NGRAM}, got {settings.ngram_range}"
        )
    if settings.analyzer == "word" and settings.token_pattern not in SAFE_TOKEN_PATTERNS:
        raise ValueError(
            f"token_pattern {settings.token_pattern!r} is not one of the patterns whose "
            f"matching time is linear in the text: {', '.join(SAFE_TOKEN_PATTERNS)}"
        )
    if settings.stop_words is not None and not all(
        isinstance(word, str) for word in settings.stop_words
    ):
        raise ValueError("stop_words must be strings")


def strip_accents_ascii(text: str) -> str:
    """Same as ``sklearn.feature_extraction.text.strip_accents_ascii``."""
    import unicodedata  # only models that strip accents pay for it at cold start

    return unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")


def strip_accents_unicode(text: str) -> str:
    """Same as ``sklearn.feature_extraction.text.strip_accents_unicode``."""
    if text.isascii():
        return text
    import unicodedata

    normalized = unicodedata.normalize("NFKD", text)
    return "".join([c for c in normalized if not unicodedata.combining(c)])


def _preprocessing(settings: AnalyzerSettings) -> list[Callable[[str], str]]:
    """Lowercase first, then strip accents: scikit-learn's ``_preprocess`` order."""
    steps: list[Callable[[str], str]] = [str.lower] if settings.lowercase else []
    if settings.strip_accents == "ascii":
        steps.append(strip_accents_ascii)
    elif settings.strip_accents == "unicode":
        steps.append(strip_accents_unicode)
    return steps


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> Iterator[str]:
    """Token n-grams in scikit-learn's order: all n-grams of the smallest n first."""
    min_n, max_n = ngram_range
    if min_n == 1:
        yield from tokens
        min_n += 1
    n_tokens = len(tokens)
    join = " ".join
    for n in range(min_n, min(max_n + 1, n_tokens + 1)):
        for i in range(n_tokens - n + 1):
            yield join(tokens[i : i + n])


def char_ngrams(text: str, ngram_range: tuple[int, int]) -> Iterator[str]:
    """Character n-grams over the whole text, as ``_char_ngrams``."""
    text = re.sub(_WHITE_SPACES, " ", text)
    text_len = len(text)
    min_n, max_n = ngram_range
    if min_n == 1:
        yield from text
        min_n += 1
    for n in range(min_n, min(max_n + 1, text_len + 1)):
        for i in range(text_len - n + 1):
            yield text[i : i + n]


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> Iterator[str]:
    """Character n-grams inside space-padded words, as ``_char_wb_ngrams``."""
    text = re.sub(_WHITE_SPACES, " ", text)
    min_n, max_n = ngram_range
    for word in text.split():
        word = " " + word + " "
        word_len = len(word)
        for n in range(min_n, max_n + 1):
            offset = 0
            yield word[offset : offset + n]
            while offset + n < word_len:
                offset += 1
                yield word[offset : offset + n]
            if offset == 0:  # a word shorter than n is counted once
                break


def analysis_steps(settings: AnalyzerSettings, *, lazy: bool = False) -> list[Callable[[Any], Any]]:
    """The analyzer as a chain of one-argument steps, each fed the previous one's output.

    Kept as separate steps (mostly C functions such as ``str.lower`` and a compiled
    pattern's ``findall``) so a batch can run each step over all texts with ``map``,
    without a Python-level call per text. ``lazy`` leaves n-grams as iterators, so
    one long message is counted without holding all its n-grams at once.
    """
    check_settings(settings)
    steps: list[Callable[[Any], Any]] = _preprocessing(settings)
    ngram_range = settings.ngram_range
    materialise: Callable[[Iterator[str]], Iterable[str]] = iter if lazy else list
    if settings.analyzer == "char":
        steps.append(lambda text: materialise(char_ngrams(text, ngram_range)))
        return steps
    if settings.analyzer == "char_wb":
        steps.append(lambda text: materialise(char_wb_ngrams(text, ngram_range)))
        return steps
    steps.append(re.compile(settings.token_pattern).findall)
    stop_words = settings.stop_words
    if stop_words is not None:
        steps.append(lambda tokens: [token for token in tokens if token not in stop_words])
    if ngram_range != (1, 1):
        steps.append(lambda tokens: materialise(word_ngrams(tokens, ngram_range)))
    return steps


def build_analyzer(settings: AnalyzerSettings, *, lazy: bool = False) -> Analyzer:
    """``text -> terms``; the default recipe is a single regex call on the lowercased text."""
    steps = analysis_steps(settings, lazy=lazy)
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda text: second(first(text))

    def analyze(text: str) -> Any:
        for step in steps:
            text = step(text)
        return text

    return analyze


def build_batch_analyzer(settings: AnalyzerSettings) -> Callable[[Iterable[str]], list[list[str]]]:
    """``texts -> [terms, ...]``, running each step over every text in C where possible."""
    steps = analysis_steps(settings)

    def analyze_all(texts: Iterable[str]) -> list[list[str]]:
        results: Iterable[Any] = texts
        for step in steps:
            results = map(step, results)
        return list(results)

    return analyze_all
