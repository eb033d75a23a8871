"""``export_pipeline``: a fitted scikit-learn text classifier -> a checked model file.

    from exporter import export_pipeline
    export_pipeline(pipeline, "model.npz")            # a fitted Pipeline
    export_pipeline((vectorizer, gaussian_nb), "model.npz")  # GaussianNB needs dense input

Reading the model ("read": ``exporter/features.py``, ``exporter/families.py``) is kept
apart from writing it ("emit": ``runtime.modelfile.render_model_file``). Before anything
is written, the runtime loads the rendered bytes and is compared with the fitted model
on the texts given (or a built-in probe set): identical labels and feature rows, and
the family's scores equal to scikit-learn's.
"""

from __future__ import annotations

import hashlib
import os
import platform
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from exporter.errors import ExportParityError, UnsupportedModelError
from exporter.families import ClassifierParts, extract_classifier, family_of
from exporter.features import BlockParts, check_exact_type, feature_blocks, log_table
from exporter.normalize import fold_table
from exporter.probe import PROBE_TEXTS
from runtime.features import FOLD_TABLE, LOG_TABLE
from runtime.model import Model
from runtime.modelfile import MAX_JSON_INTEGER, render_model_file
from runtime.normalize import encode_fold_table


class Exported(NamedTuple):
    data: bytes
    sha256: str
    model: Model

    def __repr__(self) -> str:  # the file's bytes would fill a screen
        return f"Exported(sha256={self.sha256!r}, bytes={len(self.data)}, family=" + (
            f"{self.model.family_name!r}, classes={list(self.model.classes)!r})"
        )


def split_pipeline(model: Any) -> tuple[list[Any], Any]:
    """(feature steps, classifier) of a Pipeline or a (vectorizer, classifier) pair."""
    if isinstance(model, Pipeline):
        check_exact_type(model, "Pipeline")
        steps = _flatten(model)
        if any(step is None or step == "passthrough" for step in steps):
            raise UnsupportedModelError("Pipeline: 'passthrough' steps are not supported")
    elif isinstance(model, tuple | list) and len(model) == 2:
        features, classifier = model
        # The pair's features may themselves be a chain (CountVectorizer + TfidfTransformer).
        if isinstance(features, Pipeline):
            check_exact_type(features, "Pipeline")
        chain = _flatten(features) if isinstance(features, Pipeline) else [features]
        steps = [*chain, classifier]
    else:
        raise UnsupportedModelError(
            "expected a fitted Pipeline (feature steps, then a classifier) or a "
            f"(vectorizer, classifier) pair, got {type(model).__name__}"
        )
    if len(steps) < 2:
        raise UnsupportedModelError("the pipeline needs feature steps and a classifier")
    return steps[:-1], steps[-1]


def _flatten(pipeline: Pipeline) -> list[Any]:
    """A Pipeline's steps, with nested Pipelines (``make_pipeline(make_pipeline(...))``) inlined."""
    steps: list[Any] = []
    for _, step in pipeline.steps:
        if isinstance(step, Pipeline):
            check_exact_type(step, "Pipeline")
        steps.extend(_flatten(step) if isinstance(step, Pipeline) else [step])
    return steps


def export_pipeline(
    model: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    texts: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    learnable: bool = False,
    golden: tuple[Sequence[str], Sequence[Any]] | None = None,
) -> Exported:
    """Check, render and (if ``path``) atomically write the model file.

    ``learnable`` adds what the runtime's learner needs (exporter/learnable.py), with
    ``golden`` (texts, labels), held-out messages its gate scores models on.
    Raises UnsupportedModelError naming the step and option the runtime cannot
    reproduce, or ExportParityError if the loaded file disagrees with ``model``.
    """
    feature_steps, classifier = split_pipeline(model)
    blocks = feature_blocks(feature_steps)
    parts = extract_classifier(classifier)
    n_features = sum(b.block.n_features for b in blocks)
    fitted_on = getattr(classifier, "n_features_in_", n_features)
    if fitted_on != n_features:
        raise UnsupportedModelError(
            f"{type(classifier).__name__} was fitted on {fitted_on} features, "
            f"the feature steps make {n_features}"
        )
    extra: dict[str, Any] = dict(metadata or {})
    extra_arrays: dict[str, np.ndarray] = {}
    if learnable:
        from exporter.learnable import learning_section

        section, extra_arrays = learning_section(classifier, golden)
        extra.update(section)
    data = render(blocks, parts, _classes(classifier), extra, extra_arrays)
    if learnable:
        from exporter.learnable import check_relearnable

        check_relearnable(data)
    sha256 = hashlib.sha256(data).hexdigest()
    loaded = Model.from_bytes(data)
    check_parity(model, loaded, list(PROBE_TEXTS if texts is None else texts))
    if path is not None:
        save(data, Path(path))
    return Exported(data, sha256, loaded)


