"""``fold`` and ``fold_leet``: the preprocessors that undo the common obfuscations.

    TfidfVectorizer(preprocessor=exporter.normalize.fold)

Given as a vectorizer's ``preprocessor``, either replaces scikit-learn's lowercasing and
accent stripping (as any preprocessor does), and the exporter recognises it by identity
and stores its character table in the model file; ``runtime/normalize.py`` applies that
table and the same ASCII rules, and defines what the stages are. Here the per-character
stage is computed from this interpreter's ``unicodedata`` and the committed confusables
table; the model file holds its result for every character it changes.
"""

from __future__ import annotations

import functools
import sys
import unicodedata

from exporter.confusables import load as load_confusables
from runtime.normalize import join_singles, unleet

DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
MAX_ROUNDS = 4


@functools.cache
def _confusables() -> dict[str, str]:
    return load_confusables()


def _round(text: str) -> str:
    confusables = _confusables()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = [c for c in decomposed if unicodedata.category(c) not in DROPPED_CATEGORIES]
    mapped = "".join(confusables.get(c, c) for c in kept).lower()
    return unicodedata.normalize("NFC", mapped)


@functools.lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """One character's fold: the rounds repeated until the text no longer changes."""
    text = char
    for _ in range(MAX_ROUNDS):
        folded = _round(text)
        if folded == text:
            return text
        text = folded
    raise AssertionError(f"U+{ord(char):04X} does not settle in {MAX_ROUNDS} rounds")


def _fold_chars(text: str) -> str:
    return text.lower() if text.isascii() else "".join(map(fold_char, text))


def fold(text: str) -> str:
    """Compatibility forms, invisible characters, marks and confusables folded; lowercased;
    spaced or dotted single letters joined."""
    return join_singles(_fold_chars(text))


def fold_leet(text: str) -> str:
    """``fold``, and leet digits inside words read as letters ("fr33" -> "free")."""
    return unleet(join_singles(_fold_chars(text)))


PREPROCESSORS = {"fold": fold, "fold_leet": fold_leet}


def preprocessor_name(preprocessor: object) -> str | None:
    """ "fold" or "fold_leet" for these very functions, else None."""
    for name, function in PREPROCESSORS.items():
        if preprocessor is function:
            return name
    return None


@functools.cache
def fold_table() -> dict[str, str]:
    """Every character whose fold is not itself, with its fold (~1 s, once per process)."""
    table = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if code < 0x80:
            if "A" <= char <= "Z":
                table[char] = char.lower()
            continue
        if unicodedata.category(char) in ("Cn", "Co", "Cs"):
            continue  # unassigned, private use, surrogates: folded to themselves
        folded = fold_char(char)
        if folded != char:
            table[char] = folded
    return table
