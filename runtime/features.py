"""Text -> feature row, as scikit-learn's vectorizers compute it, on the standard library.

A model's features are one or more *blocks*, each a vectorizer chain scikit-learn users
write: ``TfidfVectorizer``, ``CountVectorizer``, ``HashingVectorizer``, either of the last
two followed by ``TfidfTransformer``, or several of them in a ``FeatureUnion`` (whose
columns are the blocks' columns side by side). ``FeatureBlock`` is the one definition of
a block's settings: the exporter builds it from a fitted vectorizer, the model file
stores its JSON, and the runtime validates and applies it. Rows are sparse, in
scikit-learn's column order, with values computed by the same operations in the same
order, so they are equal to the last bit. The vectorised batch path is
``runtime/features_batch.py``; both must agree exactly.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Sequence

from runtime.analyzer import (
    STREAM_PIECE_CHARS,
    AnalyzerSettings,
    build_analyzer,
    build_batch_analyzer,
    build_stream_analyzer,
    check_settings,
)
from runtime.memo import Memo
from runtime.murmur import hashed_column
from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.normalize import Folder

TERM_SOURCES = ("vocabulary", "hashing")
STEPS = ("l1", "l2", "sublinear_tf", "idf")  # applied to a block's values in this order
MAX_STEPS = 5  # HashingVectorizer's norm, then TfidfTransformer's sublinear_tf, idf, norm
# All blocks together. Loading turns each term into a Python string and a dict entry:
# a re-sealed 4.5 MB file with 2,000,000 terms peaked at +365 MiB and took 7 s to load;
# 500,000 take +91 MiB and 1.4 s, and are 6x the largest recipe (calibrated_svc: 85,806).
MAX_VOCABULARY_TERMS = 500_000
MAX_BLOCKS = 16  # feature blocks (FeatureUnion members) in one model
MAX_HASHING_FEATURES = 1 << 24  # beyond it the weights alone pass the file's inflate cap
LOG_TABLE_SIZE = 256  # log(n) + 1 for counts 1..256, computed by NumPy at export
LOG_TABLE = "features.log_table"
# The named preprocessors' character table (runtime/normalize.py), when a block names one.
FOLD_TABLE = "features.fold_table"
# The hashing memo: at most this many terms of at most this many characters (22 MiB full,
# measured with tracemalloc).
_HASHES_KEPT = 100_000
_HASH_KEPT_CHARS = 64
# An explained message's hashed columns, term by term, as 4-byte integers: 16 MiB at most
# (a 6 MB message of word 1-2 grams makes ~1.7 million terms); past it terms are hashed again.
RECORDED_COLUMNS = 4 * 1024 * 1024
_ANALYZER_KEYS = ("analyzer", "lowercase", "strip_accents", "token_pattern", "ngram_range")


class Rows(NamedTuple):
    """A CSR matrix without SciPy: row ``i`` is ``data[indptr[i]:indptr[i+1]]``."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int

    def row_of(self) -> np.ndarray:
        """Each stored value's row number."""
        import numpy as np

        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


