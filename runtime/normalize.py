"""The obfuscation-proof preprocessor, applied from the table in the model file.

``exporter.normalize.fold`` (or ``fold_leet``) given to a vectorizer as ``preprocessor=``
replaces scikit-learn's lowercasing and accent stripping. It is two stages:

1. Per character, a table: compatibility forms folded (NFKD: fullwidth and mathematical
   letters), invisible format characters (Cf) and combining marks (Mn, Me) removed,
   confusable letters mapped to the Latin letter they imitate (TR39), then lowercased.
   The exporter computes it with its own interpreter's Unicode tables and stores it in
   the model file (``runtime.features.FOLD_TABLE``), so the runtime gives the training
   interpreter's output whatever Python serves it: this stage never reads the runtime's
   own Unicode tables.
2. On the folded text, rules on ASCII letters and digits only (so they too are the same
   on every Python): runs of three or more single letters or digits separated by single
   spaces ("f r e e") or dots ("f.r.e.e") are joined; with ``fold_leet``, the digits
   0 1 3 4 5 7 inside a word of at least two letters whose digits are all of those
   ("fr33", "c4sh") become o i e a s t.

Every rule is linear in the text: ``str.translate``, one ``split(" ")``, and patterns
without nested quantifiers. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runtime.memo import Memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The stored table (runtime.features.FOLD_TABLE), UTF-8: every folded character (sorted),
# NUL, then their replacements joined by NUL.
# Every character whose fold is not itself; 6,000 to 10,000 on current Pythons.
MAX_FOLD_ENTRIES = 50_000
MAX_REPLACEMENT_CHARS = 18  # the longest NFKD expansion (U+FDFA) is 18 characters
SEPARATOR = "\x00"
MEMO_ENTRIES = 65_536  # characters looked up and kept, however many clients send
MIN_JOINED = 3

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# Starts only where no letter, digit or dot precedes: one attempt per run, so linear.
# Compiled on first use, through re's cache: few texts need it, and compiling it took a
# quarter of a millisecond of every cold start.
_DOTTED = r"(?<![a-z0-9.])(?:[a-z0-9]\.){2,}[a-z0-9](?![a-z0-9])"
_ALNUM_RUN = r"[a-z0-9]*"  # the rest of a run, at C speed (1 MB of "a1": 87 -> 6 ms)
# A whole run holding a leet digit (it starts where no letter or digit precedes): tried at
# every position, so only for long texts, where a per-candidate Python step costs more.
_LEET_CANDIDATE = r"(?<![a-z0-9])[a-z0-9]*[013457][a-z0-9]*"
LONG_TEXT = 4096
# Cheap searches that let most messages skip the rules: each begins with a literal or one
# class, which the scanner skips ahead to (a pattern that begins with a lookbehind is tried
# at every position, ~20x slower), and each finds something in every text a rule would
# change; tests/runtime/test_normalize.py checks both ways agree.
_DOT_SINGLE_DOT = re.compile(r"\.[a-z0-9]\.")  # inside every _DOTTED match
_LAST_TWO_SINGLES = re.compile(r" [a-z0-9] [a-z0-9](?![^ ])")  # ends three single letters
_LEET_BESIDE_LETTER = re.compile(r"[013457](?:(?<=[a-z].)|(?=[a-z]))")  # in every leet word
LEET = str.maketrans("013457", "oieast")
_WITHOUT_LEET_DIGITS = str.maketrans("", "", "013457")


def encode_fold_table(table: dict[str, str]) -> bytes:
    """The table as stored: the characters in order, NUL, their replacements NUL-joined."""
    for source, replacement in table.items():
        if len(source) != 1 or SEPARATOR in source + replacement:
            raise ValueError(f"fold table entry U+{ord(source[0]):04X} cannot be stored")
    sources = sorted(table)
    text = "".join(sources) + SEPARATOR + SEPARATOR.join(table[c] for c in sources)
    return text.encode("utf-8", "surrogatepass")


# Every byte to b"x" but NUL, and the UTF-8 continuation bytes deleted: one byte a character,
# so a replacement too long is a run of b"x" this long, found without splitting the table.
_CHARACTER_MARKS = bytes([0, *[ord("x")] * 255])
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_TOO_LONG = b"x" * (MAX_REPLACEMENT_CHARS + 1)


def check_fold_table(blob: bytes | memoryview[Any]) -> str:
    """The table's text, checked whole: its encoding, its size, as many replacements as
    characters, none too long. 0.2 ms for a 9,000-entry table (splitting it and measuring
    each replacement took 0.7 ms of a cold start)."""
    raw = bytes(blob)
    try:
        text = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ValueError(f"fold table is not valid UTF-8: {exc.reason}") from None
    if SEPARATOR not in text:
        raise ValueError("fold table has no separator after its characters")
    entries = text.index(SEPARATOR)
    if entries > MAX_FOLD_ENTRIES:
        raise ValueError(f"fold table has more than {MAX_FOLD_ENTRIES} entries")
    replacements = text.count(SEPARATOR) if len(text) > 1 else 0  # "\x00": no entries
    if replacements != entries:
        raise ValueError(f"fold table has {entries} characters and {replacements} replacements")
    marks = raw.translate(_CHARACTER_MARKS, _CONTINUATION_BYTES)
    if marks.find(_TOO_LONG, entries + 1) >= 0:
        raise ValueError(f"fold table replacement longer than {MAX_REPLACEMENT_CHARS}")
    _check_ascii_entries(text, entries)
    return text


def _check_ascii_entries(text: str, entries: int) -> None:
    """ASCII text is folded by ``str.lower`` without the table, so the table may map an
    ASCII character only as lower() does: A-Z to a-z (the sorted characters start with
    the ASCII ones, and there are at most 128 of those)."""
    head = text[: min(entries, 128)]
    count = next((i for i, char in enumerate(head) if char > "\x7f"), len(head))
    replacements = text[entries + 1 :].split(SEPARATOR, count)[:count]
    for char, replacement in zip(head[:count], replacements, strict=True):
        if not ("A" <= char <= "Z" and replacement == char.lower()):
            raise ValueError(
                f"fold table maps ASCII {char!r} to {replacement!r}; ASCII folds as lower() does"
            )


class FoldLookup(Memo[int, str]):
    """``str.translate``'s mapping: a character's fold found on first sight, then kept
    (at most ``MEMO_ENTRIES`` of them: the first seen are the common ones).

    ``text`` is one ``check_fold_table`` passed. It is split into replacements on the
    first character looked up, not at load: ASCII text never needs them.
    """

    __slots__ = ("_replacements", "_rest", "_sources")

    def __init__(self, text: str) -> None:
        super().__init__(MEMO_ENTRIES)
        self._sources, _, self._rest = text.partition(SEPARATOR)
        self._replacements: list[str] | None = None

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if code < 128:  # as the ASCII path, whether or not the table lists A-Z
            return self.keep(code, char.lower())
        index = self._sources.find(char)
        if index < 0:
            return self.keep(code, char)
        if self._replacements is None:
            self._replacements = self._rest.split(SEPARATOR)
        return self.keep(code, self._replacements[index])


def decode_fold_table(blob: bytes | memoryview[Any]) -> FoldLookup:
    """The mapping ``str.translate`` folds with; ValueError says what is wrong."""
    return FoldLookup(check_fold_table(blob))


def join_singles(text: str) -> str:
    """ "f r e e" -> "free", "f.r.e.e" -> "free": runs of single letters or digits."""
    if _DOT_SINGLE_DOT.search(text) is not None:
        text = re.sub(_DOTTED, _undot, text)
    if not _has_three_singles(text):
        return text
    words = text.split(" ")
    out: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1 and word in _ALNUM:
            run.append(word)
            continue
        _flush(run, out)
        out.append(word)
    _flush(run, out)
    return " ".join(out)


def _has_three_singles(text: str) -> bool:
    """Whether three single letters or digits stand between spaces (or the text's ends):
    each " x y" the cheap search finds, with one more single before it."""
    search, at = _LAST_TWO_SINGLES.search, 0
    while (match := search(text, at)) is not None:
        space = match.start()
        if space and text[space - 1] in _ALNUM and (space == 1 or text[space - 2] == " "):
            return True
        at = space + 1
    return False


def _undot(match: re.Match[str]) -> str:
    return match.group().replace(".", "")


def _flush(run: list[str], out: list[str]) -> None:
    if len(run) >= MIN_JOINED:
        out.append("".join(run))
    else:
        out.extend(run)
    run.clear()


def unleet(text: str) -> str:
    """ "fr33" -> "free": a whole run of letters and digits with at least two letters and
    only the digits 0 1 3 4 5 7 has them read as letters. Every such run holds a digit
    beside a letter, so a message has only the runs around those looked at; a long text
    (which may hold a candidate every few characters) is scanned run by run in C instead,
    which bounds it to the rule's old cost (0.4 -> 0.15 s for 1 MB of "2a1 ")."""
    match = _LEET_BESIDE_LETTER.search(text)
    if match is None:
        return text
    if len(text) > LONG_TEXT:
        return re.sub(_LEET_CANDIDATE, _leet_run, text)
    search, run_end, done = _LEET_BESIDE_LETTER.search, re.compile(_ALNUM_RUN).match, 0
    pieces: list[str] = []
    while match is not None:
        start = match.start()
        while start > done and text[start - 1] in _ALNUM:
            start -= 1
        run = run_end(text, match.end())
        end = match.end() if run is None else run.end()  # [a-z0-9]* always matches
        word = text[start:end]
        folded = read_leet(word)
        if folded is not word:
            pieces += (text[done:start], folded)
            done = end
        match = search(text, end)
    return "".join((*pieces, text[done:])) if pieces else text


def read_leet(word: str) -> str:
    """The run with its leet digits read as letters, or the run itself (the same object)."""
    letters = word.translate(_WITHOUT_LEET_DIGITS)
    if len(letters) >= 2 and letters.isalpha():  # isalpha: no other digit in the run
        return word.translate(LEET)
    return word


def _leet_run(match: re.Match[str]) -> str:
    return read_leet(match.group())


class FoldTable:
    """The model file's table, checked whole when the model loads.

    ASCII text needs no table (its fold is ``str.lower``; the table maps A-Z the same), but
    a table that only failed on the first non-ASCII request would let a bad file load, pass
    a pointer refresh, and then answer 500s; checking it costs ~0.2 ms of a cold start.
    """

    def __init__(self, blob: bytes | memoryview[Any]) -> None:
        self._lookup = FoldLookup(check_fold_table(blob))

    def get(self) -> FoldLookup:
        return self._lookup


# What each name in runtime/analyzer.py's PREPROCESSORS does: whether it also reads leet.
READS_LEET = {"fold": False, "fold_leet": True}


def named_folder(name: str, table: FoldTable | FoldLookup) -> Folder:
    """The preprocessor a feature block names, over the model file's table."""
    return Folder(table, leet=READS_LEET[name])


class Folder:
    """``text -> folded text``: the table's stage, then the ASCII rules."""

    def __init__(self, table: FoldTable | FoldLookup, *, leet: bool) -> None:
        self._table = table
        self.leet = leet

    def _lookup(self) -> FoldLookup:
        table = self._table
        return table if isinstance(table, FoldLookup) else table.get()

    def __call__(self, text: str) -> str:
        return self._rules(text.lower() if text.isascii() else text.translate(self._lookup()))

    def fold_all(self, texts: Sequence[str]) -> list[str]:
        """``[self(text) for text in texts]``, with the ASCII rules decided over the whole
        batch at once (runtime/normalize_batch.py, NumPy) and run in Python only on the
        texts that need it."""
        from runtime.normalize_batch import apply_rules  # a batch has NumPy; one text not

        lookup = self._lookup()
        folded = [t.lower() if t.isascii() else t.translate(lookup) for t in texts]
        apply_rules(folded, rules=self._rules, read_leet=read_leet if self.leet else None)
        return folded

    def _rules(self, folded: str) -> str:
        folded = join_singles(folded)
        return unleet(folded) if self.leet else folded
