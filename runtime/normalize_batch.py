"""The normaliser's cheap searches (runtime/normalize.py) over a whole batch at once.

The ASCII rules change only texts in which one of three searches finds something: a dot,
a letter or digit, a dot; a space, two single letters or digits between spaces, then a
space or the text's end; with leet, a digit 0 1 3 4 5 7 beside a letter. Run as regular
expressions they cost a call and a scan per text; here each is a few NumPy operations
over the batch's texts joined, one byte a character (0.63 -> 0.42 us a message,
benchmarks/archive.py's shard). The rules then run only on the texts flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

import numpy as np

# Texts are joined by NUL, which the searches take for a text's end: no search matches
# across it, so a text holding a NUL may be flagged needlessly but none is missed.
SEPARATOR = "\x00"
_PADDING = 4  # NULs after the last text: a search looks at most 4 characters ahead


# Each byte's kind, as bits: one table lookup over the batch, then cheap comparisons
# (a lookup per class costs three times as much).
_LETTER, _LEET_DIGIT, _OTHER_DIGIT, _SPACE, _DOT, _END = 1, 2, 4, 8, 16, 32
_ALNUM = _LETTER | _LEET_DIGIT | _OTHER_DIGIT
_KINDS = np.zeros(256, dtype=np.uint8)
_KINDS[list(b"abcdefghijklmnopqrstuvwxyz")] = _LETTER
_KINDS[list(b"013457")] = _LEET_DIGIT
_KINDS[list(b"2689")] = _OTHER_DIGIT
_KINDS[ord(" ")] = _SPACE
_KINDS[ord(".")] = _DOT
_KINDS[ord(SEPARATOR)] = _END


def flagged(folded: Sequence[str], *, leet: bool) -> list[int]:
    """The indices, in order, of the texts that Folder's rules may change."""
    if not folded:
        return []
    # One byte a character: "replace" makes each non-ASCII character (which no search
    # looks for) one "?", so byte offsets are character offsets.
    joined = SEPARATOR + SEPARATOR.join(folded) + SEPARATOR * _PADDING
    kinds = _KINDS[np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8)]
    alnum, dot, space = (kinds & _ALNUM) != 0, kinds == _DOT, kinds == _SPACE
    # Searches start at 1 (after the leading NUL) up to the last text's end: at(a, k) says
    # it of the character k places after each such start.
    starts_at = len(kinds) - _PADDING - 1

    def at(is_kind: np.ndarray, offset: int) -> np.ndarray:
        return is_kind[1 + offset : 1 + offset + starts_at]

    hit = at(dot, 0) & at(alnum, 1) & at(dot, 2)  # \.[a-z0-9]\.
    # " [a-z0-9] [a-z0-9](?![^ ])", where a text's end is a NUL
    space_or_end = (kinds & (_SPACE | _END)) != 0
    hit |= at(space, 0) & at(alnum, 1) & at(space, 2) & at(alnum, 3) & at(space_or_end, 4)
    if leet:  # [013457](?:(?<=[a-z].)|(?=[a-z]))
        letter = kinds == _LETTER
        hit |= at(kinds == _LEET_DIGIT, 0) & (at(letter, -1) | at(letter, 1))
    positions = np.flatnonzero(hit) + 1
    if not len(positions):
        return []
    starts = np.fromiter(
        accumulate([len(text) + 1 for text in folded], initial=1),
        dtype=np.int64,
        count=len(folded) + 1,
    )
    indices: list[int] = np.unique(np.searchsorted(starts, positions, "right") - 1).tolist()
    return indices