class FeatureBlock(NamedTuple):
    """One vectorizer chain: which terms, how they become columns, how values are scaled."""

    analyzer: AnalyzerSettings
    terms: str  # "vocabulary" (a fitted term -> column map) or "hashing" (MurmurHash3)
    n_features: int
    binary: bool = False
    steps: tuple[str, ...] = ()  # scaling after counting, in order (see STEPS)
    alternate_sign: bool = False  # hashing only: the hash's sign multiplies each count
    separator: str | None = None  # vocabulary only: the character joining the stored terms

    def vocabulary_array(self, index: int) -> str:
        return f"features.{index}.vocabulary"

    def idf_array(self, index: int) -> str:
        return f"features.{index}.idf"

    def to_json(self) -> dict[str, Any]:
        analyzer = self.analyzer
        return {
            "analyzer": analyzer.analyzer,
            "lowercase": analyzer.lowercase,
            "strip_accents": analyzer.strip_accents,
            "token_pattern": analyzer.token_pattern,
            "ngram_range": list(analyzer.ngram_range),
            "stop_words": None if analyzer.stop_words is None else sorted(analyzer.stop_words),
            **({} if analyzer.preprocessor is None else {"preprocessor": analyzer.preprocessor}),
            "terms": self.terms,
            "n_features": self.n_features,
            "binary": self.binary,
            "steps": list(self.steps),
            "alternate_sign": self.alternate_sign,
            "separator": self.separator,
        }

    @classmethod
    def from_json(cls, value: object) -> FeatureBlock:
        """Validate a block read from a model file; ValueError names the bad setting."""
        if not isinstance(value, dict):
            raise ValueError("a feature block must be an object")
        ngram = value.get("ngram_range")
        stop_words = value.get("stop_words")
        if not (isinstance(ngram, list) and len(ngram) == 2):
            raise ValueError("ngram_range must be [min_n, max_n]")
        if stop_words is not None and not isinstance(stop_words, list):
            raise ValueError("stop_words must be a list of strings or null")
        for key in ("lowercase", "binary", "alternate_sign"):
            if not isinstance(value.get(key), bool):
                raise ValueError(f"{key} must be a boolean")
        analyzer = AnalyzerSettings(
            analyzer=value.get("analyzer"),  # type: ignore[arg-type]
            lowercase=value["lowercase"],
            strip_accents=value.get("strip_accents"),
            token_pattern=value.get("token_pattern"),  # type: ignore[arg-type]
            ngram_range=(ngram[0], ngram[1]),
            stop_words=None if stop_words is None else frozenset(stop_words),
            preprocessor=value.get("preprocessor"),
        )
        check_settings(analyzer)
        steps = value.get("steps")
        if not (
            isinstance(steps, list) and len(steps) <= MAX_STEPS and all(s in STEPS for s in steps)
        ):
            raise ValueError(f"steps must be a list of at most {MAX_STEPS} of {STEPS}")
        if steps.count("idf") > 1 or steps.count("sublinear_tf") > 1:
            raise ValueError("idf and sublinear_tf may each appear once in steps")
        terms, n_features = value.get("terms"), value.get("n_features")
        if terms not in TERM_SOURCES:
            raise ValueError(f"terms must be one of {TERM_SOURCES}")
        limit = MAX_VOCABULARY_TERMS if terms == "vocabulary" else MAX_HASHING_FEATURES
        if not (
            isinstance(n_features, int)
            and not isinstance(n_features, bool)
            and 1 <= n_features <= limit
        ):
            raise ValueError(f"n_features must be an integer from 1 to {limit}")
        separator = value.get("separator")
        if terms == "vocabulary" and not (isinstance(separator, str) and len(separator) == 1):
            raise ValueError("a vocabulary block needs a one-character separator")
        if value["alternate_sign"] and terms != "hashing":
            raise ValueError("alternate_sign applies to hashing blocks only")
        if value["alternate_sign"] and "sublinear_tf" in steps:
            raise ValueError("sublinear_tf of signed hashed counts is NaN in scikit-learn")
        return cls(
            analyzer=analyzer,
            terms=terms,
            n_features=n_features,
            binary=value["binary"],
            steps=tuple(steps),
            alternate_sign=value["alternate_sign"],
            separator=separator if terms == "vocabulary" else None,
        )


def encode_vocabulary(terms: Sequence[str]) -> tuple[str, bytes]:
    """(separator, UTF-8 blob): the terms joined by a character none of them contains.

    One ``str.split`` then rebuilds the list at load, far cheaper than slicing by offsets.
    """
    for code in (0x0A, 0x00, 0x1F, *range(0xE000, 0xF900)):
        separator = chr(code)
        if not any(separator in term for term in terms):
            return separator, separator.join(terms).encode("utf-8", "surrogatepass")
    raise ValueError("no character is free to separate the vocabulary's terms")


