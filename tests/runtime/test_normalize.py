"""The normaliser: exporter.normalize (from unicodedata) against runtime/normalize.py (from
the model file's table), on every code point and on arbitrary strings."""

from __future__ import annotations

import json
import re
import sys
from importlib.resources import files
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from exporter import confusables
from exporter.errors import UnsupportedModelError
from exporter.features import check_vectorizer
from exporter.normalize import PREPROCESSORS as EXPORTED
from exporter.normalize import fold, fold_char, fold_leet, fold_table
from exporter.obfuscate import CLASSES, obfuscate
from runtime import normalize, normalize_batch
from runtime.analyzer import PREPROCESSORS as NAMED
from runtime.analyzer import AnalyzerSettings, build_analyzer, build_stream_analyzer
from runtime.memo import Memo
from runtime.normalize import (
    MAX_REPLACEMENT_CHARS,
    READS_LEET,
    Folder,
    FoldTable,
    decode_fold_table,
    encode_fold_table,
    join_singles,
    unleet,
)


def folder_for(text: str, *, leet: bool = False) -> Folder:
    """A runtime folder whose table holds the entries ``text`` needs (the full table
    takes a second to build; ``str.translate`` reads only the characters present)."""
    table = {c: fold_char(c) for c in set(text) if fold_char(c) != c}
    return Folder(decode_fold_table(encode_fold_table(table)), leet=leet)


@pytest.mark.parametrize(
    ("obfuscated", "folded"),
    [
        ("ＦＲＥＥ ｃａｓｈ", "free cash"),  # fullwidth
        ("𝐟𝐫𝐞𝐞 𝕔𝕒𝕤𝕙", "free cash"),  # mathematical alphanumerics
        ("fr\u200bee c\u2060a\ufeffs\u00adh", "free cash"),  # zero-width and soft hyphen
        ("Fr\u0435\u0435 \u0441\u0430sh", "free cash"),  # Cyrillic homoglyphs
        ("\u0391\u03a4 \u039f\u039d\u039a\u0395", "at onke"),  # Greek capitals
        ("fr\u0301e\u0308e\u0327", "free"),  # combining marks
        ("f r e e cash", "free cash"),  # spaced letters
        ("f.r.e.e cash!", "free cash!"),  # dotted letters
        ("F.R.E.E!", "free!"),
    ],
)
def test_each_obfuscation_folds_to_the_plain_word(obfuscated: str, folded: str) -> None:
    assert fold(obfuscated) == folded
    assert folder_for(obfuscated)(obfuscated) == folded


def test_leet_digits_inside_words_only_with_fold_leet() -> None:
    text = "fr33 c4sh v14gr4 150p 08001234 2nite b4"
    assert fold(text) == text
    assert fold_leet(text) == "free cash viagra 150p 08001234 2nite b4"
    assert unleet(text) == fold_leet(text)


def test_joining_needs_three_single_letters() -> None:
    assert join_singles("a b cd") == "a b cd"
    assert join_singles("u r a star") == "ura star"
    assert join_singles("1.50 u.k. a.b.c.de www.a.b.c") == "1.50 u.k. abc.de www.a.b.c"


def _join_singles_unfiltered(text: str) -> str:
    """The joining rule with no pre-filter: the definition the fast searches must keep."""
    text = re.sub(r"(?<![a-z0-9.])(?:[a-z0-9]\.){2,}[a-z0-9](?![a-z0-9])", _undotted, text)
    out: list[str] = []
    run: list[str] = []
    for word in [*text.split(" "), ""]:  # "": flushes the last run, then dropped
        if len(word) == 1 and word.isascii() and word.isalnum() and not word.isupper():
            run.append(word)
            continue
        out.extend(["".join(run)] if len(run) >= 3 else run)
        out.append(word)
        run = []
    return " ".join(out[:-1])


def _undotted(match: re.Match[str]) -> str:
    return match.group().replace(".", "")


def _unleet_unfiltered(text: str) -> str:
    """The leet rule with no pre-filter: every run of three or more letters and digits."""

    def word(match: re.Match[str]) -> str:
        run = match.group()
        digits = [c for c in run if c.isdigit()]
        if digits and len(run) - len(digits) >= 2 and set(digits) <= set("013457"):
            return run.translate(str.maketrans("013457", "oieast"))
        return run

    return re.sub(r"[a-z0-9]{3,}", word, text)


@given(st.text(alphabet="ab1 .3x0z5 7\t29A\n\u00e9", max_size=40))
def test_the_cheap_searches_never_skip_a_change(text: str) -> None:
    """join_singles and unleet skip most texts after a cheap search; they must give what
    the rules give on every text."""
    assert join_singles(text) == _join_singles_unfiltered(text)
    assert unleet(text) == _unleet_unfiltered(text)
    joined = join_singles(text)
    assert unleet(joined) == _unleet_unfiltered(joined)


@given(st.text(alphabet="ab1 .3x0z5 7\t29A\n\u00e9", max_size=40))
def test_a_long_text_reads_leet_as_a_message_does(text: str) -> None:
    """Past LONG_TEXT the leet rule scans run by run in C; both ways give the rule."""
    with patch.object(normalize, "LONG_TEXT", 0):
        assert unleet(text) == _unleet_unfiltered(text)


