"""Text analysis identical to scikit-learn's ``_VectorizerMixin.build_analyzer``.

Every step (lowercasing, accent stripping, tokenising, stop words, n-grams) follows
``sklearn/feature_extraction/text.py`` line for line, because a single differing token
changes the prediction. As in ``build_preprocessor``, a named preprocessor
(``runtime/normalize.py``) replaces lowercasing and accent stripping; it is passed in as
``preprocess``, built from the model file's table. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial

from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Analyzer = Callable[[str], Iterable[str]]
Preprocess = Callable[[str], str]

ANALYZERS = ("word", "char", "char_wb")
ACCENT_STRIPPERS = ("ascii", "unicode")
PREPROCESSORS = ("fold", "fold_leet")  # runtime/normalize.py's, named in the model file

# A model file is untrusted until its SHA-256 matches a pin, so the settings it carries
# must not let one request cost more than a small multiple of its length:
# - MAX_NGRAM bounds the terms per character: at most MAX_NGRAM terms start at each
#   character or token, each at most MAX_NGRAM characters or tokens long. Without it a
#   re-sealed file with ngram_range [1, 1000000] made a 15 KB request take 20 s and 3.7 GiB.
#   Ten is twice what the built-in recipes use (char_wb 2-5) and more than any published
#   text-classification recipe we know of.
# - token_pattern must be one of SAFE_TOKEN_PATTERNS, each a single pass with no nested or
#   overlapping quantifiers, so matching is linear in the text. Python's re backtracks,
#   so an arbitrary pattern such as (a+)+b made a 28-byte request take 28 s; deciding
#   whether a pattern is safe is not possible in general, so the set is closed. A model
#   trained with another pattern is refused at export and at load, naming the setting.
# - One long message is analysed as a stream (``build_stream_analyzer``), a piece of at
#   most STREAM_PIECE_CHARS at a time, so its terms are counted without all being held.
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

# The same matches, found sooner: a pattern that begins with a class lets the scanner skip
# ahead, one that begins with \b tries every position. Every maximal run of two or more
# word characters is matched whole either way (a match starts where a run does, and the
# greedy \w+ ends where it ends), so findall's tokens are the same (3.8 us -> 3.0 us a
# message); tests/runtime/test_analyzer.py checks it on arbitrary text.
_SAME_TOKENS = {r"(?u)\b\w\w+\b": r"\w\w+", r"\b\w\w+\b": r"\w\w+"}
# In ASCII text the Unicode \w is exactly [0-9A-Z_a-z], a class the scanner tests from a
# bitmap instead of the Unicode database (2.5 us -> 2.0 us a message); a batch scans each
# ASCII text with it. tests/runtime/test_analyzer.py checks it on arbitrary ASCII text.
_ASCII_TOKENS = {r"\w\w+": r"[0-9A-Z_a-z]{2,}"}


def token_finder(token_pattern: str) -> Callable[[str], list[Any]]:
    """``re.compile(token_pattern).findall``, or an equivalent that scans faster."""
    return re.compile(_SAME_TOKENS.get(token_pattern, token_pattern)).findall


def token_finder_all(token_pattern: str) -> Callable[[Iterable[str]], Iterable[list[Any]]]:
    """``map(token_finder(token_pattern), texts)``, each ASCII text scanned by the pattern's
    ASCII form where it has one."""
    findall = token_finder(token_pattern)
    ascii_pattern = _ASCII_TOKENS.get(_SAME_TOKENS.get(token_pattern, token_pattern))
    if ascii_pattern is None:
        return partial(map, findall)
    ascii_findall = re.compile(ascii_pattern).findall
    return lambda texts: [ascii_findall(t) if t.isascii() else findall(t) for t in texts]


# Messages longer than this are analysed a piece at a time, each cut just after a
# whitespace character: every analyzer but "char" gives the same terms piece by piece.
STREAM_PIECE_CHARS = 16 * 1024
_WHITESPACE = re.compile(r"\s")
# strip_accents="ascii" deletes non-ASCII characters NFKD leaves non-ASCII, whitespace
# such as U+2028 included ("a\u2028b" -> "ab"): with it, cuts follow ASCII whitespace only.
_ASCII_WHITESPACE = re.compile(r"[ \t\n\r\x0b\x0c\x1c-\x1f]")

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
    preprocessor: str | None = None  # one of PREPROCESSORS: replaces lowercase, strip_accents


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
    if settings.preprocessor is not None and settings.preprocessor not in PREPROCESSORS:
        raise ValueError(
            f"preprocessor must be one of {PREPROCESSORS} or None, got {settings.preprocessor!r}"
        )


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


def _preprocessing(
    settings: AnalyzerSettings, preprocess: Preprocess | None
) -> list[Callable[[str], str]]:
    """``build_preprocessor``: the named preprocessor alone if the settings name one, else
    lowercase first, then strip accents: scikit-learn's ``_preprocess`` order."""
    if settings.preprocessor is not None:
        if preprocess is None:
            raise ValueError(f"preprocessor {settings.preprocessor!r} needs its table")
        return [preprocess]
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


