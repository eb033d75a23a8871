"""A learnable model file and the files it can become: (export, set of reports) -> bytes.

The learned file is the export's file with the classifier's arrays recomputed from the
export's counts plus one ``partial_fit`` batch of the learned reports in ascending id
order, and the learned ids recorded. Nothing else changes, so learning the empty set
gives the export back byte for byte, and a set gives the same bytes however it was
reached: in any order, repeated, or by forgetting reports from a larger set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np

from runtime.families.counts import classifier_arrays
from runtime.learning.counts import add_batch_counts, binarized
from runtime.model import Model
from runtime.modelfile import (
    CHECKSUM_KEY,
    LEARNING,
    LEARNING_REPORTS,
    LearningSection,
    ModelError,
    encode_report_ids,
    read_learning,
    read_model_file,
    render_model_file,
    sha256_hex,
)
from runtime.npz import MAX_FILE_BYTES

# Report text featurized at a time: the learned set is counted chunk by chunk, so the
# feature rows in memory stay bounded whatever the set's size.
CHUNK_TEXT_CHARS = 1 << 18


class Learnable(Protocol):
    """What learning reads of a report (runtime/reports.py's ``Report`` has these)."""

    @property
    def report_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def label(self) -> str: ...


R = TypeVar("R", bound=Learnable)


class Learned(NamedTuple):
    data: bytes
    sha256: str
    model: Model
    report_ids: tuple[str, ...]


class LearnableModel:
    """A parsed learnable file: its serving model, its counts, and how to rewrite it."""

    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_FILE_BYTES:
            raise ModelError(f"model file has {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
        self.sha256 = sha256_hex(data)
        file = read_model_file(data)
        self.model = Model(file, self.sha256)
        self.section: LearningSection = read_learning(
            file, self.model.classes, self.model.featurizer.n_features
        )
        self._metadata = file.metadata
        self._arrays = file.raw_arrays()
        n_classes, n_features = len(self.model.classes), self.model.featurizer.n_features
        self.base_class_count = np.frombuffer(self.section.class_count, dtype=np.float64).copy()
        flat = np.zeros(n_classes * n_features)
        positions = np.frombuffer(self.section.feature_index, dtype=np.float64).astype(np.int64)
        flat[positions] = np.frombuffer(self.section.feature_count, dtype=np.float64)
        self.base_feature_count = flat.reshape(n_classes, n_features)
        learned = self.section.learned or {}
        self.base_sha256: str = learned.get("base_sha256", self.sha256)

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnableModel:
        return cls(data)

    @property
    def report_ids(self) -> tuple[str, ...]:
        return self.section.reports

    def label_index(self, label: str) -> int | None:
        """The class a report's label names (JSON labels are strings; integer classes too)."""
        for index, known in enumerate(self.model.classes):
            if label == known or (isinstance(known, int) and label == str(known)):
                return index
        return None

    def counts(self, reports: Sequence[Learnable]) -> tuple[np.ndarray, np.ndarray]:
        """The export's counts after one ``partial_fit`` of ``reports`` in id order."""
        ordered = _canonical(reports)
        if not ordered:
            return self.base_feature_count.copy(), self.base_class_count.copy()
        n_classes, n_features = self.base_feature_count.shape
        batch_feature = np.zeros(n_classes * n_features)
        batch_class = np.zeros(n_classes, dtype=np.int64)
        for chunk in chunks(ordered):
            labels = np.array([self._index(r.label) for r in chunk], dtype=np.int64)
            rows = binarized(
                self.model.transform([r.text for r in chunk]), self.section.settings["binarize"]
            )
            add_batch_counts(batch_feature, batch_class, rows, labels)
        feature_count = self.base_feature_count.copy()
        feature_count += batch_feature.reshape(n_classes, n_features)
        class_count = self.base_class_count.copy()
        class_count += batch_class.astype(np.float64)
        return feature_count, class_count

    def relearn(self, reports: Sequence[Learnable]) -> Learned:
        """The file that learned exactly ``reports`` (a set: order and repeats do not count)."""
        ordered = _canonical(reports)
        feature_count, class_count = self.counts(ordered)
        arrays = dict(self._arrays)
        for name, array in classifier_arrays(
            self.section.settings, feature_count, class_count
        ).items():
            if not np.isfinite(array).all():
                raise ModelError(f"learning made {name} NaN or infinite")
            arrays[name] = ("<f8", array.shape, array.tobytes())
        metadata: dict[str, Any] = {k: v for k, v in self._metadata.items() if k != CHECKSUM_KEY}
        section = {k: v for k, v in metadata[LEARNING].items() if k != "learned"}
        arrays.pop(LEARNING_REPORTS, None)
        ids = tuple(r.report_id for r in ordered)
        if ids:
            learned_classes = class_count - self.base_class_count
            section["learned"] = {
                "base_sha256": self.base_sha256,
                "reports": len(ids),
                "class_count": dict(
                    zip(map(str, self.model.classes), learned_classes.tolist(), strict=True)
                ),
            }
            blob = encode_report_ids(list(ids))
            arrays[LEARNING_REPORTS] = ("|u1", (len(blob),), blob)
        metadata[LEARNING] = section
        data = render_model_file(metadata, arrays)
        sha256 = sha256_hex(data)
        return Learned(data, sha256, Model.from_bytes(data, sha256=sha256), ids)

    def _index(self, label: str) -> int:
        index = self.label_index(label)
        if index is None:
            raise ValueError(f"label {label!r:.40} is not one of the model's classes")
        return index


def chunks(reports: Sequence[R]) -> Iterable[list[R]]:
    """Consecutive runs of ``reports`` with at most CHUNK_TEXT_CHARS of text (or one report):
    featurizing a run at a time bounds the rows in memory (dense text costs ~100 bytes
    of rows and token lists per character)."""
    chunk: list[R] = []
    size = 0
    for report in reports:
        if chunk and size + len(report.text) > CHUNK_TEXT_CHARS:
            yield chunk
            chunk, size = [], 0
        chunk.append(report)
        size += len(report.text)
    if chunk:
        yield chunk


def _canonical(reports: Iterable[Learnable]) -> list[Learnable]:
    """One report per id, ascending: the order that makes learning a function of the set."""
    unique = {r.report_id: r for r in reports}
    return [unique[i] for i in sorted(unique)]