def decode_vocabulary(blob: bytes | memoryview[Any], separator: str, n_features: int) -> list[str]:
    try:
        text = bytes(blob).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ValueError(f"vocabulary is not valid UTF-8: {exc.reason}") from None
    terms = text.split(separator)
    if len(terms) != n_features:
        raise ValueError(f"vocabulary holds {len(terms)} terms, the block declares {n_features}")
    return terms


class _Vocabulary(dict[str, int]):
    """Term -> column; an unknown term maps to -1 (one C-level lookup per term, via map)."""

    __slots__ = ()

    def __missing__(self, term: str) -> int:
        return -1


class BlockRuntime:
    """A validated block with its arrays, ready to turn texts into rows."""

    def __init__(
        self,
        block: FeatureBlock,
        offset: int,
        vocabulary: list[str] | None,
        idf: memoryview[Any] | None,
        log_table: memoryview[Any] | None,
        preprocess: Folder | None = None,
    ) -> None:
        self.block = block
        self.offset = offset
        settings = block.analyzer
        self._analyze_whole = build_analyzer(settings, lazy=True, preprocess=preprocess)
        self._analyze_stream = build_stream_analyzer(settings, preprocess=preprocess)
        self.analyze_all = build_batch_analyzer(
            settings,
            preprocess=preprocess,
            preprocess_all=None if preprocess is None else preprocess.fold_all,
        )
        self.idf = idf
        self.log_table = log_table
        # log(n) + 1 at index n (index 0 unused), so a count indexes it directly.
        self._log_table: list[float] | None = None
        if log_table is not None:
            self._log_table = [0.0, *log_table.tolist()]
        self.columns: _Vocabulary | None = None
        if vocabulary is not None:
            self.columns = _Vocabulary(zip(vocabulary, range(len(vocabulary)), strict=True))
            if len(self.columns) != len(vocabulary):
                raise ValueError("vocabulary has duplicate terms")
        self._hashes: Memo[str, tuple[int, int]] = Memo(_HASHES_KEPT, clear_when_full=True)

    def analyze(self, text: str) -> Iterable[str]:
        """The text's terms; a long text's piece by piece, so memory stays bounded.

        For a long text the order differs (the same terms, as a multiset): for counting.
        """
        if len(text) > STREAM_PIECE_CHARS:
            return self._analyze_stream(text)
        return self._analyze_whole(text)

    def hashed(self, term: str) -> tuple[int, int]:
        """(column, sign), memoised: a term's hash is pure Python and costs ~1 us.

        Bounded in entries and in size, whatever clients send: a term longer than
        ``_HASH_KEPT_CHARS`` (one 1 MB "word", say) is hashed but not kept.
        """
        found = self._hashes.get(term)
        if found is None:
            found = hashed_column(term, self.block.n_features)
            if len(term) <= _HASH_KEPT_CHARS:
                self._hashes.keep(term, found)
        return found

    def counts(
        self,
        terms: Iterable[str],
        tally: list[int] | None = None,
        record: array[int] | None = None,
    ) -> dict[int, int]:
        """Column -> summed count, as CountVectorizer (or FeatureHasher) accumulates them.

        ``tally`` ([known, all] terms of vocabulary blocks) is added to on the way, so the
        metrics' out-of-vocabulary share costs no second analysis. ``record`` (hashing
        blocks) gets each term's column in order, up to ``RECORDED_COLUMNS``: an
        explanation finds its columns' terms again without hashing every term twice.
        """
        counts: dict[int, int] = {}
        get = counts.get
        if record is not None and self.columns is None:
            signed = self.block.alternate_sign
            room = RECORDED_COLUMNS - len(record)
            for column, sign in map(self.hashed, terms):
                counts[column] = get(column, 0) + (sign if signed else 1)
                if room > 0:
                    record.append(column)
                    room -= 1
        elif self.columns is not None:
            for column in map(self.columns.__getitem__, terms):
                counts[column] = get(column, 0) + 1
            unknown = counts.pop(-1, 0)  # out-of-vocabulary terms
            if tally is not None:
                known = sum(counts.values())
                tally[0] += known
                tally[1] += known + unknown
        elif self.block.alternate_sign:
            for column, sign in map(self.hashed, terms):
                counts[column] = get(column, 0) + sign
        else:
            for column, _ in map(self.hashed, terms):
                counts[column] = get(column, 0) + 1
        return counts

    def row(
        self, text: str, tally: list[int] | None = None, record: array[int] | None = None
    ) -> tuple[list[int], list[float]]:
        counts = self.counts(self.analyze(text), tally, record)
        columns = sorted(counts)
        if self.block.binary:  # also entries whose signed hashes cancelled, as X.data.fill(1)
            return columns, self.scale(columns, [1.0] * len(columns), integral=True)
        return columns, self._tf_idf(columns, counts)

    def _tf_idf(self, columns: list[int], counts: dict[int, int]) -> list[float]:
        """Counts to values, the usual leading steps done in the same pass (the tutorial's
        row: 113,000 instructions instead of 142,000 with a list per step). ``n * w`` of an
        int is ``float(n) * w`` exactly, and the table holds NumPy's ``log(n) + 1``, so the
        values are the same."""
        steps, idf, table = self.block.steps, self.idf, self._log_table
        if steps[:1] == ("sublinear_tf",) and table is not None and columns:
            if min(counts.values()) >= 1 and max(counts.values()) <= LOG_TABLE_SIZE:
                if steps[1:2] == ("idf",) and idf is not None:
                    values = [table[counts[c]] * idf[c] for c in columns]
                    return self.scale(columns, values, integral=False, steps=steps[2:])
                values = [table[counts[c]] for c in columns]
                return self.scale(columns, values, integral=False, steps=steps[1:])
        elif steps[:1] == ("idf",) and idf is not None:
            values = [counts[c] * idf[c] for c in columns]
            return self.scale(columns, values, integral=False, steps=steps[1:])
        return self.scale(columns, [float(counts[c]) for c in columns], integral=True)

    def scale(
        self,
        columns: list[int],
        values: list[float],
        *,
        integral: bool,
        steps: tuple[str, ...] | None = None,
    ) -> list[float]:
        """The block's ``steps`` (default: all) on one row; ``integral`` while values are
        still raw counts."""
        for step in self.block.steps if steps is None else steps:
            if step == "sublinear_tf":
                values = self._sublinear(values, integral)
            elif step == "idf":
                idf = self.idf
                assert idf is not None
                values = [v * idf[c] for v, c in zip(values, columns, strict=True)]
            else:
                values = normalize(values, step)
            integral = False
        return values

    def _sublinear(self, values: list[float], integral: bool) -> list[float]:
        table = self.log_table
        assert table is not None
        if integral and all(1.0 <= v <= LOG_TABLE_SIZE for v in values):
            return [table[int(v) - 1] for v in values]
        log = numpy_log()
        if not integral:
            return [log(v) + 1.0 for v in values]
        return [table[int(v) - 1] if 1.0 <= v <= LOG_TABLE_SIZE else log(v) + 1.0 for v in values]


