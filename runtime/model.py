"""A loaded model: features (``runtime/features.py``) then a classifier family.

Loading and scoring a few messages use the standard library alone: NumPy is imported
only when a request is large enough for vectorising to pay (``VECTORISE_FROM``), and a
build without NumPy scores every request in plain Python. Both paths give identical
feature rows and scores (the tests check it bit for bit), and scikit-learn's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence

from runtime import logs
from runtime.analyzer import STREAM_PIECE_CHARS
from runtime.decision import THRESHOLD_KEY, Threshold, parse_threshold
from runtime.families import load_family
from runtime.families.common import finite_or_none
from runtime.features import Featurizer, Rows
from runtime.modelfile import (
    FileTooLarge,
    ModelError,
    ModelFile,
    check_classes,
    read_bounded,
    read_model_file,
    sha256_hex,
)
from runtime.npz import MAX_FILE_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.explain import Explainer
    from runtime.families.family import Family

__all__ = ["Model", "ModelError", "Rows"]

# Requests of fewer messages are scored in plain Python; from this many on, NumPy.
# Measured by benchmarks/crossover.py (benchmarks/crossover.md, Python 3.13): NumPy overtakes
# plain Python at 6-7 messages for the single-TF-IDF recipes and at 2 for the char n-gram
# ones; every threshold from 4 to 8 is, on average, within 0.4% of the faster path (16
# loses 3%). 8 keeps the most requests free of NumPy's import (~80 ms on a quiet core), which
# the best recipe earns back in 55-140 requests of 8-15 messages, the naive Bayes ones in
# 1,300-7,000.
VECTORISE_FROM = 8
# Metadata: one line the exporter leaves for whoever serves the model (a caveat); /health
# answers it. Optional, so files without it stay valid.
NOTE_KEY = "note"
# Batches are scored in chunks of at most this many characters, which bounds the memory
# a request's tokens take; a longer single message is analysed piece by piece, in plain
# Python, as the analyzer streams any text past the same budget (one home: the analyzer's).
# 16 Ki characters: the calibrated_svc recipe's char_wb n-grams for a 64 Ki chunk took
# +23 MiB on the largest default request, +8 MiB at 16 Ki, at no measurable cost in time
# (tests/runtime/test_request_memory.py; the README's memory table).
CHUNK_CHARS = STREAM_PIECE_CHARS
CHUNK_TEXTS = 1024


_DEFAULT_TOP = object()  # explain's default, resolved where it is defined (runtime/explain.py)


class Model:
    """A validated model; immutable after loading and safe to share between threads."""

    def __init__(self, file: ModelFile, model_id: str) -> None:
        meta = file.metadata
        self.model_id = model_id
        self.metadata: dict[str, Any] = meta
        self.classes: tuple[str | int, ...] = check_classes(meta.get("classes"))
        try:
            self.featurizer = Featurizer.load(meta.get("features"), file.take)
            if meta.get("n_features") != self.featurizer.n_features:
                raise ValueError(
                    f"metadata n_features={meta.get('n_features')!r} but the features "
                    f"have {self.featurizer.n_features} columns"
                )
            self.family: Family = load_family(
                meta.get("classifier"), file.take, self.featurizer.n_features, len(self.classes)
            )
            self._threshold: Threshold | None = parse_threshold(
                meta.get(THRESHOLD_KEY), self.classes, self.family
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelError(str(exc)) from None
        file.finish()
        classifier = meta["classifier"]
        self.family_name: str = classifier["family"]
        self._numpy_ok: bool | None = None
        self._explainer: Explainer | None = None
        self._no_known_words: str | int | None = None
        _warn_if_trained_elsewhere(meta.get("created_by"))

    @classmethod
    def from_bytes(
        cls, data: bytes, *, expected_sha256: str | None = None, sha256: str | None = None
    ) -> Model:
        """Load a model file held in memory; ``expected_sha256`` pins the exact file.

        ``sha256`` is the caller's digest of ``data`` (computed while streaming it), so
        the bytes are not hashed twice. A pinned file's content checksum is not checked
        again: the pin is the stronger check.
        """
        if len(data) > MAX_FILE_BYTES:  # before hashing it
            raise ModelError(f"model file has {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
        model_id = sha256 or sha256_hex(data)
        if expected_sha256 is not None and model_id != expected_sha256.strip().lower():
            raise ModelError(
                f"model SHA-256 is {model_id}, expected {expected_sha256.strip().lower()}"
            )
        file = read_model_file(data, verify_content=expected_sha256 is None)
        return cls(file, model_id)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> Model:
        """Read a model file, refusing one larger than ``max_bytes`` before reading it."""
        max_bytes = min(max_bytes, MAX_FILE_BYTES)
        try:
            data = read_bounded(path, max_bytes)
        except OSError as exc:
            reason = exc.strerror or exc
            raise ModelError(f"cannot read model file {os.fspath(path)!r}: {reason}") from None
        except FileTooLarge as exc:
            if exc.size is None:
                where = os.fspath(path)
                raise ModelError(f"model file {where!r} grew past {max_bytes} bytes") from None
            raise ModelError(
                f"model file {os.fspath(path)!r} has {exc.size} bytes; the limit is {max_bytes}"
            ) from None
        return cls.from_bytes(data, expected_sha256=expected_sha256)

    # The API's view: JSON-ready predictions.

    @property
    def threshold(self) -> dict[str, Any] | None:
        """The stored decision threshold (for /health), or None: scikit-learn's own cut.

        ``{"score", "value", "positive", "max_ham_flagged"}``: ``positive`` is answered
        when ``score`` (see runtime/decision.py) is strictly above ``value``.
        """
        return None if self._threshold is None else self._threshold.as_json()

    @property
    def answer_member(self) -> str:
        """Where each prediction carries its numbers: ``probabilities`` (families that
        have them), ``score`` (one decision column) or ``scores`` (one per class)."""
        if self.family.has_proba:
            return "probabilities"
        return "score" if len(self.classes) == 2 else "scores"

    def classify(
        self, texts: Sequence[str], *, coverage: list[int] | None = None
    ) -> list[dict[str, Any]]:
        """One JSON-ready prediction per text: label, and probabilities or decision scores.

        ``coverage``, a [known, all] pair, is added the vocabulary blocks' term counts of
        these texts, counted while they are featurised (see ``vocabulary_coverage``).

        The label applies the model file's decision threshold when it has one; ``predict``
        stays scikit-learn's ``predict`` of the fitted estimator.
        """
        threshold = self._threshold
        predictions = []
        for label_index, scores in self._labelled_scores(texts, tally=coverage):
            if threshold is None:
                predictions.append(self._prediction(label_index, scores))
            else:
                predictions.append(self._prediction(*self._decided(scores)))
        return predictions

    def _prediction(
        self, label_index: int, scores: list[float], decided: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One JSON-ready answer; a number that is not finite is answered as null, and the
        answer says so with ``"non_finite": true`` (see docs/limits.md). ``decided`` is the
        stored threshold's cut when it chose the label (see Threshold.decided)."""
        classes, family = self.classes, self.family
        prediction: dict[str, Any] = {"label": classes[label_index]}
        proba = family.proba(scores) if family.has_proba else None
        if proba is not None:
            shown = finite_or_none(proba)
            prediction["probabilities"] = dict(zip(classes, shown, strict=True))
        elif len(scores) == 1:
            shown = finite_or_none(scores)
            prediction["score"] = shown[0]
        else:
            shown = finite_or_none(scores)
            prediction["scores"] = dict(zip(classes, shown, strict=True))
        if None in shown:
            prediction["non_finite"] = True
        if decided is not None:  # the label follows from this, not from the numbers above
            prediction["decided_by"] = decided
        return prediction

    def classify_explained(
        self, texts: Sequence[str], top: int, *, coverage: list[int] | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """``classify`` and ``explain`` of each text from one feature row, one text at a
        time, so that a caller can stop as soon as the answer grows past its limit."""
        from runtime.explain import check_top  # only when explaining

        count = check_top(top)
        explainer, family, featurizer = self._explaining(), self.family, self.featurizer
        # A batch scores with NumPy, as classify does: texts x classes in plain Python
        # took 55 explained texts on a 1,000-class model 17 s instead of 1.
        score = _row_scorer(family, featurizer.n_features) if self._use_numpy(texts, None) else None
        for text in _checked(texts):
            records = explainer.new_records()
            columns, values = featurizer.row(text, coverage, records)
            scores = family.scores(columns, values) if score is None else score(columns, values)
            explanation = explainer.explain_row(text, columns, values, scores, count, records)
            yield self._prediction(*self._decided(scores)), explanation

    def explain(self, texts: Sequence[str], *, top: object = _DEFAULT_TOP) -> list[dict[str, Any]]:
        """Per text, the ``top`` terms that moved the decision, with exact contributions.

        See runtime/explain.py for what is explained. The answer contains the message's
        words: never log it. ``top`` outside 1..MAX_TOP raises ValueError.
        """
        from runtime.explain import DEFAULT_TOP, check_top  # only when explaining

        count = check_top(DEFAULT_TOP if top is _DEFAULT_TOP else top)
        explainer = self._explaining()
        return [explainer.explain(text, count) for text in _checked(texts)]

    def classify_arrays(
        self, texts: Sequence[str], *, chunk_chars: int = CHUNK_CHARS
    ) -> tuple[np.ndarray, np.ndarray]:
        """``classify`` for large batches, as NumPy arrays: (label indices, values).

        The labels are ``classify``'s (threshold applied); the values are the family's
        probabilities when its link has them, else its scores, one row per text (also for
        no texts: (0, columns)). Everything past the scores is derived by the family from
        its declarations. The archive scorer writes millions of rows from these without
        building a dict per message, in chunks of ``chunk_chars`` characters (a text longer
        than that is analysed as a stream).
        """
        import numpy as np

        from runtime import features_batch

        family, featurizer, threshold = self.family, self.featurizer, self._threshold
        parts = [family.empty_scores()]
        for chunk in _chunks(texts, chunk_chars):
            if len(chunk) == 1 and len(chunk[0]) > chunk_chars:  # counted as a stream
                row = family.scores(*featurizer.row(chunk[0]))
                parts.append(np.array([row], dtype=np.float64))
            else:
                parts.append(family.scores_batch(features_batch.transform(featurizer, chunk)))
        scores = np.concatenate([p.reshape(len(p), family.n_score_columns) for p in parts])
        if threshold is None:
            labels = family.label_index_batch(scores)
        else:
            labels = family.binary_score_batch(scores) > threshold.value
        if not family.has_proba:
            values = scores
        elif not len(scores):  # as _predict_proba: a link's normalising needs a row
            values = np.empty((0, family.n_classes))
        else:
            proba = family.proba_batch(scores)
            values = scores if proba is None else proba
        return np.asarray(labels, dtype=np.intp), values

    def _explaining(self) -> Explainer:
        """The model's explainer, built on first use (its vocabulary inverse is kept)."""
        if self._explainer is None:
            from runtime.explain import Explainer  # only when explaining

            self._explainer = Explainer(self.featurizer, self.family, self.classes, self.decide)
        return self._explainer

    @property
    def note(self) -> str | None:
        """The exporter's one-line caveat about this model (see NOTE_KEY), or None."""
        note = self.metadata.get(NOTE_KEY)
        return note if isinstance(note, str) else None

    @property
    def no_known_words_label(self) -> str | int:
        """The label of a message none of whose words the model knows (an empty one): what
        /health states, since for some models (the tutorial's) that is spam."""
        if self._no_known_words is None:
            self._no_known_words = self.classify([""])[0]["label"]
        return self._no_known_words

    def _decided(self, scores: list[float]) -> tuple[int, list[float], dict[str, Any] | None]:
        """``_prediction``'s arguments for one row: the label index, and the threshold's cut
        when a stored threshold decided it."""
        threshold = self._threshold
        if threshold is None:
            return self.family.label_index(scores), scores, None
        score = self.family.binary_score(scores)
        return int(score > threshold.value), scores, threshold.decided(score)

    def decide(self, scores: list[float]) -> int:
        """The class index ``classify`` answers for one row's scores: threshold applied."""
        return self._decided(scores)[0]

    def vocabulary_coverage(self, texts: Sequence[str]) -> tuple[int, int]:
        """(terms found in a vocabulary, all terms) over vocabulary blocks: drift shows here.

        Hashing blocks know no vocabulary and are left out. A request gets the same counts
        from ``classify(texts, coverage=...)`` without analysing the texts again.
        """
        tally = [0, 0]
        for text in _checked(texts):
            self.featurizer.row(text, tally)
        return tally[0], tally[1]

    # scikit-learn's names. They return NumPy arrays; ``vectorise`` forces a path (tests).

    def predict(self, texts: Sequence[str], *, vectorise: bool | None = None) -> list[Any]:
        classes = self.classes
        return [classes[i] for i, _ in self._labelled_scores(texts, vectorise)]

    @property
    def predict_proba(self) -> Any:
        if not self.family.has_proba:
            raise AttributeError(f"a {self.family_name} model has no predict_proba")
        return self._predict_proba

    @property
    def decision_function(self) -> Any:
        return self._scores_method("decision_function")

    @property
    def predict_joint_log_proba(self) -> Any:
        return self._scores_method("predict_joint_log_proba")

    def _scores_method(self, name: str) -> Any:
        if self.family.score_method != name:
            raise AttributeError(f"a {self.family_name} model has no {name}")

        def method(texts: Sequence[str], *, vectorise: bool | None = None) -> np.ndarray:
            scores = self._score_array(texts, vectorise)
            return scores[:, 0] if scores.shape[1] == 1 else scores

        return method

    def _predict_proba(self, texts: Sequence[str], *, vectorise: bool | None = None) -> np.ndarray:
        import numpy as np

        family, shape = self.family, (len(texts), len(self.classes))
        if self._use_numpy(texts, vectorise):
            parts = []
            for chunk in _chunks(texts):
                proba = family.proba_batch(family.scores_batch(self.transform(chunk)))
                assert proba is not None  # the property offers this method only then
                parts.append(proba)
            return np.concatenate(parts).reshape(shape) if parts else np.empty(shape)
        rows = [family.proba(self.scores_one(text)) for text in _checked(texts)]
        return np.array(rows, dtype=np.float64).reshape(shape)

    def _score_array(self, texts: Sequence[str], vectorise: bool | None) -> np.ndarray:
        """(n_texts, score columns), also for no texts: scikit-learn's shape for n rows."""
        import numpy as np

        shape = (len(texts), self.family.n_score_columns)
        if self._use_numpy(texts, vectorise):
            parts = [self.family.scores_batch(self.transform(chunk)) for chunk in _chunks(texts)]
            return np.concatenate(parts).reshape(shape) if parts else np.empty(shape)
        rows = [self.scores_one(text) for text in _checked(texts)]
        return np.array(rows, dtype=np.float64).reshape(shape)

    # Features.

    def transform(self, texts: Sequence[str]) -> Rows:
        """The feature rows as CSR arrays, identical to the scikit-learn pipeline's."""
        from runtime import features_batch

        return features_batch.transform(self.featurizer, _checked(texts))

    def transform_one(self, text: str) -> tuple[list[int], list[float]]:
        """One feature row as (sorted columns, values), in plain Python."""
        return self.featurizer.row(_checked_one(text))

    def scores_one(self, text: str) -> list[float]:
        return self.family.scores(*self.featurizer.row(_checked_one(text)))

    # Paths.

    def _labelled_scores(
        self,
        texts: Sequence[str],
        vectorise: bool | None = None,
        *,
        tally: list[int] | None = None,
    ) -> list[tuple[int, list[float]]]:
        family, featurizer = self.family, self.featurizer
        if not self._use_numpy(texts, vectorise):
            results = []
            for text in _checked(texts):
                scores = family.scores(*featurizer.row(text, tally))
                results.append((family.label_index(scores), scores))
            return results
        from runtime import features_batch

        results = []
        for chunk in _chunks(texts):
            if len(chunk) == 1 and len(chunk[0]) > CHUNK_CHARS:  # counted as a stream
                scores_one = family.scores(*featurizer.row(chunk[0], tally))
                results.append((family.label_index(scores_one), scores_one))
                continue
            batch = family.scores_batch(features_batch.transform(featurizer, chunk, tally))
            labels = family.label_index_batch(batch).tolist()
            results.extend(zip(labels, batch.tolist(), strict=True))
        return results

    def _use_numpy(self, texts: Sequence[str], vectorise: bool | None) -> bool:
        if vectorise is False or (vectorise is None and len(texts) < VECTORISE_FROM):
            return False
        if self._numpy_ok is None:
            try:
                import numpy  # noqa: F401
            except ImportError:  # the NumPy-free build scores batches in plain Python too
                self._numpy_ok = False
            else:
                self._numpy_ok = True
        return self._numpy_ok


def _row_scorer(family: Family, n_features: int) -> Callable[[list[int], list[float]], list[float]]:
    """One plain row's scores through the family's NumPy path (equal to the plain path's)."""
    import numpy as np

    def score(columns: list[int], values: list[float]) -> list[float]:
        rows = Rows(
            np.array([0, len(columns)], dtype=np.int64),
            np.array(columns, dtype=np.int64),
            np.array(values, dtype=np.float64),
            n_features,
        )
        scores: list[float] = family.scores_batch(rows).tolist()[0]
        return scores

    return score


def _chunks(texts: Sequence[str], chunk_chars: int = CHUNK_CHARS) -> list[Sequence[str]]:
    """Consecutive slices of at most CHUNK_TEXTS texts and about chunk_chars characters."""
    chunks: list[Sequence[str]] = []
    start, size = 0, 0
    for i, text in enumerate(_checked(texts)):
        size += len(text)
        if i > start and (size > chunk_chars or i - start >= CHUNK_TEXTS):
            chunks.append(texts[start:i])
            start, size = i, len(text)
    if start < len(texts):
        chunks.append(texts[start:])
    return chunks


def _checked(texts: Sequence[object]) -> Sequence[str]:
    if not set(map(type, texts)) <= {str}:  # one C-level pass; subclasses take the slow path
        for text in texts:
            _checked_one(text)
    return texts  # type: ignore[return-value]


def _checked_one(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"texts must be str, got {type(text).__name__}")
    return text


def training_differences(
    created_by: object, python: str, unicode: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trained with, serving with): the versions that differ between a model's training
    (its ``created_by`` record) and an interpreter of ``python`` with ``unicode`` tables.

    Tokens depend on the interpreter's Unicode tables. CPython's are fixed per minor
    version, so a model trained on the same minor version is not compared further (and
    ``unicode``, None, is then not needed: the cold start does not import unicodedata).
    Both are empty when nothing differs or nothing was recorded.
    """
    if not isinstance(created_by, dict):
        return {}, {}
    there_python = ".".join(str(created_by.get("python", "")).split(".")[:2])
    here_python = ".".join(python.split(".")[:2])
    if there_python == here_python:
        return {}, {}
    if unicode is None:
        import unicodedata

        unicode = unicodedata.unidata_version
    here = {"python": here_python, "unicode": unicode}
    there = {"python": there_python, "unicode": created_by.get("unicode")}
    differ = [k for k in here if there[k] is not None and there[k] != here[k]]
    return {k: there[k] for k in differ}, {k: here[k] for k in differ}


def _warn_if_trained_elsewhere(created_by: object) -> None:
    """Log when this interpreter may tokenise differently from the one that trained."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    trained_with, serving_with = training_differences(created_by, here)
    if trained_with:
        logs.emit(
            {
                "level": "WARNING",
                "msg": "model_trained_elsewhere",
                "detail": "text is tokenised with this interpreter's Unicode tables; "
                "characters new in one version may split differently",
                "trained_with": trained_with,
                "serving_with": serving_with,
            }
        )