def render(
    blocks: list[BlockParts],
    parts: ClassifierParts,
    classes: list[str | int],
    extra: dict[str, Any],
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> bytes:
    arrays: dict[str, np.ndarray] = {**parts.arrays, **(extra_arrays or {})}
    for index, (block, vocabulary, idf) in enumerate(blocks):
        if vocabulary is not None:
            assert block.separator is not None
            blob = block.separator.join(vocabulary).encode("utf-8", "surrogatepass")
            arrays[block.vocabulary_array(index)] = np.frombuffer(blob, dtype=np.uint8)
        if idf is not None:
            arrays[block.idf_array(index)] = idf
    if any("sublinear_tf" in b.block.steps for b in blocks):
        arrays[LOG_TABLE] = log_table()
    if any(b.block.analyzer.preprocessor is not None for b in blocks):
        blob = encode_fold_table(fold_table())  # this interpreter's Unicode, for every runtime
        arrays[FOLD_TABLE] = np.frombuffer(blob, dtype=np.uint8)
    metadata = {
        "created_by": {
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "unicode": unicodedata.unidata_version,
        },
        **extra,
        "classes": classes,
        "n_features": sum(b.block.n_features for b in blocks),
        "features": [b.block.to_json() for b in blocks],
        "classifier": parts.spec,
    }
    return render_model_file(metadata, {name: _raw(array) for name, array in arrays.items()})


def _raw(array: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    if array.dtype == np.uint8:
        return "|u1", array.shape, array.tobytes()
    contiguous = np.ascontiguousarray(array, dtype="<f8")
    return "<f8", contiguous.shape, contiguous.tobytes()


def _classes(classifier: Any) -> list[str | int]:
    classes: list[str | int] = classifier.classes_.tolist()
    name = type(classifier).__name__
    if all(isinstance(c, str) for c in classes):
        for index, label in enumerate(classes):
            try:
                str(label).encode("utf-8")
            except UnicodeEncodeError:
                raise UnsupportedModelError(
                    f"{name}: class label {index} is not valid Unicode text (a lone "
                    "surrogate): JSON cannot carry it to clients"
                ) from None
        return classes
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        for label in classes:
            if abs(int(label)) > MAX_JSON_INTEGER:
                raise UnsupportedModelError(
                    f"{name}: class label {label} is beyond 2**53: clients that read JSON "
                    "numbers as doubles could not tell it from its neighbours; use string labels"
                )
        return classes
    raise UnsupportedModelError(
        f"{type(classifier).__name__}: class labels must be all strings or all integers "
        f"(answered as JSON strings or numbers), got {classifier.classes_.dtype}"
    )


def sklearn_outputs(
    model: Any, texts: Sequence[str]
) -> tuple[Any, dict[str, np.ndarray], list[Any]]:
    """(feature matrix, {method: output}, labels) from the fitted scikit-learn model."""
    feature_steps, classifier = split_pipeline(model)
    features: Any = list(texts)
    for step in feature_steps:
        features = step.transform(features)
    fed = features.toarray() if family_of(classifier).family.dense_input else features
    outputs = {}
    for method in ("decision_function", "predict_joint_log_proba", "predict_proba"):
        if hasattr(classifier, method):
            outputs[method] = getattr(classifier, method)(fed)
    return features, outputs, classifier.predict(fed).tolist()


def check_parity(model: Any, loaded: Model, texts: list[str]) -> None:
    """Raise ExportParityError at the first way ``loaded`` differs from ``model``.

    Both runtime paths are compared with scikit-learn: the plain-Python one every single
    message takes and the NumPy one of batches, each with its own feature rows. Scores and
    probabilities are compared as the loaded family declares (``scores_rtol`` of its
    ``parity_scale``, ``proba_atol``): bit for bit, or within the bound the README documents.
    """
    if not texts:
        return
    features, expected, labels = sklearn_outputs(model, texts)
    rows = loaded.transform(texts)
    if not (
        np.array_equal(rows.indptr, features.indptr)
        and np.array_equal(rows.indices, features.indices)
        and np.array_equal(rows.data, features.data)
    ):
        raise ExportParityError("feature rows (NumPy path) differ from the pipeline's")
    for i, text in enumerate(texts):
        columns, values = loaded.transform_one(text)
        row = slice(features.indptr[i], features.indptr[i + 1])
        if columns != features.indices[row].tolist() or values != features.data[row].tolist():
            raise ExportParityError("feature rows (plain-Python path) differ from the pipeline's")
    family = loaded.family
    for vectorise in (False, True):
        path = "NumPy" if vectorise else "plain-Python"
        got_labels = loaded.predict(texts, vectorise=vectorise)
        if got_labels != labels:
            bad = sum(a != b for a, b in zip(got_labels, labels, strict=True))
            raise ExportParityError(
                f"{bad} of {len(texts)} labels ({path} path) differ from scikit-learn's"
            )
        scores = getattr(loaded, family.score_method)(texts, vectorise=vectorise)
        for method, want in expected.items():
            got = scores if method == family.score_method else None
            if got is None:
                got = getattr(loaded, method)(texts, vectorise=vectorise)
            if got.shape != want.shape:
                raise ExportParityError(f"{method} ({path} path) has shape {got.shape}")
            if method == "predict_proba":
                tolerance = family.proba_atol(scores)
                if not np.all(np.abs(got - want) <= tolerance):
                    raise ExportParityError(
                        f"{method} ({path} path) differs from scikit-learn's beyond {tolerance:.3g}"
                    )
            elif not within_rtol(got, want, family.scores_rtol, family.parity_scale(scores)):
                raise ExportParityError(f"{method} ({path} path) differs from scikit-learn's")


def within_rtol(got: np.ndarray, want: np.ndarray, rtol: float, scale: np.ndarray) -> bool:
    """Bit for bit when ``rtol`` is 0; else within ``rtol`` of each row's ``scale``."""
    if rtol == 0.0:
        return bool(np.array_equal(got, want))
    bound = rtol * scale.reshape((len(scale),) + (1,) * (want.ndim - 1))
    return bool(np.all(np.abs(got - want) <= bound))


def save(data: bytes, path: Path) -> None:
    """Replace ``path`` atomically, so a reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