def normalize(values: list[float], norm: str) -> list[float]:
    """``sklearn.preprocessing.normalize`` of one CSR row: a sequential sum, then divide."""
    total = 0.0
    if norm == "l2":
        for v in values:
            total += v * v
        total = math.sqrt(total)
    else:
        for v in values:
            total += abs(v)
    if total == 0.0:
        return values
    return [v / total for v in values]


_log: Callable[[float], float] | None = None


def numpy_log() -> Callable[[float], float]:
    """NumPy's own log, which scikit-learn applies, for counts outside the stored table.

    NumPy's SIMD log can differ from libm's in the last bit, so the rare count above
    ``LOG_TABLE_SIZE`` imports NumPy; a build without NumPy falls back to ``math.log``.
    """
    global _log
    if _log is None:
        try:
            import numpy as np

            _log = lambda value: float(np.log(value))  # noqa: E731
        except ImportError:
            _log = _log_like_numpy
    return _log


def _log_like_numpy(value: float) -> float:
    """``math.log`` without raising: -inf at 0 and NaN below, as ``np.log`` (a file's
    extreme idf can make a value non-positive; the answer then says non_finite)."""
    if value > 0.0 or value != value:
        return math.log(value)
    return -math.inf if value == 0.0 else math.nan


def _folders(
    blocks: list[FeatureBlock], take: Callable[[str, str, tuple[int, ...]], memoryview[Any]]
) -> dict[str, Folder]:
    """The named preprocessors the blocks use, sharing the file's one fold table."""
    names = {b.analyzer.preprocessor for b in blocks} - {None}
    if not names:
        return {}
    from runtime.normalize import FoldTable, named_folder

    table = FoldTable(take(FOLD_TABLE, "|u1", (-1,)))
    return {name: named_folder(name, table) for name in names if name}


