"""The obfuscations spammers use, applied to test messages for ``evaluate.py --perturb``.

Each class rewrites about half of a message's words (or characters), reproducibly: the
random choices are seeded by the class and the message's position, so two recipes are
measured on the very same perturbed texts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
# Latin letters and a Cyrillic or Greek letter drawn the same in common fonts.
HOMOGLYPHS = {
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e",
    "p": "\u0440", "s": "\u0455", "x": "\u0445", "y": "\u0443", "j": "\u0458",
    "A": "\u0391", "B": "\u0392", "C": "\u0421", "E": "\u0395", "H": "\u041d",
    "I": "\u0399", "K": "\u039a", "M": "\u041c", "N": "\u039d", "O": "\u039f",
    "P": "\u03a1", "T": "\u03a4", "X": "\u03a7", "Y": "\u03a5", "Z": "\u0396",
}  # fmt: skip
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
COMBINING = range(0x0300, 0x0370)
SHARE = 0.5


def _fullwidth(char: str) -> str:
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char


def _math_bold(char: str) -> str:
    if "a" <= char <= "z":
        return chr(0x1D41A + ord(char) - ord("a"))
    if "A" <= char <= "Z":
        return chr(0x1D400 + ord(char) - ord("A"))
    if "0" <= char <= "9":
        return chr(0x1D7CE + ord(char) - ord("0"))
    return char


def _per_word(change: Callable[[str, random.Random], str]) -> Callable[[str, random.Random], str]:
    """Apply ``change`` to about SHARE of the words, keeping the spaces between them."""

    def apply(text: str, rng: random.Random) -> str:
        return " ".join(
            change(word, rng) if word and rng.random() < SHARE else word for word in text.split(" ")
        )

    return apply


def _zero_width(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word
    cut = rng.randrange(1, len(word))
    return word[:cut] + rng.choice(ZERO_WIDTH) + word[cut:]


def _homoglyphs(text: str, rng: random.Random) -> str:
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < SHARE else c for c in text)


def _combining(text: str, rng: random.Random) -> str:
    return "".join(
        c + chr(rng.choice(COMBINING)) if c.isalpha() and rng.random() < SHARE else c for c in text
    )


def _leet(word: str, rng: random.Random) -> str:
    return "".join(LEET[c] if c in LEET and rng.random() < SHARE else c for c in word)


def _joined(separator: str) -> Callable[[str, random.Random], str]:
    def change(word: str, rng: random.Random) -> str:
        return separator.join(word) if len(word) >= 3 and word.isalpha() else word

    return change


CLASSES: dict[str, Callable[[str, random.Random], str]] = {
    "zero_width": _per_word(_zero_width),
    "homoglyphs": _homoglyphs,
    "fullwidth": _per_word(lambda word, rng: "".join(map(_fullwidth, word))),
    "math_alphanumerics": _per_word(lambda word, rng: "".join(map(_math_bold, word))),
    "combining_marks": _combining,
    "leetspeak": _per_word(_leet),
    "spaced_letters": _per_word(_joined(" ")),
    "dotted_letters": _per_word(_joined(".")),
}


def obfuscate(kind: str, text: str, position: int, seed: int = 0) -> str:
    """``text`` rewritten by obfuscation ``kind``; the same arguments give the same text."""
    return CLASSES[kind](text, random.Random(f"{kind}:{seed}:{position}"))
