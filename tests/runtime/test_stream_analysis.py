"""One long message is analysed a piece at a time (issue 8.6) with exactly the same terms.

``build_stream_analyzer`` cuts the text after whitespace and counts piece by piece so a
6 MB message never holds all its tokens at once. Counting needs the multiset of terms
only: these tests compare it with ``build_analyzer``'s on texts full of the cases where
a cut could matter (runs of mixed whitespace, final sigma, combining marks, accents),
with pieces of a few characters so that every text is cut many times; and end to end
against scikit-learn on messages longer than a piece.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline

import runtime.analyzer
from exporter import export_pipeline
from exporter.normalize import fold_char
from exporter.train import RECIPES
from runtime.analyzer import (
    SAFE_TOKEN_PATTERNS,
    STREAM_PIECE_CHARS,
    AnalyzerSettings,
    build_analyzer,
    build_stream_analyzer,
    whitespace_pieces,
)
from runtime.normalize import Folder, decode_fold_table, encode_fold_table
from tests.corpus import fit_tutorial, make_corpus
from tests.reference import assert_same_as_sklearn

PIECES = [
    "free", "WINNER", "ΟΔΟΣ", "Σ", "ς", "café", "cafe\u0301", "\u0301", "İstanbul", "ﬁle",
    "東京", "😀", "fr33", "a", "!!", "£100", "x_y", "don't",
]  # fmt: skip
SPACES = [" ", "  ", " \t\n ", *(chr(c) for c in range(0x3001) if chr(c).isspace())]

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(SPACES)), max_size=60).map(
    "".join
)
analyzer_settings = st.builds(
    AnalyzerSettings,
    analyzer=st.sampled_from(["word", "char_wb", "char"]),
    lowercase=st.booleans(),
    strip_accents=st.sampled_from([None, "ascii", "unicode"]),
    token_pattern=st.sampled_from(SAFE_TOKEN_PATTERNS),
    ngram_range=st.sampled_from([(1, 1), (1, 2), (2, 3), (1, 4), (3, 3)]),
    stop_words=st.sampled_from([None, frozenset({"free", "a", "ΟΔΟΣ"})]),
    preprocessor=st.sampled_from([None, "fold", "fold_leet"]),
)


def preprocess_for(options: AnalyzerSettings, text: str) -> Folder | None:
    """The runtime normaliser with the table entries ``text`` needs, if the settings name it."""
    if options.preprocessor is None:
        return None
    table = {c: fold_char(c) for c in set(text) if fold_char(c) != c}
    return Folder(decode_fold_table(encode_fold_table(table)), leet=options.preprocessor != "fold")


@pytest.mark.slow  # 1,000 examples
@settings(max_examples=1000, deadline=None)
@given(text=texts, options=analyzer_settings, piece=st.integers(1, 12))
@example(  # a piece with fewer tokens than max_n - 1: all of them are carried
    text="free£100 free", options=AnalyzerSettings(ngram_range=(1, 4)), piece=1
)
@example(  # strip_accents="ascii" deletes U+2028: no cut there
    text="free\u2028free", options=AnalyzerSettings(strip_accents="ascii"), piece=1
)
def test_streamed_terms_are_the_same_multiset(
    text: str, options: AnalyzerSettings, piece: int
) -> None:
    preprocess = preprocess_for(options, text)
    expected = Counter(build_analyzer(options, preprocess=preprocess)(text))
    original = runtime.analyzer.STREAM_PIECE_CHARS
    runtime.analyzer.STREAM_PIECE_CHARS = piece
    try:
        streamed = Counter(build_stream_analyzer(options, preprocess=preprocess)(text))
    finally:
        runtime.analyzer.STREAM_PIECE_CHARS = original
    assert streamed == expected


@given(text=texts, size=st.integers(1, 12))
def test_pieces_cover_the_text_and_end_after_whitespace(text: str, size: int) -> None:
    pieces = list(whitespace_pieces(text, size))
    assert "".join(pieces) == text
    assert all(piece[-1].isspace() for piece in pieces[:-1])


def test_a_long_message_is_cut_into_pieces() -> None:
    text = "free prize " * (3 * STREAM_PIECE_CHARS // 11)
    pieces = list(whitespace_pieces(text))
    assert len(pieces) == 3
    assert max(map(len, pieces)) <= STREAM_PIECE_CHARS + len("prize ")  # to the next space


def long_messages() -> list[str]:
    corpus, _ = make_corpus(400, seed=3)
    joined = " \n".join(corpus)
    return [joined[: 3 * STREAM_PIECE_CHARS], (joined + "\t") * 2, corpus[0]]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["tutorial", "calibrated_svc", "sgd_hashing"])
def test_long_messages_match_scikit_learn(recipe: str) -> None:
    texts, labels = make_corpus()
    if recipe == "tutorial":
        fitted = fit_tutorial(sublinear_tf=True, max_df=0.5)
    elif recipe == "calibrated_svc":
        fitted = RECIPES["calibrated_svc"].build({}).fit(texts, labels)
    else:
        fitted = make_pipeline(
            HashingVectorizer(n_features=2**12, ngram_range=(1, 2), alternate_sign=True),
            TfidfTransformer(),
            SGDClassifier(random_state=0),
        ).fit(texts, labels)
    model = export_pipeline(fitted, texts=texts).model
    messages = long_messages()
    assert all(len(m) > STREAM_PIECE_CHARS for m in messages[:2])
    assert_same_as_sklearn(model, fitted, messages)