class Featurizer:
    """All blocks of a model, their columns side by side as FeatureUnion stacks them."""

    def __init__(self, blocks: list[BlockRuntime]) -> None:
        self.blocks = blocks
        self.n_features = sum(block.block.n_features for block in blocks)

    @classmethod
    def load(
        cls, specs: object, take: Callable[[str, str, tuple[int, ...]], memoryview[Any]]
    ) -> Featurizer:
        """Blocks from the model file's ``features`` list; ``take`` hands over checked arrays."""
        if not (isinstance(specs, list) and 1 <= len(specs) <= MAX_BLOCKS):
            raise ValueError(f"features must be a list of 1 to {MAX_BLOCKS} blocks")
        blocks = [FeatureBlock.from_json(spec) for spec in specs]
        vocabulary_terms = sum(b.n_features for b in blocks if b.terms == "vocabulary")
        if vocabulary_terms > MAX_VOCABULARY_TERMS:
            raise ValueError(f"more than {MAX_VOCABULARY_TERMS} vocabulary terms in all")
        needs_table = any("sublinear_tf" in b.steps for b in blocks)
        log_table = take(LOG_TABLE, "<f8", (LOG_TABLE_SIZE,)) if needs_table else None
        folders = _folders(blocks, take)
        runtimes, offset = [], 0
        for index, block in enumerate(blocks):
            vocabulary = None
            if block.terms == "vocabulary":
                blob = take(block.vocabulary_array(index), "|u1", (-1,))
                assert block.separator is not None
                vocabulary = decode_vocabulary(blob, block.separator, block.n_features)
            idf = None
            if "idf" in block.steps:
                idf = take(block.idf_array(index), "<f8", (block.n_features,))
            preprocess = folders.get(block.analyzer.preprocessor or "")
            runtimes.append(BlockRuntime(block, offset, vocabulary, idf, log_table, preprocess))
            offset += block.n_features
        return cls(runtimes)

    def row(
        self, text: str, tally: list[int] | None = None, records: list[array[int]] | None = None
    ) -> tuple[list[int], list[float]]:
        """One row as (sorted columns, values), equal to the vectorizer's CSR row.

        ``records``, one array per block, gets the hashing blocks' columns term by term
        (see ``BlockRuntime.counts``)."""
        if len(self.blocks) == 1:
            return self.blocks[0].row(text, tally, None if records is None else records[0])
        columns: list[int] = []
        values: list[float] = []
        for index, block in enumerate(self.blocks):
            record = None if records is None else records[index]
            block_columns, block_values = block.row(text, tally, record)
            offset = block.offset
            columns.extend([c + offset for c in block_columns] if offset else block_columns)
            values.extend(block_values)
        return columns, values