def analysis_steps(
    settings: AnalyzerSettings, *, lazy: bool = False, preprocess: Preprocess | None = None
) -> list[Callable[[Any], Any]]:
    """The analyzer as a chain of one-argument steps, each fed the previous one's output.

    Kept as separate steps (mostly C functions such as ``str.lower`` and a compiled
    pattern's ``findall``) so a batch can run each step over all texts with ``map``,
    without a Python-level call per text. ``lazy`` leaves n-grams as iterators, so
    one long message is counted without holding all its n-grams at once.
    """
    check_settings(settings)
    steps: list[Callable[[Any], Any]] = _preprocessing(settings, preprocess)
    ngram_range = settings.ngram_range
    materialise: Callable[[Iterator[str]], Iterable[str]] = iter if lazy else list
    if settings.analyzer == "char":
        steps.append(lambda text: materialise(char_ngrams(text, ngram_range)))
        return steps
    if settings.analyzer == "char_wb":
        steps.append(lambda text: materialise(char_wb_ngrams(text, ngram_range)))
        return steps
    steps.append(token_finder(settings.token_pattern))
    stop_words = settings.stop_words
    if stop_words is not None:
        steps.append(lambda tokens: [token for token in tokens if token not in stop_words])
    if ngram_range != (1, 1):
        steps.append(lambda tokens: materialise(word_ngrams(tokens, ngram_range)))
    return steps


def build_analyzer(
    settings: AnalyzerSettings, *, lazy: bool = False, preprocess: Preprocess | None = None
) -> Analyzer:
    """``text -> terms``; the default recipe is a single regex call on the lowercased text."""
    steps = analysis_steps(settings, lazy=lazy, preprocess=preprocess)
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


def whitespace_pieces(
    text: str, size: int | None = None, whitespace: re.Pattern[str] = _WHITESPACE
) -> Iterator[str]:
    r"""``text`` in consecutive pieces of about ``size`` characters, each cut after whitespace.

    No token, word or character-n-gram word crosses whitespace, and lowercasing and accent
    stripping never look across it, so analysing the pieces gives the text's own terms.
    ``\s`` and ``str.split()`` agree on what whitespace is (both use Py_UNICODE_ISSPACE).
    ``whitespace`` narrows the cuts when preprocessing may delete some whitespace.
    """
    size = STREAM_PIECE_CHARS if size is None else size
    start = 0
    while len(text) - start > size:
        found = whitespace.search(text, start + size)
        if found is None:
            break
        yield text[start : found.end()]
        start = found.end()
    yield text[start:]


def carried_word_ngrams(pieces: Iterable[list[str]], ngram_range: tuple[int, int]) -> Iterator[str]:
    """The n-grams ``word_ngrams`` yields for all pieces' tokens together, piece by piece.

    Each piece's n-grams are those ending at one of its own tokens; the last ``max_n - 1``
    tokens of the previous piece are carried over to start them. Same multiset, other order.
    """
    min_n, max_n = ngram_range
    join = " ".join
    carry: list[str] = []
    for new in pieces:
        tokens = carry + new
        first = len(carry)  # index of the first new token
        for n in range(min_n, max_n + 1):
            if n == 1:
                yield from new
                continue
            for i in range(max(0, first - n + 1), len(tokens) - n + 1):
                yield join(tokens[i : i + n])
        carry = tokens[-(max_n - 1) :] if max_n > 1 else []  # all of them if fewer


def build_stream_analyzer(
    settings: AnalyzerSettings, *, preprocess: Preprocess | None = None
) -> Callable[[str], Iterator[str]]:
    """``text -> terms`` holding one piece of the text at a time; the same terms as
    ``build_analyzer`` as a multiset (word n-grams come in another order), which is all
    counting needs. ``char`` n-grams span whitespace: that analyzer already streams.
    A named preprocessor joins letters across spaces, so it folds the whole text first
    (one copy of it) and the folded text is cut."""
    check_settings(settings)
    if settings.analyzer == "char":
        lazy = build_analyzer(settings, lazy=True, preprocess=preprocess)
        return lambda text: iter(lazy(text))
    preprocessing = _preprocessing(settings, preprocess)
    ngram_range = settings.ngram_range
    cuts = _ASCII_WHITESPACE if settings.strip_accents == "ascii" else _WHITESPACE
    whole = settings.preprocessor is not None

    def pieces(text: str) -> Iterator[str]:
        if whole:
            yield from whitespace_pieces(preprocessing[0](text))
            return
        for piece in whitespace_pieces(text, whitespace=cuts):
            for step in preprocessing:
                piece = step(piece)
            yield piece

    if settings.analyzer == "char_wb":
        return lambda text: (
            term for piece in pieces(text) for term in char_wb_ngrams(piece, ngram_range)
        )
    tokenize = token_finder(settings.token_pattern)
    stop_words = settings.stop_words

    def tokens(text: str) -> Iterator[list[str]]:
        for piece in pieces(text):
            found = tokenize(piece)
            yield found if stop_words is None else [t for t in found if t not in stop_words]

    if ngram_range == (1, 1):
        return lambda text: (token for found in tokens(text) for token in found)
    return lambda text: carried_word_ngrams(tokens(text), ngram_range)


def build_batch_analyzer(
    settings: AnalyzerSettings,
    *,
    preprocess: Preprocess | None = None,
    preprocess_all: Callable[[Sequence[str]], list[str]] | None = None,
) -> Callable[[Sequence[str]], list[list[str]]]:
    """``texts -> [terms, ...]``, running each step over every text in C where possible;
    ``preprocess_all``, the named preprocessor's batch form, replaces its per-text step."""
    steps = analysis_steps(settings, preprocess=preprocess)
    batch_steps: list[Callable[[Any], Iterable[Any]]] = [partial(map, step) for step in steps]
    if settings.preprocessor is not None and preprocess_all is not None:
        batch_steps[0] = preprocess_all  # _preprocessing: the named preprocessor alone
    if settings.analyzer == "word":  # the token step follows the preprocessing
        batch_steps[len(_preprocessing(settings, preprocess))] = token_finder_all(
            settings.token_pattern
        )

    def analyze_all(texts: Sequence[str]) -> list[list[str]]:
        results: Iterable[Any] = texts
        for step in batch_steps:
            results = step(results)
        return list(results)

    return analyze_all
