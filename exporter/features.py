"""Read a fitted pipeline's feature steps into ``FeatureBlock``s and their arrays.

Accepted, each reproduced exactly by ``runtime/features.py``: ``TfidfVectorizer``,
``CountVectorizer``, ``HashingVectorizer``, either of the last two followed by
``TfidfTransformer``, and a ``FeatureUnion`` of those (each member a vectorizer or a
``Pipeline`` of one). Every setting the runtime cannot reproduce is refused here, naming
the step and the option, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.pipeline import FeatureUnion, Pipeline

from exporter.errors import UnsupportedModelError
from runtime.analyzer import (
    ACCENT_STRIPPERS,
    ANALYZERS,
    MAX_NGRAM,
    SAFE_TOKEN_PATTERNS,
    AnalyzerSettings,
)
from runtime.features import (
    LOG_TABLE_SIZE,
    MAX_HASHING_FEATURES,
    FeatureBlock,
    encode_vocabulary,
)


class BlockParts(NamedTuple):
    block: FeatureBlock
    vocabulary: list[str] | None
    idf: np.ndarray | None


def feature_blocks(steps: Sequence[Any]) -> list[BlockParts]:
    """The blocks of a pipeline's feature steps (everything before the classifier)."""
    if len(steps) == 1 and isinstance(steps[0], FeatureUnion):
        return _union_blocks(steps[0])
    return [_chain_block(steps, "features")]


def _union_blocks(union: FeatureUnion) -> list[BlockParts]:
    if union.transformer_weights:
        raise UnsupportedModelError("FeatureUnion: transformer_weights is not supported")
    blocks = []
    for name, transformer in union.transformer_list:
        if transformer == "drop":
            continue
        chain = transformer.steps if isinstance(transformer, Pipeline) else [transformer]
        chain = [step[1] if isinstance(step, tuple) else step for step in chain]
        blocks.append(_chain_block(chain, f"FeatureUnion member {name!r}"))
    if not blocks:
        raise UnsupportedModelError("FeatureUnion: every member is dropped")
    return blocks


def _chain_block(chain: Sequence[Any], where: str) -> BlockParts:
    if not chain or not isinstance(chain[0], CountVectorizer | HashingVectorizer):
        first = type(chain[0]).__name__ if chain else "nothing"
        raise UnsupportedModelError(
            f"{where}: must start with TfidfVectorizer, CountVectorizer or HashingVectorizer, "
            f"got {first}"
        )
    vectorizer, rest = chain[0], list(chain[1:])
    transformer = None
    if (
        rest
        and isinstance(rest[0], TfidfTransformer)
        and not isinstance(vectorizer, TfidfVectorizer)
    ):
        transformer = rest.pop(0)
    if rest:
        raise UnsupportedModelError(
            f"{where}: {type(rest[0]).__name__} after {type(vectorizer).__name__} is not "
            "supported (only a TfidfTransformer after CountVectorizer or HashingVectorizer)"
        )
    try:
        check_vectorizer(vectorizer)
        if transformer is not None:
            _check_norm(transformer.norm, "TfidfTransformer")
        return _block(vectorizer, transformer)
    except UnsupportedModelError as exc:
        if where == "features":  # a single chain: the class name says which step
            raise
        raise UnsupportedModelError(f"{where}: {exc}") from None


def check_vectorizer(vectorizer: Any) -> None:
    """Refuse, naming the option, any setting the runtime cannot reproduce exactly.

    Reads only constructor parameters, so it also runs before fitting (the export CLI
    checks its options before it trains on anything).
    """
    name = type(vectorizer).__name__
    problems = []
    for option in ("preprocessor", "tokenizer"):
        if getattr(vectorizer, option) is not None:
            problems.append(f"{option}: a custom callable cannot be exported")
    if vectorizer.input != "content":
        problems.append(f"input: only 'content' is supported, got {vectorizer.input!r}")
    analyzer = vectorizer.analyzer
    if callable(analyzer) or analyzer not in ANALYZERS:
        problems.append(f"analyzer: must be one of {list(ANALYZERS)}, got {analyzer!r}")
    strip = vectorizer.strip_accents
    if strip is not None and strip not in ACCENT_STRIPPERS:
        problems.append(
            f"strip_accents: must be one of {list(ACCENT_STRIPPERS)} or None, got {strip!r}"
        )
    low_high = vectorizer.ngram_range
    if not (
        isinstance(low_high, tuple | list)
        and len(low_high) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in low_high)
        and 1 <= low_high[0] <= low_high[1] <= MAX_NGRAM
    ):
        problems.append(
            f"ngram_range: must be (min_n, max_n) with 1 <= min_n <= max_n <= {MAX_NGRAM}, "
            f"for example (1, 2); got {low_high!r}"
        )
    if analyzer == "word" and vectorizer.token_pattern not in SAFE_TOKEN_PATTERNS:
        problems.append(
            f"token_pattern: must be one of the patterns that match in linear time "
            f"({', '.join(repr(p) for p in SAFE_TOKEN_PATTERNS)}); got {vectorizer.token_pattern!r}"
        )
    stop_words = vectorizer.stop_words
    if (
        stop_words is not None
        and stop_words != "english"
        and (isinstance(stop_words, str) or not all(isinstance(w, str) for w in stop_words))
    ):
        problems.append("stop_words: must be 'english', a list of strings, or None")
    dtype = np.dtype(vectorizer.dtype)
    allowed = (
        (np.float64,)
        if type(vectorizer) is not CountVectorizer
        else (np.float64, np.int64, np.int32)
    )
    if dtype not in [np.dtype(t) for t in allowed]:
        problems.append(
            f"dtype: {dtype} is not supported (float64{', int' if len(allowed) > 1 else ''})"
        )
    if isinstance(vectorizer, TfidfVectorizer | HashingVectorizer):
        norm_problem = _norm_problem(vectorizer.norm)
        if norm_problem:
            problems.append(norm_problem)
    if isinstance(vectorizer, HashingVectorizer) and not (
        isinstance(vectorizer.n_features, int)
        and 1 <= vectorizer.n_features <= MAX_HASHING_FEATURES
    ):
        problems.append(f"n_features: must be from 1 to {MAX_HASHING_FEATURES}")
    if problems:
        raise UnsupportedModelError(f"{name}: " + "; ".join(problems))


