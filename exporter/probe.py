"""Texts the export checks the runtime against scikit-learn on, when the user gives none.

They reach the corners where a reimplementation slips: empty and whitespace-only
messages, case and accent rules outside ASCII, characters that lowercase to two code
points, repeated terms (past the runtime's table of sublinear counts), long messages,
and ordinary SMS. Deterministic, so an export is reproducible.
"""

from __future__ import annotations

import random

# Words of both kinds of message, so probes reach a fitted model's vocabulary.
SPAM_WORDS = [
    "free",
    "prize",
    "winner",
    "claim",
    "cash",
    "urgent",
    "txt",
    "reply",
    "call",
    "now",
    "won",
    "award",
    "mobile",
    "offer",
]
HAM_WORDS = [
    "see",
    "you",
    "at",
    "lunch",
    "tomorrow",
    "ok",
    "home",
    "later",
    "love",
    "thanks",
    "dinner",
    "going",
    "where",
    "are",
    "u",
]
SHARED_WORDS = [
    "the",
    "a",
    "to",
    "and",
    "is",
    "it",
    "for",
    "on",
    "this",
    "that",
    "with",
    "me",
    "my",
    "your",
]
_WORDS = [*SPAM_WORDS, *HAM_WORDS, *SHARED_WORDS]

_FIXED = [
    "",
    " ",
    "\t\n  \r",
    "am i spam or am i ham?",
    "WINNER!! As a valued network customer you have been selected to receive a £900 prize",
    "Ok lar... Joking wif u oni...",
    "İstanbul İI \u0131 ß ẞ STRASSE Straße",
    "café CAFÉ cafe\u0301 naïve ﬁnance Ǆ ǅ",
    "東京 日本語のテキスト 中文 한국어",
    "emoji 😀 🎉 text\u200bwith\u00a0odd  spaces\u3000here",
    "a" * 3 + " " + "free " * 300,  # a term counted past the stored log table
    "x" * 5000,
    "Call 09061701461. Claim code KL341. Valid 12 hours only",
    "don't won't can't it's U.S.A. e-mail 3.14 1,000,000",
]


def _generated(count: int, seed: int = 20261202) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 30))]
        if rng.random() < 0.3:
            words = [w.upper() if rng.random() < 0.5 else w.title() for w in words]
        texts.append(" ".join(words) + rng.choice(["", "!", "?", " 123", " £100"]))
    return texts


PROBE_TEXTS: tuple[str, ...] = (*_FIXED, *_generated(200))