def test_the_long_text_path_is_taken_and_agrees() -> None:
    text = "fr33 2a1 c4sh 150p b4 " * 400
    assert len(text) > normalize.LONG_TEXT
    assert unleet(text) == _unleet_unfiltered(text)
    assert unleet(text).startswith("free 2a1 cash 150p b4 ")


def test_the_cheap_searches_on_the_edges() -> None:
    for text in ["a b c", " a b c ", "x a b c", "a.b.c", ".a.b.c", "a.b.c.", "fr33", "3fr", "a1b"]:
        assert join_singles(text) == _join_singles_unfiltered(text), text
        assert unleet(text) == _unleet_unfiltered(text), text


def test_every_class_of_obfuscated_spam_keeps_most_of_its_words() -> None:
    spam = "free entry to win a cash prize call now"
    words = set(spam.split())
    for kind in CLASSES:
        folded = fold_leet(obfuscate(kind, spam, 0))
        kept = words & set(folded.split())
        if kind != "spaced_letters":  # adjacent spaced words merge: "freeentry"
            assert len(kept) >= len(words) - 2, (kind, folded)


@given(st.text(max_size=80))
def test_runtime_equals_exporter_on_arbitrary_strings(text: str) -> None:
    assert folder_for(text)(text) == fold(text)
    assert folder_for(text, leet=True)(text) == fold_leet(text)


@given(st.lists(st.sampled_from(["f", "r", "e", " ", ".", "3", "ｆ", "\u200b", "\u0435"])))
def test_runtime_equals_exporter_on_obfuscation_alphabets(chars: list[str]) -> None:
    text = "".join(chars)
    assert folder_for(text, leet=True)(text) == fold_leet(text)


BATCH_ALPHABET = "aB1 .3x0z5 7\t29\n\u00e9ｆ\u200b\u0435\x004e"


@settings(max_examples=400)
@given(st.lists(st.text(alphabet=BATCH_ALPHABET, max_size=12), max_size=8))
def test_a_batch_folds_as_each_text_alone(texts: list[str]) -> None:
    """The batch path (runtime/normalize_batch.py) decides the rules over the joined texts
    and splices leet words in itself: text by text, the one-message path's output."""
    for leet in (False, True):
        folder = folder_for("".join(texts), leet=leet)
        assert folder.fold_all(texts) == [folder(text) for text in texts]


# Pieces whose repeats make texts past LONG_TEXT (where the one-text leet rule scans in C),
# NULs at the joined string's text ends, and characters encoded as one "?" (astral, lone
# surrogates) or folded to ASCII digits and letters by the table.
BATCH_PIECES = ["a", "1", "4", "2", " ", ".", "\x00", "a1", " a", ". ", "fr33", "é", "１", "ｆ"]
BATCH_PIECES += ["\U0001d41f", "\ud800", "²", "\u200b", "B"]


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(BATCH_PIECES), min_size=1, max_size=12), st.integers(1, 900)
        ).map(lambda drawn: "".join(drawn[0]) * drawn[1])
        | st.text(alphabet="a1 .\x004é", max_size=8),
        min_size=1,
        max_size=5,
    )
)
def test_a_batch_of_long_and_unusual_texts_folds_as_each_alone(texts: list[str]) -> None:
    for leet in (False, True):
        folder = folder_for("".join(texts), leet=leet)
        assert folder.fold_all(texts) == [folder(text) for text in texts]


@given(st.lists(st.text(alphabet=BATCH_ALPHABET, max_size=12), max_size=8))
def test_a_batch_in_slices_folds_as_each_text_alone(texts: list[str]) -> None:
    """A batch past SLICE_CHARS is done a slice of texts at a time."""
    folder = folder_for("".join(texts), leet=True)
    with patch.object(normalize_batch, "SLICE_CHARS", 7):
        assert folder.fold_all(texts) == [folder(text) for text in texts]


@given(st.text(alphabet="ab 1.\u0300\u200bＡ", max_size=60))
def test_analyzer_is_sklearns_with_the_preprocessor(text: str) -> None:
    for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (2, 4)), ("char", (1, 3))):
        vectorizer = CountVectorizer(preprocessor=fold, analyzer=analyzer, ngram_range=ngrams)
        settings = AnalyzerSettings(analyzer=analyzer, ngram_range=ngrams, preprocessor="fold")
        ours = build_analyzer(settings, preprocess=folder_for(text))(text)
        assert list(ours) == vectorizer.build_analyzer()(text)


def test_a_long_text_is_folded_whole_before_it_is_cut() -> None:
    text = ("x" * 50 + " f r e e fr\u200bee ") * 1000  # pieces of 16 KiB cut "f r e e"
    settings = AnalyzerSettings(ngram_range=(1, 2), preprocessor="fold")
    folder = folder_for(text)
    whole = sorted(build_analyzer(settings, preprocess=folder)(text))
    assert sorted(build_stream_analyzer(settings, preprocess=folder)(text)) == whole