def _norm_problem(norm: object) -> str | None:
    if norm not in ("l1", "l2", None):
        return f"norm: must be 'l1', 'l2' or None, got {norm!r}"
    return None


def _check_norm(norm: object, where: str) -> None:
    problem = _norm_problem(norm)
    if problem:
        raise UnsupportedModelError(f"{where}: {problem}")


def _analyzer_settings(vectorizer: Any) -> AnalyzerSettings:
    stop_words = vectorizer.stop_words
    if stop_words == "english":
        stop_words = ENGLISH_STOP_WORDS
    pattern = vectorizer.token_pattern
    return AnalyzerSettings(
        analyzer=vectorizer.analyzer,
        lowercase=bool(vectorizer.lowercase),
        strip_accents=vectorizer.strip_accents,
        token_pattern=pattern if isinstance(pattern, str) else SAFE_TOKEN_PATTERNS[0],
        ngram_range=(int(vectorizer.ngram_range[0]), int(vectorizer.ngram_range[1])),
        stop_words=None if stop_words is None else frozenset(stop_words),
    )


def _tfidf_steps(transformer: Any) -> tuple[list[str], np.ndarray | None]:
    """TfidfTransformer.transform's order: sublinear tf, then idf, then the norm."""
    steps = ["sublinear_tf"] if transformer.sublinear_tf else []
    idf = None
    if transformer.use_idf:
        steps.append("idf")
        idf = np.asarray(transformer.idf_, dtype=np.float64)
    if transformer.norm is not None:
        steps.append(transformer.norm)
    return steps, idf


def _block(vectorizer: Any, transformer: Any) -> BlockParts:
    analyzer = _analyzer_settings(vectorizer)
    steps: list[str] = []
    idf = None
    vocabulary = None
    if isinstance(vectorizer, HashingVectorizer):
        if vectorizer.norm is not None:
            steps.append(vectorizer.norm)
        terms, n_features = "hashing", int(vectorizer.n_features)
        alternate_sign = bool(vectorizer.alternate_sign)
        separator = None
    else:
        if not hasattr(vectorizer, "vocabulary_"):
            raise UnsupportedModelError(f"{type(vectorizer).__name__} is not fitted")
        vocabulary = [""] * len(vectorizer.vocabulary_)
        for term, column in vectorizer.vocabulary_.items():
            vocabulary[column] = term
        terms, n_features, alternate_sign = "vocabulary", len(vocabulary), False
        separator, _ = encode_vocabulary(vocabulary)
        if isinstance(vectorizer, TfidfVectorizer):
            transformer = vectorizer._tfidf
    if transformer is not None:
        more, idf = _tfidf_steps(transformer)
        if alternate_sign and "sublinear_tf" in more:
            raise UnsupportedModelError(
                "TfidfTransformer: sublinear_tf=True after HashingVectorizer(alternate_sign=True) "
                "takes the log of negative counts (NaN in scikit-learn); set alternate_sign=False"
            )
        steps += more
    block = FeatureBlock(
        analyzer=analyzer,
        terms=terms,
        n_features=n_features,
        binary=bool(vectorizer.binary),
        steps=tuple(steps),
        alternate_sign=alternate_sign,
        separator=separator,
    )
    FeatureBlock.from_json(block.to_json())  # the runtime's own validation, at export
    return BlockParts(block, vocabulary, idf)


def log_table() -> np.ndarray:
    """log(n) + 1 for counts 1..LOG_TABLE_SIZE, as TfidfTransformer computes sublinear tf."""
    return np.log(np.arange(1, LOG_TABLE_SIZE + 1, dtype=np.float64)) + 1.0
