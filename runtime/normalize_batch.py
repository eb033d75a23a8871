"""The normaliser's ASCII rules (runtime/normalize.py) over a whole batch at once.

Per text, the rules' cheap searches cost a call and a scan each, and the leet rule a
Python step per candidate. Here the batch's texts are joined, one byte a character, and:

- the spaced- and dotted-letter searches are a few whole-array comparisons; the texts
  they find go through the rules in Python (joining letters may make new leet words);
- every other text's leet words are found the same way (a leet digit beside a letter,
  then its run of letters and digits), read by ``normalize.read_leet``, and spliced in.

On benchmarks/archive.py's texts, folding a batch takes 1.8 us a message with the rules
per text and 1.2 this way (min of 15); tests/runtime/test_normalize.py checks that a
batch folds as each text alone.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate

import numpy as np

# Texts are joined by NUL, which the searches take for a text's end: no search or run
# crosses it, so a text holding a NUL may go to the Python rules needlessly, never wrongly.
SEPARATOR = "\x00"
_PADDING = 4  # NULs after the last text: a search looks at most 4 characters ahead
SLICE_CHARS = 64 * 1024  # the archive's chunk (runtime/archive/shard.py) is one slice


def apply_rules(
    folded: list[str],
    *,
    rules: Callable[[str], str],
    read_leet: Callable[[str], str] | None,
) -> None:
    """Replace each text of ``folded`` (the table's stage done) by ``rules(text)``,
    calling ``rules`` only on the texts a spaced or dotted run may change. ``read_leet``
    (``normalize.read_leet``, or None when the rules read no leet) rewrites a leet word,
    returning the word itself when it is none.

    The arrays take about 20 bytes a character, so a batch longer than SLICE_CHARS is
    done a slice of texts at a time (a text longer than that is a slice of its own)."""
    ends = list(accumulate(map(len, folded)))
    if not ends or ends[-1] <= SLICE_CHARS:
        _apply(folded, rules, read_leet)
        return
    start = 0
    while start < len(folded):
        done = ends[start - 1] if start else 0
        end = max(bisect_right(ends, done + SLICE_CHARS), start + 1)
        part = folded[start:end]
        _apply(part, rules, read_leet)
        folded[start:end] = part
        start = end


def _apply(
    folded: list[str], rules: Callable[[str], str], read_leet: Callable[[str], str] | None
) -> None:
    if not folded:
        return
    # One byte a character: "replace" makes each non-ASCII character (which no rule
    # looks at) one "?", so byte offsets are character offsets.
    joined = SEPARATOR + SEPARATOR.join(folded) + SEPARATOR * _PADDING
    codes = np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8)
    # Comparisons: indexing a table by the codes costs 30 us a batch of 200, these 2.
    letter = np.subtract(codes, ord("a"), dtype=np.uint8) < 26
    digit = np.subtract(codes, ord("0"), dtype=np.uint8) < 10
    alnum = letter | digit
    dot, space = codes == ord("."), codes == ord(" ")
    # Searches start at 1 (after the leading NUL) up to the last text's end: at(a, k) says
    # it of the character k places after each such start.
    positions = len(codes) - _PADDING - 1

    def at(is_kind: np.ndarray, offset: int) -> np.ndarray:
        return is_kind[1 + offset : 1 + offset + positions]

    found = at(dot, 0) & at(alnum, 1) & at(dot, 2)  # \.[a-z0-9]\.
    # " [a-z0-9] [a-z0-9](?![^ ])", where a text's end is a NUL
    space_or_end = space | (codes == 0)
    found |= at(space, 0) & at(alnum, 1) & at(space, 2) & at(alnum, 3) & at(space_or_end, 4)
    starts = np.fromiter(
        accumulate([len(text) + 1 for text in folded], initial=1),
        dtype=np.int64,
        count=len(folded) + 1,
    )
    joining = set(_texts_at(starts, np.flatnonzero(found) + 1))
    for index in joining:
        folded[index] = rules(folded[index])
    if read_leet is not None:
        words = _leet_words(joined, codes, letter, digit, alnum, read_leet)
        _splice(folded, joined, starts, words, skip=joining)


def _splice(
    folded: list[str],
    joined: str,
    starts: np.ndarray,
    words: list[tuple[int, int, str]],
    skip: set[int],
) -> None:
    """Put each rewritten word into its text, but in the texts ``skip`` names."""
    texts = np.searchsorted(starts, [begin for begin, _, _ in words], "right") - 1
    by_text: dict[int, list[tuple[int, int, str]]] = {}
    for index, word in zip(texts.tolist(), words, strict=True):
        if index not in skip:
            by_text.setdefault(index, []).append(word)
    for index, text_words in by_text.items():
        pieces: list[str] = []
        done = int(starts[index])
        for begin, end, read in text_words:
            pieces += (joined[done:begin], read)
            done = end
        pieces.append(joined[done : starts[index + 1] - 1])
        folded[index] = "".join(pieces)


def _texts_at(starts: np.ndarray, positions: np.ndarray) -> list[int]:
    """The indices of the texts holding these positions of the joined string."""
    indices: list[int] = np.unique(np.searchsorted(starts, positions, "right") - 1).tolist()
    return indices


def _leet_words(
    joined: str,
    codes: np.ndarray,
    letter: np.ndarray,
    digit: np.ndarray,
    alnum: np.ndarray,
    read_leet: Callable[[str], str],
) -> list[tuple[int, int, str]]:
    """(begin, end, rewritten) for each run of letters and digits the leet rule rewrites,
    in order: every such run holds a leet digit beside a letter, so only those are read."""
    leet_digit = digit & (codes != ord("2")) & (codes != ord("6")) & (codes < ord("8"))
    beside = leet_digit[1:-1] & (letter[:-2] | letter[2:])
    candidates = np.flatnonzero(beside) + 1
    if not len(candidates):
        return []
    # Runs as [begin, end): alnum turns on at a begin and off at an end (the joined string
    # starts and ends with NUL, so they pair up).
    edges = np.flatnonzero(alnum[1:] != alnum[:-1]) + 1
    begins, ends = edges[0::2], edges[1::2]
    runs = np.unique(np.searchsorted(begins, candidates, "right") - 1)
    found = []
    for begin, end in zip(begins[runs].tolist(), ends[runs].tolist(), strict=True):
        word = joined[begin:end]
        read = read_leet(word)
        if read is not word:
            found.append((begin, end, read))
    return found