def test_a_preprocessor_needs_its_table() -> None:
    with pytest.raises(ValueError, match="needs its table"):
        build_analyzer(AnalyzerSettings(preprocessor="fold"))
    with pytest.raises(ValueError, match="preprocessor must be one of"):
        build_analyzer(AnalyzerSettings(preprocessor="upper"))


def test_the_exporter_accepts_the_normaliser_and_names_any_other_callable() -> None:
    check_vectorizer(TfidfVectorizer(preprocessor=fold))
    check_vectorizer(TfidfVectorizer(preprocessor=fold_leet))

    def shout(text: str) -> str:
        return text.upper()

    with pytest.raises(UnsupportedModelError, match=r"preprocessor: .*shout cannot be exported"):
        check_vectorizer(TfidfVectorizer(preprocessor=shout))
    with pytest.raises(UnsupportedModelError, match=r"preprocessor: .*lambda"):
        check_vectorizer(TfidfVectorizer(preprocessor=lambda t: fold(t)))


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\xff", "not valid UTF-8"),
        (b"ab", "no separator"),
        (("a\x00" + "b" * (MAX_REPLACEMENT_CHARS + 1)).encode(), "replacement longer"),
        (("ab\x00c\x00" + "\ufdfa" * (MAX_REPLACEMENT_CHARS + 1)).encode(), "replacement longer"),
        (b"\x00\x00", "0 characters and 2 replacements"),
        (b"ab\x00c", "2 characters and 1 replacements"),
        (b"a\x00b\x00c", "1 characters and 2 replacements"),
        (b"0\x00o", "maps ASCII '0' to 'o'"),
        (b"A\x00b", "maps ASCII 'A' to 'b'"),
        ("AB\u00e9\x00a\x00B\x00e".encode(), "maps ASCII 'B' to 'B'"),
    ],
)
def test_a_bad_table_is_refused_naming_why(blob: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_fold_table(blob)


def test_ascii_folds_alike_in_ascii_and_other_texts_whatever_the_table_lists() -> None:
    """ASCII text skips the table (str.lower); inside other text the table's lookup gives
    the same, even for a table that lists no ASCII letter."""
    folder = Folder(decode_fold_table(encode_fold_table({"\u00e9": "e"})), leet=False)
    assert folder("FREE 0 \u00e9") == folder("FREE 0") + " e" == "free 0 e"


def test_the_preprocessor_names_are_one_list() -> None:
    """The names a model file may carry, what the runtime does for each, and the exporter's
    functions it recognises are the same set."""
    assert set(NAMED) == set(READS_LEET) == set(EXPORTED)


def test_the_lookup_keeps_at_most_its_bound() -> None:
    text = "\uff21\uff22\uff23\uff24\uff25 \u00e9\u00e8"
    table = {c: fold_char(c) for c in set(text) if fold_char(c) != c}
    lookup = decode_fold_table(encode_fold_table(table))
    assert isinstance(lookup, Memo)  # the shared bounded memo
    lookup.limit = 3
    folder = Folder(lookup, leet=False)
    assert folder(text) == "abcde ee"
    assert len(lookup) == 3
    assert folder(text) == "abcde ee"  # past the bound: still found, not kept


def test_the_committed_confusables_are_generated_from_the_pinned_package() -> None:
    data = files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    assert confusables.generate(json.loads(data)) == confusables.load()


@pytest.mark.slow
def test_runtime_equals_exporter_on_every_code_point() -> None:
    table = fold_table()
    blob = encode_fold_table(table)
    folder, leet = (
        Folder(decode_fold_table(blob), leet=False),
        Folder(decode_fold_table(blob), leet=True),
    )
    differ = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if folder(char) != fold(char) or leet(char) != fold_leet(char):
            differ.append(code)
    assert differ == []
    # also inside text, where join_singles and unleet see the folded neighbours
    for code in range(0, sys.maxunicode + 1, 7):
        text = f"A{chr(code)} f r e e fr3{chr(code)}3"
        assert leet(text) == fold_leet(text), hex(code)


def test_the_length_bound_counts_characters_not_bytes() -> None:
    """U+FDFA's NFKD is 18 three-byte characters: at the bound, so it loads."""
    longest = "\u0635\u0644\u0649" * (MAX_REPLACEMENT_CHARS // 3)
    lookup = decode_fold_table(encode_fold_table({"\ufdfa": longest, "\U0001d41f": "f"}))
    assert "\ufdfa \U0001d41f".translate(lookup) == longest + " f"


def test_loading_checks_the_whole_table() -> None:
    """A table whose entries disagree is refused when the model loads, not on the first
    non-ASCII request: otherwise the file would pass a pointer refresh and answer 500s."""
    with pytest.raises(ValueError, match="not valid UTF-8"):
        FoldTable(b"\xff")
    with pytest.raises(ValueError, match="2 characters and 1 replacements"):
        FoldTable(b"ab\x00c")
    with pytest.raises(ValueError, match="replacement longer"):
        FoldTable(("a\x00" + "b" * (MAX_REPLACEMENT_CHARS + 1)).encode())
